"""Partially coherent (Abbe) bright-field imaging through an objective, and the camera.

The specimen is a thin transmittance t = A·exp(iφ) sampled on an oversampled simulation grid.
The Abbe image sums the coherent images of tilted plane waves from the condenser aperture:
I_z = Σ_s |F⁻¹{T(f − f_s)·P(f)·H(f; z)}|² / N_s over source points |f_s| ≤ S·NA/λ.
Source points sit on the padded FFT grid, so T(f − f_s) is an exact roll of one spectrum.

A field stop (Köhler illumination images the field diaphragm onto the sample) bounds the
illuminated field: the transmittance is multiplied by the aperture before the objective and the
defocus, so the aperture edge is sharp in focus and blurred in the defocused planes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from qpi.optics.binning import bin_pixels
from qpi.optics.propagation import frequencies, pad_amount, transfer_function

FIELD_STOPS = ("circle", "octagon", "polygon")


@dataclass(frozen=True)
class Microscope:
    """Objective, condenser and camera geometry (lengths in µm).

    `field_stop`: None (the whole frame is lit), "circle", "octagon" or "polygon" (regular, with
    `field_stop_sides` sides): the illuminated aperture in the sample plane, centred on the field,
    `field_stop_fraction` of the field's smaller side across (a polygon's flat-to-flat width);
    no light passes outside it. See `field_stop_mask`.

    `defocus_sign`: +1 or −1, the direction of the written z axis. A plane written at `z` is the
    in-focus field propagated by the physical distance `defocus_sign·z`, physical +z pointing
    downstream along the light (the kernel exp(+i·2π·z·√(n²/λ² − |f|²)) of `propagation`). With
    −1 the stage/camera axis points against the light: a stack written at z = [0, +2] holds the
    planes a +1 set-up writes at z = [0, −2]. The Stack's `z_um` carries the written z, as a
    real set-up's file would, so a TIE that assumes +1 gets the phase's sign wrong on such data.
    """

    wavelength_um: float = 0.55
    na: float = 0.65
    magnification: float = 40.0
    camera_pixel_um: float = 6.5
    coherence: float = 0.3  # S = NA_condenser / NA_objective
    medium_index: float = 1.0
    oversample: int = 2  # simulation grid points per camera pixel (per axis)
    source_step: float = 0.1  # minimum spacing of source points, in units of NA/λ
    pad: float = 1.5  # FFT grid growth against wrap-around
    field_stop: str | None = None  # None | "circle" | "octagon" | "polygon"
    field_stop_fraction: float = 0.9  # aperture diameter / the field's smaller side
    field_stop_sides: int = 8  # sides of a "polygon" field stop
    defocus_sign: int = 1  # physical defocus = defocus_sign · written z

    def __post_init__(self):
        if self.field_stop is not None and self.field_stop not in FIELD_STOPS:
            raise ValueError(f"field_stop must be None or one of {FIELD_STOPS}, got {self.field_stop!r}")
        if not self.field_stop_fraction > 0:
            raise ValueError(f"field_stop_fraction must be > 0, got {self.field_stop_fraction}")
        if self.field_stop == "polygon" and self.field_stop_sides < 3:
            raise ValueError(f"a polygon field stop needs at least 3 sides, got {self.field_stop_sides}")
        if self.defocus_sign not in (1, -1):
            raise ValueError(f"defocus_sign must be +1 or -1, got {self.defocus_sign}")

    @property
    def pixel_um(self) -> float:
        """Camera pixel size projected into the sample plane."""
        return self.camera_pixel_um / self.magnification

    @property
    def sim_pixel_um(self) -> float:
        return self.pixel_um / self.oversample

    @property
    def field_stop_info(self) -> dict | None:
        """The field stop as `field_stop_mask` keywords (None without one): what a Stack records."""
        if self.field_stop is None:
            return None
        sides = 8 if self.field_stop == "octagon" else self.field_stop_sides
        return {"kind": self.field_stop, "fraction": float(self.field_stop_fraction), "sides": int(sides)}


@dataclass(frozen=True)
class Camera:
    """Sensor model: photon shot noise, read noise, quantisation, illumination and exposure drifts."""

    bit_depth: int = 12
    photons: float = 4000.0  # photo-electrons per pixel at unit (empty-field) intensity
    read_noise_e: float = 3.0
    level: float | None = None  # fraction of the ADC range reached by unit intensity (None: by bit depth)
    illumination_nonuniformity: float = 0.15  # peak-to-valley of the smooth illumination profile
    exposure_jitter: float = 0.05  # relative std of per-plane exposure gains

    @property
    def exposure_level(self) -> float:
        """Fraction of the ADC range that unit intensity reaches: `level`, or by default 0.35 above
        8 bits (headroom for defocus fringes) and 0.5 on an 8-bit camera: the brightest exposure
        that leaves a defocused HeLa field unclipped (at 0.7, 0.26 % of its pixels clip and its TIE
        phase is 0.46 rad off, against 0.09 rad)."""
        if self.level is not None:
            return self.level
        return 0.5 if self.bit_depth <= 8 else 0.35

    @property
    def dtype(self) -> type:
        """The smallest unsigned integer type that holds the counts: uint8 up to 8 bits, else uint16."""
        return np.uint8 if self.bit_depth <= 8 else np.uint16

    def adu_per_electron(self) -> float:
        return self.exposure_level * (2**self.bit_depth - 1) / self.photons


def field_stop_mask(
    shape: tuple[int, int], kind: str | None, fraction: float = 0.9, sides: int = 8
) -> np.ndarray:
    """Bool aperture (True = lit) of a centred field stop on a grid of `shape`.

    Pixel centres are measured from the grid centre in units of the smaller side, so the same
    keywords give the same aperture on the simulation grid and on the camera grid it bins to.
    "circle": diameter `fraction`; "polygon": regular with `sides` sides, flat-to-flat width
    `fraction`, one flat facing +x (for 8 sides, flats face the frame edges), area
    sides·a²·tan(π/sides) with apothem a = fraction/2; "octagon" is the 8-sided polygon.
    None: no field stop, all True.
    """
    if kind is None:
        return np.ones(shape, dtype=bool)
    side = min(shape)
    y = (np.arange(shape[0]) + 0.5 - shape[0] / 2)[:, None] / side
    x = (np.arange(shape[1]) + 0.5 - shape[1] / 2)[None, :] / side
    half = fraction / 2
    if kind == "circle":
        return x**2 + y**2 <= half**2
    if kind not in ("octagon", "polygon"):
        raise ValueError(f"field stop kind must be None or one of {FIELD_STOPS}, got {kind!r}")
    n = 8 if kind == "octagon" else int(sides)
    if n < 3:
        raise ValueError(f"a polygon field stop needs at least 3 sides, got {n}")
    inside = np.ones(shape, dtype=bool)
    for theta in 2 * np.pi * np.arange(n) / n:
        inside &= x * np.cos(theta) + y * np.sin(theta) <= half
    return inside


def camera_aperture(scope: Microscope, shape: int | tuple[int, int]) -> np.ndarray:
    """The field stop of `scope` on the camera grid (`shape`, or `shape`² camera pixels), bool.

    The mask to score inside: pixel centres inside the aperture (all True without a field stop).
    The same mask follows from a recorded stack: `field_stop_mask(stack.data.shape[1:],
    **stack.extra["field_stop"])`.
    """
    shape = (shape, shape) if np.isscalar(shape) else tuple(shape)
    info = scope.field_stop_info
    return field_stop_mask(shape, None) if info is None else field_stop_mask(shape, **info)


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

    Intensity is relative to the empty field (an empty field images to 1 at every z). Planes sit
    at the written `z_um`, physically at `scope.defocus_sign`·z. Without a field stop the
    specimen continues by reflection beyond the grid; with one it is multiplied by the aperture
    (`field_stop_mask` on this grid) and the dark surround is padded with zeros.
    """
    pixel_um = scope.sim_pixel_um if pixel_um is None else pixel_um
    z_um = scope.defocus_sign * np.asarray(z_um, dtype=float)
    info = scope.field_stop_info
    if info is not None:
        transmittance = transmittance * field_stop_mask(transmittance.shape, **info)
    py, px = pad_amount(transmittance.shape, scope.pad)
    padded = np.pad(transmittance, ((py, py), (px, px)), mode="reflect" if info is None else "constant")
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


def camera_intensity(transmittance: np.ndarray, z_um: np.ndarray, scope: Microscope, workers: int = 1) -> np.ndarray:
    """`image_stack` integrated over the camera pixels (Z, H, W): the noiseless intensities, relative to
    the empty field, that every family's acquisition starts from."""
    return bin_pixels(image_stack(transmittance, z_um, scope, workers=workers), scope.oversample)


def shot_noise(intensity: np.ndarray, photons: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson (shot) noise of `photons` photo-electrons per pixel at unit intensity, in the same units."""
    return rng.poisson(np.clip(intensity, 0, None) * photons) / photons


def expose(
    intensity: np.ndarray, camera: Camera, rng: np.random.Generator, oversample: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record intensities (Z, Y, X) on the camera → (counts, illumination, per-plane gains).

    Pixels integrate `oversample`² simulation points; the smooth illumination and per-plane
    exposure gains multiply the signal before shot and read noise and quantisation. Counts are
    0…2^bit_depth − 1 in `camera.dtype` (uint8 for an 8-bit camera, else uint16); dark pixels
    (outside a field stop) keep their read noise, clipped at 0 like a real ADC.
    """
    signal = bin_pixels(intensity, oversample)
    illumination = illumination_profile(signal.shape[-2:], camera.illumination_nonuniformity, rng)
    gains = 1 + camera.exposure_jitter * rng.standard_normal(signal.shape[0])
    signal = signal * illumination * gains[:, None, None]
    electrons = rng.poisson(np.clip(signal, 0, None) * camera.photons).astype(np.float64)
    electrons += camera.read_noise_e * rng.standard_normal(electrons.shape)
    counts = np.clip(np.round(electrons * camera.adu_per_electron()), 0, 2**camera.bit_depth - 1)
    return counts.astype(camera.dtype), illumination.astype(np.float32), gains.astype(np.float32)
