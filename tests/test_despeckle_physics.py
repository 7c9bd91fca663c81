"""DespeckleNet acquisition physics: camera defocus encodes phase, absorption tied to phase."""

import numpy as np
import pytest

from qpi.families import despeckle
from qpi.optics import speckle
from qpi.optics.imaging import Microscope

PIXEL_UM, WAVELENGTH_UM, NA = 0.25, 0.55, 0.25


def gaussian_phase(peak_rad: float, sigma_um: float = 2.0, n: int = 128):
    """A centred Gaussian phase bump and its analytic Laplacian (rad µm⁻²) on a periodic grid."""
    r = (np.arange(n) - n / 2) * PIXEL_UM
    r2 = r[:, None] ** 2 + r[None, :] ** 2
    phase = peak_rad * np.exp(-r2 / (2 * sigma_um**2))
    return phase, phase * (r2 / sigma_um**4 - 2 / sigma_um**2)


def image(phase: np.ndarray, defocus_um: float) -> np.ndarray:
    """A pure-phase specimen under an on-axis plane wave, no diffuser (no screens)."""
    laser = speckle.plane_wave(phase.shape, PIXEL_UM, WAVELENGTH_UM, 0.0, 0.0)
    return speckle.speckle_image(np.exp(1j * phase), speckle.Diffuser((), ()), laser, 0.0, WAVELENGTH_UM, PIXEL_UM,
                                 NA, defocus_um)


def test_a_pure_phase_specimen_is_invisible_in_focus_and_seen_out_of_focus():
    phase, _ = gaussian_phase(1.0)  # a strong bump, yet exp(iφ) lies almost wholly inside the pupil
    assert np.ptp(image(phase, 0.0)) < 1e-3
    assert np.ptp(image(phase, 2.0)) > 0.1


@pytest.mark.parametrize("defocus_um", [-1.0, 1.0])
def test_defocus_shows_a_weak_phase_as_its_laplacian_with_the_tie_sign(defocus_um):
    phase, laplacian = gaussian_phase(0.02)
    contrast = image(phase, defocus_um) - 1
    expected = -WAVELENGTH_UM * defocus_um / (2 * np.pi) * laplacian  # TIE: ∂I/∂z = −λ/(2π)·∇²φ for I = 1
    assert np.sign(contrast[64, 64]) == np.sign(defocus_um)  # a bump (a weak lens) focuses light downstream
    assert np.corrcoef(contrast.ravel(), expected.ravel())[0, 1] > 0.999
    assert np.abs(contrast - expected).max() < 0.03 * np.abs(expected).max()


def test_absorption_ratio_makes_the_amplitude_from_the_phase():
    scope = Microscope(wavelength_um=0.55, na=0.25, magnification=10, oversample=2)
    natural = {"kind": "natural", "params": {"max_phase_rad": 3.0, "smooth_px": 2.0}}
    phase, amplitude = despeckle.specimen({**natural, "absorption_ratio": 0.1}, (64, 64), scope,
                                          np.random.default_rng(0))
    np.testing.assert_allclose(amplitude, np.exp(-0.1 * phase), rtol=1e-6)
    assert amplitude.max() == pytest.approx(1.0) and amplitude.min() == pytest.approx(np.exp(-0.3), rel=1e-3)
    # without it the phantom keeps its own amplitude, drawn from another picture: the same phase
    same_phase, own = despeckle.specimen(natural, (64, 64), scope, np.random.default_rng(0))
    np.testing.assert_array_equal(same_phase, phase)
    assert abs(np.corrcoef(own.ravel(), phase.ravel())[0, 1]) < 0.9


def test_acquisition_defocus_changes_the_images_of_the_same_diffusers():
    scope = Microscope(wavelength_um=0.55, na=0.25, magnification=10, oversample=2)
    phase = np.stack([gaussian_phase(1.0, 1.5, 32)[0]] * 2).astype(np.float32)
    specimens = {"t_phase": phase, "t_amplitude": np.ones_like(phase)}
    diffuser = {"kind": "tape", "correlation_um": 1.0, "rms_rad": 3.0, "distance_um": 10.0}
    light = {"intensity": [1.0, 1.0], "angle_deg": [0.0, 0.0]}
    focused = despeckle.acquire(specimens, 1, scope, diffuser, light, 1e9, [3])
    assert np.array_equal(focused, despeckle.acquire(specimens, 1, scope, diffuser, light, 1e9, [3], 0.0))
    defocused = despeckle.acquire(specimens, 1, scope, diffuser, light, 1e9, [3], 3.0)
    assert not np.allclose(focused, defocused, atol=1e-2)
