"""Speckle simulation: phase screens, diffuser kinds and the statistics of fully developed speckle."""

import numpy as np
import pytest

from qpi.optics import speckle

WAVELENGTH, PIXEL = 0.55, 0.5


def through_tape(n: int, correlation_um: float, rms_rad: float, distance_um: float, na: float, seed: int):
    rng = np.random.default_rng(seed)
    diffuser = speckle.make_diffuser("tape", (n, n), PIXEL, correlation_um, rms_rad, rng)
    light = speckle.plane_wave((n, n), PIXEL, WAVELENGTH, 0.0, 0.0)
    return speckle.speckle_image(np.ones((n, n)), diffuser, light, distance_um, WAVELENGTH, PIXEL, na)


def test_phase_screen_has_the_requested_rms_and_correlation():
    screen = speckle.phase_screen((256, 256), 4.0, 2.0, np.random.default_rng(0))
    assert screen.std() == pytest.approx(2.0) and abs(screen.mean()) < 1e-9
    # Gaussian-filtered white noise: autocorrelation exp(−d²/4σ²) → 0.78 one σ/2 = 2 px away
    lag = np.mean(screen * np.roll(screen, 2, axis=1)) / screen.var()
    assert lag == pytest.approx(np.exp(-4 / 64), abs=0.05)


def test_fully_developed_speckle_has_unit_contrast_and_exponential_statistics():
    # A rough screen (8 rad rms, no unscattered light) seen through a small pupil: many random phasors per grain.
    intensity = np.stack([through_tape(512, 0.5, 8.0, 0.0, 0.05, seed) for seed in range(2)])
    assert speckle.contrast(intensity) == pytest.approx(1.0, abs=0.05)
    v = intensity.ravel() / intensity.mean()
    for level in (0.5, 1, 2, 3):  # P(I > k·Ī) = exp(−k)
        assert (v > level).mean() == pytest.approx(np.exp(-level), rel=0.08)


def test_grain_is_set_by_the_aperture_when_the_diffuser_is_fine():
    # grain ≈ N/D pixels for a pupil D bins across: halving the NA doubles it
    small, large = (speckle.grain_px(through_tape(512, 0.5, 8.0, 0.0, na, 0)) for na in (0.1, 0.05))
    assert large / small == pytest.approx(2.0, rel=0.15)


def test_grain_grows_with_the_correlation_length():
    grains = [np.mean([speckle.grain_px(through_tape(256, ell, 4.0, 50.0, 0.9, s)) for s in range(2)])
              for ell in (1.0, 2.0, 4.0)]
    assert grains[0] < grains[1] < grains[2]
    assert grains[2] > 3 * grains[0]


def test_diffuser_kinds():
    rng = np.random.default_rng(1)
    tape, petri, tissue = (speckle.make_diffuser(k, (64, 64), PIXEL, 1.0, 3.0, rng, thickness_um=30, layers=4)
                           for k in speckle.DIFFUSERS)
    assert (len(tape.screens), len(petri.screens), len(tissue.screens)) == (1, 2, 4)
    assert petri.gaps_um == (30,) and sum(tissue.gaps_um) == pytest.approx(30)
    assert tissue.screens[0].std() == pytest.approx(1.5)  # rms shared between layers: 3/√4
    with pytest.raises(ValueError, match="unknown diffuser kind"):
        speckle.make_diffuser("glass", (8, 8), PIXEL, 1.0, 1.0, rng)


def test_tilted_plane_wave_is_periodic_and_carries_its_intensity():
    wave = speckle.plane_wave((64, 64), PIXEL, WAVELENGTH, 10.0, 0.3, intensity=2.0)
    assert np.allclose(np.abs(wave) ** 2, 2.0)
    spectrum = np.abs(np.fft.fft2(wave))
    assert np.count_nonzero(spectrum > 1e-6 * spectrum.max()) == 1  # a single FFT bin: no wrap seam
