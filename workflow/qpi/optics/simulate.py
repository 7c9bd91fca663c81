"""The virtual microscope end to end: specimen → Abbe through-focus images → camera counts."""

from __future__ import annotations

import numpy as np

from qpi.io import Stack
from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Camera, Microscope, expose, image_stack
from qpi.optics.phantoms import make_phantom


def acquire(
    phase: np.ndarray,
    amplitude: np.ndarray,
    z_um: np.ndarray,
    scope: Microscope,
    camera: Camera,
    rng: np.random.Generator,
    workers: int = 1,
) -> tuple[Stack, np.ndarray, np.ndarray]:
    """Raw stack of a specimen given on the simulation grid, plus its exact phase and amplitude
    integrated over the camera pixels (the truth every later stage is scored against).

    Counts are `camera.dtype` (uint8 for an 8-bit camera, else uint16); `z_um` is any list of
    planes (two, asymmetric, …) and is recorded as written (see `Microscope.defocus_sign`). The
    truth is the specimen's, also outside a field stop. A field stop or a reversed z axis is
    recorded in `stack.extra` ("field_stop": the `field_stop_mask` keywords kind/fraction/sides;
    "defocus_sign": −1), so the camera-grid aperture to score inside is
    `field_stop_mask(stack.data.shape[1:], **stack.extra["field_stop"])`, equal to
    `camera_aperture(scope, stack.data.shape[1:])`."""
    z_um = np.asarray(z_um, dtype=float)
    intensity = image_stack(amplitude * np.exp(1j * phase), z_um, scope, workers=workers)
    counts, _, gains = expose(intensity, camera, rng, scope.oversample)
    extra = {}
    if scope.field_stop is not None:
        extra["field_stop"] = scope.field_stop_info
    if scope.defocus_sign != 1:
        extra["defocus_sign"] = scope.defocus_sign
    stack = Stack(
        data=counts,
        z_um=z_um,
        wavelength_um=scope.wavelength_um,
        pixel_um=scope.pixel_um,
        na=scope.na,
        coherence=scope.coherence,
        magnification=scope.magnification,
        medium_index=scope.medium_index,
        extra={
            "source": "deep-qpi virtual microscope",
            "camera_pixel_um": scope.camera_pixel_um,
            "bit_depth": camera.bit_depth,
            "exposure_gains": [float(g) for g in gains],
            **extra,
        },
    )
    truth_phase = bin_pixels(phase, scope.oversample).astype(np.float32)
    truth_amplitude = bin_pixels(amplitude, scope.oversample).astype(np.float32)
    return stack, truth_phase, truth_amplitude


def simulate_field(
    kind: str,
    seed,
    z_um,
    scope: Microscope,
    camera: Camera,
    field_px: int,
    phantom: dict | None = None,
    workers: int = 1,
) -> tuple[Stack, np.ndarray, np.ndarray]:
    """One field of view of a random `kind` specimen, `field_px` camera pixels wide, through `acquire`.

    The specimen is the first thing drawn from `default_rng(seed)`, so the same seed re-images the
    same specimen through another microscope (another coherence or other planes)."""
    rng = np.random.default_rng(seed)
    n = field_px * scope.oversample
    phase, amplitude = make_phantom(kind, (n, n), scope.sim_pixel_um, scope.wavelength_um, rng, **(phantom or {}))
    return acquire(phase, amplitude, z_um, scope, camera, rng, workers=workers)
