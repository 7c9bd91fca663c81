"""Partially coherent (Abbe) bright-field imaging through an objective, and the camera.

The specimen is a thin transmittance t = A·exp(iφ) sampled on an oversampled simulation grid.
The Abbe image sums the coherent images of tilted plane waves from the condenser aperture:
I_z = Σ_s |F⁻¹{T(f − f_s)·P(f)·H(f; z)}|² / N_s over source points |f_s| ≤ S·NA/λ.
Source points sit on the padded FFT grid, so T(f − f_s) is an exact roll of one spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from .binning import bin_pixels
from .propagation import frequencies, pad_amount, transfer_function


@dataclass(frozen=True)
class Microscope:
    """Objective, condenser and camera geometry (lengths in µm)."""

    wavelength_um: float = 0.55
    na: float = 0.65
    magnification: float = 40.0
    camera_pixel_um: float = 6.5
    coherence: float = 0.3  # S = NA_condenser / NA_objective
    medium_index: float = 1.0
    oversample: int = 2  # simulation grid points per camera pixel (per axis)
    source_step: float = 0.1  # minimum spacing of source points, in units of NA/λ
    pad: float = 1.5  # FFT grid growth against wrap-around

    @property
    def pixel_um(self) -> float:
        """Camera pixel size projected into the sample plane."""
        return self.camera_pixel_um / self.magnification

    @property
    def sim_pixel_um(self) -> float:
        return self.pixel_um / self.oversample


@dataclass(frozen=True)
class Camera:
    """Sensor model: photon shot noise, read noise, quantisation, illumination and exposure drifts."""

    bit_depth: int = 12
    photons: float = 4000.0  # photo-electrons per pixel at unit (empty-field) intensity
    read_noise_e: float = 3.0
    level: float = 0.35  # fraction of the ADC range reached by unit intensity
    illumination_nonuniformity: float = 0.15  # peak-to-valley of the smooth illumination profile
    exposure_jitter: float = 0.05  # relative std of per-plane exposure gains

    def adu_per_electron(self) -> float:
        return self.level * (2**self.bit_depth - 1) / self.photons


def source_points(
    shape: tuple[int, int], pixel_um: float, na: float, wavelength_um: float, coherence: float, step: float
) -> np.ndarray:
    """Integer FFT-bin offsets (dy, dx) of the sub-sampled condenser source disc, (N, 2).

    Points are spaced by whole bins, at least `step`·NA/λ apart; S = 0 gives the single
    on-axis point (coherent imaging). A step that is not below S would leave the disc only its
    centre, imaging a partially coherent source coherently, so it is halved to S/2 there.
    """
    if 0 < coherence <= step:
        step = coherence / 2
    radius = coherence * na / wavelength_um
    df = 1.0 / (np.array(shape) * pixel_um)
    spacing = np.maximum(1, np.ceil(step * na / wavelength_um / df)).astype(int)
    reach = np.floor(radius / (spacing * df)).astype(int)
    iy, ix = np.meshgrid(np.arange(-reach[0], reach[0] + 1), np.arange(-reach[1], reach[1] + 1), indexing="ij")
    fy, fx = iy * spacing[0] * df[0], ix * spacing[1] * df[1]
    inside = fy**2 + fx**2 <= radius**2 * (1 + 1e-9)
    return np.stack([iy[inside] * spacing[0], ix[inside] * spacing[1]], axis=1)


def image_stack(
    transmittance: np.ndarray,
    z_um: np.ndarray,
    scope: Microscope,
    pixel_um: float | None = None,
    workers: int = 1,
) -> np.ndarray:
    """Abbe partially coherent through-focus intensities (Z, Y, X) of a thin specimen.

    Intensity is relative to the empty field (an empty field images to 1 at every z).
    """
    pixel_um = scope.sim_pixel_um if pixel_um is None else pixel_um
    py, px = pad_amount(transmittance.shape, scope.pad)
    padded = np.pad(transmittance, ((py, py), (px, px)), mode="reflect")
    shape = padded.shape
    spectrum = fft.fft2(padded, workers=workers)
    fy, fx = frequencies(shape, pixel_um)
    pupil = (fy**2 + fx**2) <= (scope.na / scope.wavelength_um) ** 2
    kernels = [
        pupil * transfer_function(shape, pixel_um, z, scope.wavelength_um, scope.medium_index) for z in z_um
    ]
    points = source_points(shape, pixel_um, scope.na, scope.wavelength_um, scope.coherence, scope.source_step)
    crop = (slice(py, py + transmittance.shape[0]), slice(px, px + transmittance.shape[1]))
    out = np.zeros((len(z_um),) + transmittance.shape)
    for dy, dx in points:
        tilted = np.roll(spectrum, (dy, dx), axis=(0, 1))
        for i, kernel in enumerate(kernels):
            out[i] += np.abs(fft.ifft2(tilted * kernel, workers=workers)[crop]) ** 2
    return out / len(points)


def illumination_profile(shape: tuple[int, int], nonuniformity: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth illumination field (vignetting around a random centre plus a tilt), mean 1."""
    y, x = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    cy, cx = rng.uniform(-0.4, 0.4, 2)
    angle = rng.uniform(0, 2 * np.pi)
    profile = -((y - cy) ** 2 + (x - cx) ** 2) + 0.5 * (np.cos(angle) * x + np.sin(angle) * y)
    profile = (profile - profile.min()) / max(np.ptp(profile), 1e-12)
    profile = 1 - nonuniformity + nonuniformity * profile
    return profile / profile.mean()


def expose(
    intensity: np.ndarray, camera: Camera, rng: np.random.Generator, oversample: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record intensities (Z, Y, X) on the camera → (uint16 counts, illumination, per-plane gains).

    Pixels integrate `oversample`² simulation points; the smooth illumination and per-plane
    exposure gains multiply the signal before shot and read noise and quantisation.
    """
    signal = bin_pixels(intensity, oversample)
    illumination = illumination_profile(signal.shape[-2:], camera.illumination_nonuniformity, rng)
    gains = 1 + camera.exposure_jitter * rng.standard_normal(signal.shape[0])
    signal = signal * illumination * gains[:, None, None]
    electrons = rng.poisson(np.clip(signal, 0, None) * camera.photons).astype(np.float64)
    electrons += camera.read_noise_e * rng.standard_normal(electrons.shape)
    counts = np.clip(np.round(electrons * camera.adu_per_electron()), 0, 2**camera.bit_depth - 1)
    return counts.astype(np.uint16), illumination.astype(np.float32), gains.astype(np.float32)
