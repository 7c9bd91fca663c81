"""Laser speckle through scattering media: random phase-screen diffusers and speckled images.

A diffuser is one or more thin random phase screens: white noise low-passed by a Gaussian whose
σ is the correlation length, scaled to an rms phase (rad). Kinds: "tape" (one screen), "petri"
(the dish bottom's two surfaces, crossed in turn with the bottom's thickness between them: light
is scattered twice) and "tissue" (several screens with propagation between them, the rms phase
shared between the layers). Lengths in µm; fields U = √I·exp(iφ) on periodic grids (screens
wrap, tilts sit on FFT bins), so propagation needs no padding.

Acquisition (DespeckleNet's set-up): a tilted laser plane wave crosses the diffuser, propagates
`distance_um` to the specimen, is multiplied by its transmittance and imaged through a coherent
objective of aperture `na`, in focus or with the camera conjugate to a plane `defocus_um` beyond
the specimen (positive: downstream). In focus a transparent specimen is all but invisible; defocus
turns its phase into intensity (I ≈ 1 − λz/(2π)·∇²φ for a weak phase under a plane wave, the TIE).
Speckle grain in the image is ≈ max(λ/(2·NA), the diffuser's own grain ℓ/σ_φ at short distances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from qpi.optics.propagation import angular_spectrum, frequencies, transfer_function

DIFFUSERS = ("tape", "petri", "tissue")


def phase_screen(
    shape: tuple[int, int], correlation_px: float, rms_rad: float, rng: np.random.Generator
) -> np.ndarray:
    """A periodic random phase screen (rad): Gaussian-filtered white noise (σ = `correlation_px`)
    with zero mean and standard deviation `rms_rad`."""
    screen = ndimage.gaussian_filter(rng.standard_normal(shape), correlation_px, mode="wrap")
    screen -= screen.mean()
    return screen * (rms_rad / max(screen.std(), 1e-12))


@dataclass(frozen=True)
class Diffuser:
    """Phase screens (rad) crossed in order, with the propagation distance (µm) after each but the last."""

    screens: tuple[np.ndarray, ...]
    gaps_um: tuple[float, ...]


def make_diffuser(
    kind: str,
    shape: tuple[int, int],
    pixel_um: float,
    correlation_um: float,
    rms_rad: float,
    rng: np.random.Generator,
    thickness_um: float = 20.0,
    layers: int = 4,
) -> Diffuser:
    """A fresh diffuser of `kind` ("tape" | "petri" | "tissue"); `thickness_um` separates the dish's
    two surfaces or spans the tissue's `layers` screens (each of rms `rms_rad`/√layers)."""
    sigma = correlation_um / pixel_um
    if kind == "tape":
        return Diffuser((phase_screen(shape, sigma, rms_rad, rng),), ())
    if kind == "petri":
        return Diffuser(tuple(phase_screen(shape, sigma, rms_rad, rng) for _ in range(2)), (thickness_um,))
    if kind == "tissue":
        screens = tuple(phase_screen(shape, sigma, rms_rad / np.sqrt(layers), rng) for _ in range(layers))
        return Diffuser(screens, (thickness_um / (layers - 1),) * (layers - 1))
    raise ValueError(f"unknown diffuser kind {kind!r}; choose one of: {', '.join(DIFFUSERS)}")


def transmit(field: np.ndarray, diffuser: Diffuser, wavelength_um: float, pixel_um: float) -> np.ndarray:
    """The field just after the last screen of `diffuser`."""
    for i, screen in enumerate(diffuser.screens):
        field = field * np.exp(1j * screen)
        if i < len(diffuser.gaps_um):
            field = angular_spectrum(field, diffuser.gaps_um[i], wavelength_um, pixel_um, pad=1.0)
    return field


def plane_wave(
    shape: tuple[int, int], pixel_um: float, wavelength_um: float, angle_deg: float, azimuth_rad: float,
    intensity: float = 1.0,
) -> np.ndarray:
    """A plane wave of `intensity` tilted by `angle_deg` from the axis towards `azimuth_rad`; its
    transverse frequency is rounded to the nearest FFT bin so that it stays periodic."""
    f = np.sin(np.deg2rad(angle_deg)) / wavelength_um
    period = np.array(shape) * pixel_um
    fy, fx = np.round(f * np.array([np.sin(azimuth_rad), np.cos(azimuth_rad)]) * period) / period
    y = np.arange(shape[0])[:, None] * pixel_um
    x = np.arange(shape[1])[None, :] * pixel_um
    return np.sqrt(intensity) * np.exp(2j * np.pi * (fy * y + fx * x))


def coherent_image(
    field: np.ndarray, pixel_um: float, na: float, wavelength_um: float, defocus_um: float = 0.0
) -> np.ndarray:
    """Intensity of a field imaged through a coherent objective (pupil |f| ≤ NA/λ), focused
    `defocus_um` beyond the field's plane. The grid is periodic, like the fields, so the defocus
    is the angular-spectrum kernel applied in the pupil without padding."""
    fy, fx = frequencies(field.shape, pixel_um)
    pupil = fy**2 + fx**2 <= (na / wavelength_um) ** 2
    if defocus_um:
        pupil = pupil * transfer_function(field.shape, pixel_um, defocus_um, wavelength_um)
    return np.abs(np.fft.ifft2(np.fft.fft2(field) * pupil)) ** 2


def speckle_image(
    transmittance: np.ndarray,
    diffuser: Diffuser,
    illumination: np.ndarray,
    distance_um: float,
    wavelength_um: float,
    pixel_um: float,
    na: float,
    defocus_um: float = 0.0,
) -> np.ndarray:
    """The speckled intensity of a specimen lit by `illumination` through `diffuser` placed
    `distance_um` before it (relative to a unit-intensity laser), `defocus_um` out of focus."""
    field = transmit(illumination, diffuser, wavelength_um, pixel_um)
    field = angular_spectrum(field, distance_um, wavelength_um, pixel_um, pad=1.0)
    return coherent_image(field * transmittance, pixel_um, na, wavelength_um, defocus_um)


def contrast(intensity: np.ndarray) -> float:
    """Speckle contrast std/mean (1 for fully developed speckle)."""
    return float(np.std(intensity) / np.mean(intensity))


def grain_px(intensity: np.ndarray) -> float:
    """Speckle grain size (pixels): the width at half height of the intensity autocovariance,
    averaged over the two axes."""
    d = intensity - intensity.mean()
    acf = np.fft.ifft2(np.abs(np.fft.fft2(d)) ** 2).real
    acf /= acf[0, 0]
    widths = []
    for profile in (acf[0, : acf.shape[1] // 2], acf[: acf.shape[0] // 2, 0]):
        below = np.flatnonzero(profile < 0.5)
        k = below[0]  # linear interpolation of the half-height crossing between k−1 and k
        widths.append(2 * (k - 1 + (profile[k - 1] - 0.5) / (profile[k - 1] - profile[k])))
    return float(np.mean(widths))
