"""Physics of the virtual microscope against analytic answers."""

import numpy as np
import pytest

from qpi.optics.binning import bin_pixels, degrade
from qpi.optics.imaging import Camera, Microscope, expose, image_stack, source_points
from qpi.optics.propagation import angular_spectrum, frequencies, transfer_function


def gaussian_beam(n=256, pixel_um=0.5, waist_um=8.0):
    y, x = (np.mgrid[:n, :n] - n / 2) * pixel_um
    return np.exp(-(x**2 + y**2) / waist_um**2).astype(complex)


def test_angular_spectrum_conserves_energy():
    beam = gaussian_beam()
    for z in (5.0, 50.0, -30.0):
        out = angular_spectrum(beam, z, wavelength_um=0.55, pixel_um=0.5, pad=2)
        assert np.sum(np.abs(out) ** 2) == pytest.approx(np.sum(np.abs(beam) ** 2), rel=1e-6)


def test_angular_spectrum_spreads_a_gaussian_beam_as_theory_says():
    """Paraxial Gaussian beam: w(z) = w0·√(1 + (z/zR)²), zR = π·w0²/λ."""
    w0, lam, px, z = 4.0, 0.55, 0.25, 150.0
    beam = gaussian_beam(n=512, pixel_um=px, waist_um=w0)
    out = np.abs(angular_spectrum(beam, z, lam, px)) ** 2
    y, x = (np.mgrid[:512, :512] - 256) * px
    second_moment = np.sum(out * (x**2 + y**2)) / np.sum(out)  # = w²/2 for a Gaussian intensity
    z_r = np.pi * w0**2 / lam
    assert np.sqrt(2 * second_moment) == pytest.approx(w0 * np.sqrt(1 + (z / z_r) ** 2), rel=0.01)


def test_propagation_is_reversible_and_zero_distance_is_identity():
    field = gaussian_beam() * np.exp(1j * 0.3 * np.cos(np.arange(256) / 9.0))[None, :]
    np.testing.assert_allclose(angular_spectrum(field, 0.0, 0.55, 0.5), field, atol=1e-12)
    there = angular_spectrum(field, 12.0, 0.55, 0.5, pad=1)
    back = angular_spectrum(there, -12.0, 0.55, 0.5, pad=1)
    np.testing.assert_allclose(back, field, atol=1e-6)


def test_transfer_function_drops_evanescent_waves():
    h = transfer_function((64, 64), pixel_um=0.1, z_um=1.0, wavelength_um=0.55, band_limit=False)
    fy, fx = frequencies((64, 64), 0.1)
    assert np.all(h[(fx**2 + fy**2) > (1 / 0.55) ** 2] == 0)
    assert np.allclose(np.abs(h[(fx**2 + fy**2) < (1 / 0.55) ** 2]), 1)


def smooth_cell(n=128, pixel_um=0.1, peak_rad=1.0, sigma_um=2.0):
    y, x = (np.mgrid[:n, :n] - n / 2) * pixel_um
    return peak_rad * np.exp(-(x**2 + y**2) / (2 * sigma_um**2))


def test_abbe_at_zero_coherence_equals_coherent_imaging():
    scope = Microscope(coherence=0.0, pad=1.5)
    phase = smooth_cell()
    t = np.exp(1j * phase)
    abbe = image_stack(t, np.array([-2.0, 2.0]), scope, pixel_um=0.1)
    for i, z in enumerate((-2.0, 2.0)):
        field = angular_spectrum(t, z, scope.wavelength_um, 0.1, pad=1.5, pad_mode="reflect")
        # coherent reference with the same pupil: filter the propagated field by the objective NA
        py = px = 32
        padded = np.pad(t, ((py, py), (px, px)), mode="reflect")
        fy, fx = frequencies(padded.shape, 0.1)
        pupil = fy**2 + fx**2 <= (scope.na / scope.wavelength_um) ** 2
        h = transfer_function(padded.shape, 0.1, z, scope.wavelength_um)
        coherent = np.abs(np.fft.ifft2(np.fft.fft2(padded) * pupil * h)[py:-py, px:-px]) ** 2
        np.testing.assert_allclose(abbe[i], coherent, atol=1e-10)
        assert not np.allclose(np.abs(field) ** 2, coherent, atol=1e-3)  # the pupil matters at NA 0.65


def test_empty_field_images_to_one_at_every_defocus_and_coherence():
    for s in (0.0, 0.3, 0.6):
        out = image_stack(np.ones((64, 64), complex), np.array([-4.0, 0.0, 4.0]), Microscope(coherence=s), 0.1)
        np.testing.assert_allclose(out, 1.0, atol=1e-10)


def test_phase_contrast_falls_as_coherence_grows():
    t = np.exp(1j * smooth_cell(sigma_um=1.0))
    contrast = [np.std(image_stack(t, np.array([2.0]), Microscope(coherence=s), 0.1)[0]) for s in (0.0, 0.3, 0.6)]
    assert contrast[0] > contrast[1] > contrast[2] > 0


def test_source_is_subsampled_disc_growing_with_coherence():
    counts = [len(source_points((256, 256), 0.1, 0.65, 0.55, s, 0.1)) for s in (0.0, 0.3, 0.6)]
    assert counts[0] == 1 and counts[0] < counts[1] < counts[2]
    pts = source_points((256, 256), 0.1, 0.65, 0.55, 0.6, 0.1)
    radius_bins = 0.6 * 0.65 / 0.55 * 256 * 0.1
    assert np.all(np.hypot(*pts.T) <= radius_bins + 1e-6)


def test_in_focus_pure_phase_object_is_nearly_invisible():
    t = np.exp(1j * smooth_cell(sigma_um=2.0))
    focus, defocus = image_stack(t, np.array([0.0, 3.0]), Microscope(), 0.1)
    assert np.std(focus) < 0.1 * np.std(defocus)


@pytest.mark.parametrize("coherence", [0.0, 0.6])
def test_in_focus_image_cannot_tell_a_phase_from_its_negative_and_defocus_can(coherence):
    # A real (aberration-free, in-focus) PSF and a symmetric source: the object of phase −φ has the
    # conjugate field, hence the same intensity, absorption or not. So an in-focus intensity holds
    # no trace of the phase's sign (why ContransGAN's sign must come from its phase-domain prior).
    phase = 3.0 * smooth_cell(sigma_um=1.0) + 0.5 * np.roll(smooth_cell(sigma_um=0.4), (20, -15), axis=(0, 1))
    amplitude = np.exp(-0.02 * phase)
    scope = Microscope(na=0.25, coherence=coherence)
    plus, minus = (image_stack(amplitude * np.exp(s * 1j * phase), np.array([0.0, 1.5]), scope, 0.1) for s in (1, -1))
    np.testing.assert_allclose(plus[0], minus[0], atol=1e-9)
    assert np.std(plus[0] - 1) > 1e-3  # the in-focus image is not blank: it just has no sign
    assert np.std(plus[1] - minus[1]) > 0.1 * np.std(plus[1] - 1)


def test_binning_averages_blocks():
    image = np.arange(16.0).reshape(4, 4)
    np.testing.assert_allclose(bin_pixels(image, 2), [[2.5, 4.5], [10.5, 12.5]])
    assert bin_pixels(np.ones((3, 9, 9)), 4).shape == (3, 2, 2)


def test_degrade_normalises_adds_noise_and_bins():
    rng = np.random.default_rng(0)
    lr = degrade(np.full((256, 256), 7.0), factor=4, noise_sigma=0.04, rng=rng)
    assert lr.shape == (64, 64) and lr.dtype == np.float32
    assert lr.mean() == pytest.approx(1.0, abs=1e-3)
    assert lr.std() == pytest.approx(0.04 / 4, rel=0.1)  # noise averages down by the bin size


def test_camera_counts_follow_shot_noise_and_quantisation():
    camera = Camera(illumination_nonuniformity=0.0, exposure_jitter=0.0, read_noise_e=0.0)
    rng = np.random.default_rng(1)
    counts, illumination, gains = expose(np.ones((1, 256, 256)), camera, rng, oversample=2)
    assert counts.dtype == np.uint16 and counts.shape == (1, 128, 128)
    electrons = counts / camera.adu_per_electron()
    assert electrons.mean() == pytest.approx(camera.photons, rel=0.01)
    assert electrons.std() == pytest.approx(np.sqrt(camera.photons), rel=0.1)
    assert counts.max() < 2**camera.bit_depth


def test_camera_illumination_and_exposure_vary_as_configured():
    camera = Camera(illumination_nonuniformity=0.2, exposure_jitter=0.05, photons=1e6)
    counts, illumination, gains = expose(np.ones((5, 128, 128)), camera, np.random.default_rng(2))
    assert illumination.mean() == pytest.approx(1.0, abs=1e-6)
    assert np.ptp(illumination) == pytest.approx(0.2 / (1 - 0.2 + 0.2 * 0.5), rel=0.5)
    plane_means = counts.reshape(5, -1).mean(axis=1) / camera.adu_per_electron() / camera.photons
    np.testing.assert_allclose(plane_means, gains, rtol=0.01)


def test_simulate_then_fft_tie_recovers_a_smooth_phase_object():
    """Round trip through the virtual microscope (Abbe, S = 0.3, pupil NA 0.65): noiseless ±1 µm
    planes of a smooth 1.5 rad bump give back its phase by FFT-TIE within 0.02 rad RMSE."""
    from qpi import tie
    from qpi.io import Stack

    scope = Microscope(coherence=0.3, oversample=2)
    n, px = 256, scope.sim_pixel_um
    phase = smooth_cell(n=n, pixel_um=px, peak_rad=1.5, sigma_um=3.0)
    z = np.array([-1.0, 0.0, 1.0])
    planes = bin_pixels(image_stack(np.exp(1j * phase), z, scope), scope.oversample)
    stack = Stack(data=planes, z_um=z, wavelength_um=scope.wavelength_um, pixel_um=scope.pixel_um)
    recovered = tie.solve(stack, method="fft")
    truth = bin_pixels(phase, scope.oversample)
    rmse = np.sqrt(np.mean(((recovered - recovered.mean()) - (truth - truth.mean())) ** 2))
    assert rmse < 0.02
    assert recovered.max() - recovered.min() == pytest.approx(np.ptp(truth), rel=0.05)  # quantitative, not just shape
