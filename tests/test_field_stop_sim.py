"""The virtual microscope's real-data features: field stop, 8-bit camera, two planes, z-axis sign."""

import numpy as np
import pytest
from scipy import ndimage

from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Camera, Microscope, camera_aperture, expose, field_stop_mask, image_stack
from qpi.optics.simulate import acquire, simulate_field

N = 256  # simulation grid (128 camera pixels at oversample 2)


def smooth_cell(n=N, pixel_um=0.08125, peak_rad=0.5, sigma_um=1.5):
    y, x = (np.mgrid[:n, :n] - n / 2) * pixel_um
    return peak_rad * np.exp(-(x**2 + y**2) / (2 * sigma_um**2))


@pytest.mark.parametrize(("kind", "sides"), [("circle", 0), ("octagon", 8), ("polygon", 6), ("polygon", 5)])
def test_field_stop_area_matches_the_analytic_aperture(kind, sides):
    """Circle π·r², regular n-gon n·a²·tan(π/n) with apothem a = fraction/2, in units of the smaller side."""
    fraction, shape = 0.9, (512, 640)  # the smaller side sets the scale
    mask = field_stop_mask(shape, kind, fraction, sides or 8)
    half = fraction / 2
    analytic = np.pi * half**2 if kind == "circle" else sides * half**2 * np.tan(np.pi / sides)
    assert mask.dtype == bool and mask.shape == shape
    assert mask.sum() / 512**2 == pytest.approx(analytic, rel=0.01)
    rows, cols = np.nonzero(mask)
    assert rows.mean() == pytest.approx(255.5, abs=0.5) and cols.mean() == pytest.approx(319.5, abs=0.5)


def test_field_stop_is_the_same_aperture_on_the_simulation_and_camera_grids():
    sim = field_stop_mask((N, N), "octagon", 0.8)
    cam = camera_aperture(Microscope(field_stop="octagon", field_stop_fraction=0.8), N // 2)
    disagree = (bin_pixels(sim, 2) >= 0.5) != cam
    assert disagree.sum() <= 0.02 * cam.sum()  # only edge pixels may differ
    assert camera_aperture(Microscope(), 64).all()  # no field stop: the whole frame


def test_an_empty_field_stop_is_dark_outside_one_inside_and_keeps_energy_through_focus():
    """No specimen, circular stop, S = 0.3: beyond 5 PSF widths (λ/2NA) of the edge the in-focus
    image is 1 inside and 0 outside; defocus blurs the edge but conserves the frame's energy."""
    scope = Microscope(field_stop="circle")
    focus, defocus = image_stack(np.ones((N, N), complex), np.array([0.0, 2.5]), scope)
    mask = field_stop_mask((N, N), "circle", 0.9)
    far = 5 * scope.wavelength_um / (2 * scope.na) / scope.sim_pixel_um
    inside, outside = ndimage.distance_transform_edt(mask) > far, ndimage.distance_transform_edt(~mask) > far
    assert outside.sum() > 1000 and inside.sum() > 0.5 * mask.sum()
    assert focus[outside].max() < 5e-3
    assert np.abs(focus[inside] - 1).max() < 0.05 and focus[inside].mean() == pytest.approx(1, abs=0.01)
    assert focus.sum() == pytest.approx(mask.sum(), rel=0.02)  # the pupil keeps nearly all of the stop's light
    assert defocus.sum() == pytest.approx(focus.sum(), rel=0.01)
    assert defocus[~mask].sum() > 3 * focus[~mask].sum()  # a blurred edge spills light past the stop


def test_a_field_stop_image_does_not_depend_on_the_grid_around_it():
    """Outside the stop is dark, not a mirror of the specimen: the same physical aperture centred
    in a grid twice as wide images (coherently, 5 µm defocus) to the same pixels."""
    n, z = 192, np.array([5.0])
    small = image_stack(np.ones((n, n), complex), z, Microscope(field_stop="circle", coherence=0.0))[0]
    wide = Microscope(field_stop="circle", field_stop_fraction=0.45, coherence=0.0)
    big = image_stack(np.ones((2 * n, 2 * n), complex), z, wide)[0][n // 2 : n // 2 + n, n // 2 : n // 2 + n]
    assert np.abs(small - big).max() < 0.05  # reflect-padding the stop's edge gives 0.2


def distance_outside_um(aperture, pixel_um):
    return ndimage.distance_transform_edt(~aperture) * pixel_um


def test_field_stop_leaves_the_truth_and_records_the_aperture():
    """Same seed with and without a stop: the same exact phase; the Stack names the aperture to
    score inside; counts are bright inside and fall to the read-noise floor outside (< 1 ADU mean
    beyond 1 µm of the edge in focus, beyond 3 µm at 2.5 µm defocus, whose blur spills past it)."""
    scope = Microscope(field_stop="octagon", field_stop_fraction=0.7)
    stack, phase, amplitude = simulate_field("hela", 3, [0, 2.5], scope, Camera(), 96)
    _, phase_open, amplitude_open = simulate_field("hela", 3, [0, 2.5], Microscope(), Camera(), 96)
    np.testing.assert_array_equal(phase, phase_open)
    np.testing.assert_array_equal(amplitude, amplitude_open)
    assert stack.extra["field_stop"] == {"kind": "octagon", "fraction": 0.7, "sides": 8}
    aperture = field_stop_mask(stack.data.shape[1:], **stack.extra["field_stop"])
    np.testing.assert_array_equal(aperture, camera_aperture(scope, 96))
    outside = distance_outside_um(aperture, scope.pixel_um)
    assert (outside > 3).sum() > 500
    assert stack.data[0][outside > 1].mean() < 1.0
    assert stack.data[1][outside > 3].mean() < 1.0
    assert stack.data[1][outside > 0].mean() > 10 * stack.data[0][outside > 1].mean()  # the blurred edge
    adu_per_unit = Camera().photons * Camera().adu_per_electron()
    lit = stack.data[0][ndimage.distance_transform_edt(aperture) * scope.pixel_um > 2]
    assert lit.mean() == pytest.approx(adu_per_unit, rel=0.1)
    assert "field_stop" not in simulate_field("hela", 3, [0, 2.5], Microscope(), Camera(), 64)[0].extra


def test_eight_bit_camera_gives_uint8_counts_with_the_empty_field_at_half_scale():
    camera = Camera(bit_depth=8)
    counts, _, _ = expose(np.ones((3, 256, 256)), camera, np.random.default_rng(4), oversample=2)
    assert counts.dtype == np.uint8 and counts.shape == (3, 128, 128)
    assert 0.45 < counts.mean() / 255 < 0.55
    assert np.mean(counts == 255) == 0  # the bright field does not saturate
    electrons = counts / camera.adu_per_electron()
    flat = Camera(bit_depth=8, illumination_nonuniformity=0.0, exposure_jitter=0.0)
    flat_counts = expose(np.ones((1, 256, 256)), flat, np.random.default_rng(5), oversample=2)[0]
    assert (flat_counts / flat.adu_per_electron()).std() == pytest.approx(np.sqrt(flat.photons), rel=0.1)
    assert electrons.mean() == pytest.approx(camera.photons, rel=0.05)
    assert Camera(bit_depth=8, level=0.35).adu_per_electron() == pytest.approx(0.35 * 255 / 4000)
    assert Camera().dtype is np.uint16 and Camera().exposure_level == 0.35  # the 12-bit default as before


def test_two_plane_eight_bit_acquisition_through_a_field_stop():
    """The TIE tutorials' set-up: in focus and one defocused plane, one 8-bit frame each."""
    scope = Microscope(field_stop="circle")
    stack, phase, _ = simulate_field("hela", 1, [0, 2.5], scope, Camera(bit_depth=8), 64)
    assert stack.data.shape == (2, 64, 64) and stack.data.dtype == np.uint8 and phase.shape == (64, 64)
    np.testing.assert_array_equal(stack.z_um, [0.0, 2.5])
    assert stack.data.max() <= 255 and stack.extra["bit_depth"] == 8
    aperture = camera_aperture(scope, 64)
    assert stack.plane(0.0)[distance_outside_um(aperture, scope.pixel_um) > 1].max() <= 1  # dark: zeros
    assert 0.4 < stack.plane(2.5)[aperture].mean() / 255 < 0.6  # exposed at half scale
    assert np.std(stack.plane(2.5)[aperture].astype(float)) > np.std(stack.plane(0.0)[aperture].astype(float))


def test_defocus_sign_minus_one_equals_the_mirrored_plus_one_stack():
    """defocus_sign = −1 at written z = [0, +2] are the planes a +1 set-up writes at [0, −2]."""
    phase = smooth_cell()
    t = np.exp(1j * phase)
    reversed_axis = image_stack(t, np.array([0.0, 2.0]), Microscope(defocus_sign=-1))
    mirrored = image_stack(t, np.array([0.0, -2.0]), Microscope())
    np.testing.assert_allclose(reversed_axis, mirrored, rtol=0, atol=1e-12)
    plus = image_stack(t, np.array([2.0]), Microscope())[0]
    # the sign matters: a weak phase object's defocus contrast inverts between ±z
    assert np.corrcoef((plus - 1).ravel(), (reversed_axis[1] - 1).ravel())[0, 1] < -0.9

    camera = Camera(illumination_nonuniformity=0.0, exposure_jitter=0.0, read_noise_e=0.0, photons=1e6)
    amplitude = np.ones_like(phase)
    minus, _, _ = acquire(phase, amplitude, [0, 2], Microscope(defocus_sign=-1), camera, np.random.default_rng(9))
    flipped, _, _ = acquire(phase, amplitude, [0, -2], Microscope(), camera, np.random.default_rng(9))
    np.testing.assert_array_equal(minus.data, flipped.data)
    np.testing.assert_array_equal(minus.z_um, -flipped.z_um)
    assert minus.extra["defocus_sign"] == -1 and "defocus_sign" not in flipped.extra


@pytest.mark.parametrize("bad", [{"field_stop": "square"}, {"defocus_sign": 0}, {"field_stop_fraction": 0.0},
                                 {"field_stop": "polygon", "field_stop_sides": 2}])
def test_microscope_rejects_an_unknown_field_stop_or_sign(bad):
    with pytest.raises(ValueError):
        Microscope(**bad)
