"""Scalar angular-spectrum propagation. Lengths in µm; field U = √I·exp(iφ).

Kernel convention: H(f; z) = exp(+i·2π·z·√(n²/λ² − |f|²)); evanescent components are dropped.
"""

from __future__ import annotations

import numpy as np


def frequencies(shape: tuple[int, int], pixel_um: float) -> tuple[np.ndarray, np.ndarray]:
    """Spatial frequencies (fy, fx) in µm⁻¹ of an FFT grid, broadcastable to `shape`."""
    fy = np.fft.fftfreq(shape[0], d=pixel_um)[:, None]
    fx = np.fft.fftfreq(shape[1], d=pixel_um)[None, :]
    return fy, fx


def transfer_function(
    shape: tuple[int, int],
    pixel_um: float,
    z_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    band_limit: bool = True,
) -> np.ndarray:
    """Angular-spectrum transfer function H(f; z) on an FFT grid of `shape` (complex128).

    With `band_limit`, frequencies whose kernel would alias on this grid are cut
    (Matsushima & Shimobaba 2009): |f| ≤ 1/(λ'·√((2·Δf·z)² + 1)) per axis, λ' = λ/n.
    """
    fy, fx = frequencies(shape, pixel_um)
    arg = (medium_index / wavelength_um) ** 2 - fx**2 - fy**2
    propagating = arg > 0
    h = np.exp(2j * np.pi * z_um * np.sqrt(np.clip(arg, 0, None))) * propagating
    if band_limit and z_um != 0:
        lam = wavelength_um / medium_index
        for f, n in ((fy, shape[0]), (fx, shape[1])):
            df = 1.0 / (n * pixel_um)
            h = h * (np.abs(f) <= 1.0 / (lam * np.sqrt((2 * df * z_um) ** 2 + 1)))
    return h


def pad_amount(shape: tuple[int, int], pad: float) -> tuple[int, int]:
    """Pixels added on each side of each axis to grow `shape` by the factor `pad`."""
    return tuple(int(round(n * (pad - 1) / 2)) for n in shape)


def angular_spectrum(
    field: np.ndarray,
    z_um: float,
    wavelength_um: float,
    pixel_um: float,
    medium_index: float = 1.0,
    pad: float = 2.0,
    band_limit: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """Propagate a complex field by `z_um`, padding by `pad` against wrap-around.

    `pad_mode` follows `np.pad`: "constant" (zeros, exact energy bookkeeping for beams)
    or "edge"/"reflect" for objects on an extended background.
    """
    py, px = pad_amount(field.shape, pad)
    padded = np.pad(field, ((py, py), (px, px)), mode=pad_mode)
    h = transfer_function(padded.shape, pixel_um, z_um, wavelength_um, medium_index, band_limit)
    out = np.fft.ifft2(np.fft.fft2(padded) * h)
    return out[py : py + field.shape[0], px : px + field.shape[1]]
