"""Specimens of the virtual microscope against their physics: OPD, geometry, ranges, speed."""

import inspect
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import ndimage

from qpi.optics import phantoms
from qpi.optics.phantoms import (
    height_from_phase,
    hela_cells,
    make_phantom,
    microlens_array,
    microspheres,
    microspheres_with_centres,
    natural_image,
)

KINDS = ["hela", "microspheres", "microlens", "natural"]
LAMBDA, PX = 0.55, 0.08  # µm: the demo microscope's wavelength and simulation pixel
SHAPE = (256, 256)


def rng(seed):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("kind", KINDS)
def test_a_seed_fixes_the_phantom_and_another_seed_changes_it(kind):
    first = make_phantom(kind, SHAPE, PX, LAMBDA, rng(3))
    again = make_phantom(kind, SHAPE, PX, LAMBDA, rng(3))
    other = make_phantom(kind, SHAPE, PX, LAMBDA, rng(4))
    for a, b, c in zip(first, again, other):
        assert a.dtype == np.float32 and a.shape == SHAPE
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], other[0])


@pytest.mark.parametrize("kind", ["hela", "microspheres"])
def test_cells_and_spheres_sit_on_an_exactly_empty_background(kind):
    phase, amplitude = make_phantom(kind, (512, 512), PX, LAMBDA, rng(0))
    background = phase == 0
    assert phase.min() == 0.0
    assert 0.05 < background.mean() < 0.98
    assert np.all(amplitude[background] == 1.0)


def test_hela_peak_phase_is_realistic_at_550_nm():
    """Whole HeLa cells: OPD ~0.1–0.4 µm ⇒ peak phase ~2–5 rad at λ = 0.55 µm."""
    peaks = [hela_cells((384, 384), 0.1, LAMBDA, rng(s))[0].max() for s in range(8)]
    assert 2.0 < min(peaks) and max(peaks) < 5.0
    assert np.ptp(peaks) > 0.2  # heights and indices vary from field to field


def test_hela_phase_is_optical_path_over_wavelength():
    """φ = 2π/λ·OPD: the same specimen at twice the wavelength has half the phase."""
    blue = hela_cells(SHAPE, PX, 0.4, rng(5))[0]
    red = hela_cells(SHAPE, PX, 0.8, rng(5))[0]
    np.testing.assert_allclose(red, blue / 2, rtol=1e-5, atol=1e-6)


def test_hela_cells_absorb_slightly():
    phase, amplitude = hela_cells(SHAPE, PX, LAMBDA, rng(1))
    inside = phase > 0
    assert 0.9 < amplitude.min() < 0.995
    assert np.all(amplitude[inside] < 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_hela_cell_count_is_in_range_and_cells_do_not_touch(seed):
    phase, _ = hela_cells((320, 320), 0.25, LAMBDA, rng(seed), n_cells=(2, 5))
    _, count = ndimage.label(phase > 0, structure=np.ones((3, 3)))
    assert 2 <= count <= 5


def test_hela_places_exactly_the_requested_cells_on_a_roomy_field():
    phase, _ = hela_cells((320, 320), 0.25, LAMBDA, rng(7), n_cells=4)
    assert ndimage.label(phase > 0, structure=np.ones((3, 3)))[1] == 4


def test_sphere_peak_phase_is_the_optical_path_through_the_diameter():
    d, dn = 3.0, 0.26
    phase, _, centres = microspheres_with_centres((512, 512), PX, LAMBDA, rng(2), diameter_um=d, delta_n=dn)
    peak = 2 * np.pi / LAMBDA * dn * d
    assert phase.max() == pytest.approx(peak, rel=0.02)
    assert height_from_phase(phase.max(), LAMBDA, dn) == pytest.approx(d, rel=0.02)
    # The phase peaks at every recorded centre.
    iy, ix = np.round(centres / PX).astype(int).T
    np.testing.assert_allclose(phase[iy, ix], peak, rtol=0.02)


def test_spheres_do_not_overlap_and_count_is_in_range():
    for seed in range(4):
        phase, _, centres = microspheres_with_centres((384, 384), PX, LAMBDA, rng(seed), count=(3, 8))
        assert 3 <= len(centres) <= 8
        distances = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
        assert distances[np.triu_indices(len(centres), 1)].min() >= 3.0 + 0.5
        assert ndimage.label(phase > 0)[1] == len(centres)


def test_sphere_rim_is_anti_aliased_by_pixel_integration():
    """Point sampling misses the steep rim by ~0.5 rad here; the default matches a fine integral."""
    def spheres(supersample):
        return microspheres_with_centres(SHAPE, 0.1, LAMBDA, rng(8), diameter_um=2.0, supersample=supersample)

    fine, _, centres = spheres(32)
    default = spheres(4)[0]
    assert np.abs(default - fine).max() < 0.01 * fine.max()
    # The integral of the phase is the sphere volume: Σφ·px² = 2π/λ·Δn·(4/3)πr³ per sphere.
    volume = 4 / 3 * np.pi * 1.0**3
    assert default.sum() * 0.1**2 == pytest.approx(len(centres) * 2 * np.pi / LAMBDA * 0.26 * volume, rel=2e-3)


def test_microsphere_wrapper_matches_the_version_with_centres():
    np.testing.assert_array_equal(
        microspheres(SHAPE, PX, LAMBDA, rng(1))[0], microspheres_with_centres(SHAPE, PX, LAMBDA, rng(1))[0]
    )


def test_microlens_centre_height_is_the_cap_sag():
    pitch, roc, dn = 10.0, 12.4, 0.46
    phase, amplitude = microlens_array((512, 512), PX, LAMBDA, pitch_um=pitch, roc_um=roc, delta_n=dn)
    sag = roc - np.sqrt(roc**2 - (pitch / 2) ** 2)
    assert height_from_phase(phase.max(), LAMBDA, dn) == pytest.approx(sag, rel=0.01)
    assert phase.min() == 0.0 and np.all(amplitude == 1.0)
    # With no offset and no rng, a lens apex sits at the field centre.
    assert phase[255:257, 255:257].max() == pytest.approx(phase.max(), rel=1e-4)


def test_microlens_peaks_repeat_at_the_pitch():
    pitch, diameter = 7.3, 6.0
    phase, _ = microlens_array((512, 512), PX, LAMBDA, pitch_um=pitch, lens_diameter_um=diameter, offset_um=(1.1, -2.3))
    # Lens apexes: centroids of the caps' tops (phase > 90 % of the peak), sub-pixel.
    tops, n = ndimage.label(phase > 0.9 * phase.max())
    whole = [i + 1 for i, (y, x) in enumerate(ndimage.find_objects(tops))
             if y.start > 0 and x.start > 0 and y.stop < 512 and x.stop < 512]  # not cut by the edge
    apexes = np.array(ndimage.center_of_mass(phase, tops, whole)) * PX
    distances = np.hypot(*(apexes[:, None] - apexes[None]).transpose(2, 0, 1))
    np.fill_diagonal(distances, np.inf)
    assert len(whole) >= 16
    np.testing.assert_allclose(distances.min(axis=1), pitch, atol=0.01)
    # A lens narrower than the pitch leaves flat gaps between lenses.
    assert (phase == 0).mean() > 1 - np.pi * (diameter / 2) ** 2 / pitch**2 - 0.02


def test_microlens_rejects_a_lens_wider_than_its_pitch():
    with pytest.raises(ValueError, match="pitch"):
        microlens_array(SHAPE, PX, LAMBDA, pitch_um=5.0, lens_diameter_um=6.0)


def test_height_from_phase_inverts_the_thin_object_phase():
    height = np.array([0.0, 0.5, 3.0])
    phase = 2 * np.pi / 0.633 * 0.05 * height
    np.testing.assert_allclose(height_from_phase(phase, 0.633, 0.05), height)


@pytest.mark.parametrize("seed", range(3))
def test_natural_image_spans_the_requested_ranges(seed):
    phase, amplitude = natural_image((200, 300), PX, LAMBDA, rng(seed), max_phase_rad=2.5, amplitude_range=(0.6, 0.9))
    assert phase.shape == amplitude.shape == (200, 300)
    assert phase.min() == pytest.approx(0.0, abs=1e-6) and phase.max() == pytest.approx(2.5, rel=1e-6)
    assert amplitude.min() == pytest.approx(0.6, rel=1e-6) and amplitude.max() == pytest.approx(0.9, rel=1e-6)
    assert abs(np.corrcoef(phase.ravel(), amplitude.ravel())[0, 1]) < 0.9  # two different pictures


def test_natural_image_is_band_limited_below_half_nyquist():
    phase, _ = natural_image(SHAPE, PX, LAMBDA, rng(0))
    power = np.abs(np.fft.fft2(phase - phase.mean())) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(SHAPE[0]), np.fft.fftfreq(SHAPE[1]), indexing="ij"))
    assert power[f > 0.25].sum() / power.sum() < 0.02


def test_make_phantom_dispatches_to_the_kind_and_names_the_kinds_on_error():
    direct = microspheres(SHAPE, PX, LAMBDA, rng(9), count=4)
    np.testing.assert_array_equal(make_phantom("microspheres", SHAPE, PX, LAMBDA, rng(9), count=4)[0], direct[0])
    centred = make_phantom("microlens", SHAPE, PX, LAMBDA, rng(0), offset_um=(0, 0))[0]
    np.testing.assert_array_equal(centred, microlens_array(SHAPE, PX, LAMBDA)[0])
    with pytest.raises(ValueError, match="hela, microlens, microspheres, natural"):
        make_phantom("amoeba", SHAPE, PX, LAMBDA, rng(0))


@pytest.mark.parametrize("kind", KINDS)
def test_a_512_field_is_generated_well_under_a_second(kind):
    make_phantom(kind, (64, 64), PX, LAMBDA, rng(0))  # warm caches (bundled pictures)
    start = time.perf_counter()
    make_phantom(kind, (512, 512), PX, LAMBDA, rng(1))
    assert time.perf_counter() - start < 1.0


def test_documented_defaults_match_the_library():
    documented = yaml.safe_load((Path(__file__).parents[1] / "resources" / "phantoms.yaml").read_text())
    functions = {
        "hela": hela_cells, "microspheres": phantoms.microspheres_with_centres, "microlens": microlens_array, "natural": natural_image
    }
    assert set(documented) == set(phantoms.PHANTOMS)
    for kind, params in documented.items():
        signature = inspect.signature(functions[kind]).parameters
        for name, value in params.items():
            default = signature[name].default
            assert (list(default) if isinstance(default, tuple) else default) == value, (kind, name)
