"""TIE solvers and brightness correction, checked on stacks simulated by the angular spectrum."""

from __future__ import annotations

import numpy as np
import pytest

from qpi import tie
from qpi.io import Stack, StackError
from qpi.optics.imaging import illumination_profile
from qpi.optics.propagation import angular_spectrum
from qpi.tie import solvers

WAVELENGTH_UM = 0.633
PIXEL_UM = 2.0


def coordinates(n: int, pixel_um: float = PIXEL_UM) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) in µm with 0 at the centre of an n×n grid."""
    c = (np.arange(n) - n / 2) * pixel_um
    return np.meshgrid(c, c, indexing="ij")


def gaussian_bump(n: int, peak_rad: float, sigma_um: float, centre_um=(0.0, 0.0)) -> np.ndarray:
    y, x = coordinates(n)
    return peak_rad * np.exp(-((y - centre_um[0]) ** 2 + (x - centre_um[1]) ** 2) / (2 * sigma_um**2))


def simulate_stack(phase: np.ndarray, z_um, amplitude: np.ndarray | None = None) -> Stack:
    """Coherent through-focus stack I_z = |AS(A·exp(iφ), z)|²; the field continues flat past the edges."""
    amplitude = np.ones_like(phase) if amplitude is None else amplitude
    field = amplitude * np.exp(1j * phase)
    data = [np.abs(angular_spectrum(field, z, WAVELENGTH_UM, PIXEL_UM, pad_mode="edge")) ** 2 for z in z_um]
    z_um = np.asarray(z_um, dtype=float)
    return Stack(data=np.stack(data), z_um=z_um, wavelength_um=WAVELENGTH_UM, pixel_um=PIXEL_UM)


def rmse_without_piston(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((a - a.mean()) - (b - b.mean())) ** 2)))


def test_fft_tie_recovers_a_smooth_phase():
    phase = gaussian_bump(n=256, peak_rad=1.5, sigma_um=40)
    stack = simulate_stack(phase, z_um=[-1, 0, 1])
    recovered = tie.solve(stack, method="fft")
    assert recovered.dtype == np.float32 and recovered.shape == (256, 256)
    assert abs(float(recovered.mean())) < 1e-6
    assert rmse_without_piston(recovered, phase) < 1e-4


def test_least_squares_slope_equals_central_difference_for_symmetric_planes():
    planes = np.random.default_rng(0).random((3, 8, 8))
    central = (planes[2] - planes[0]) / (2 * 1.5)
    np.testing.assert_allclose(tie.axial_derivative(planes, np.array([-1.5, 0.0, 1.5])), central, rtol=1e-12)


def test_least_squares_slope_is_exact_on_linear_planes_and_any_subset():
    base, slope = np.random.default_rng(1).random((2, 4, 4))
    z = np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
    planes = base + slope * z[:, None, None]
    np.testing.assert_allclose(tie.axial_derivative(planes, z), slope, rtol=1e-12)
    focus_and_one = tie.axial_derivative(planes[2:4], z[2:4])
    np.testing.assert_allclose(focus_and_one, slope, rtol=1e-12)


def test_positive_phase_bump_focuses_light_and_is_returned_positive():
    phase = gaussian_bump(n=128, peak_rad=1.0, sigma_um=20)
    stack = simulate_stack(phase, z_um=[-2, 0, 2])
    centre = (64, 64)
    assert stack.plane(2.0)[centre] > stack.plane(0.0)[centre] > stack.plane(-2.0)[centre]
    recovered = tie.solve(stack, method="fft")
    assert recovered[centre] - recovered[0, 0] == pytest.approx(1.0, abs=0.01)


def test_dct_and_iterative_beat_fft_on_a_non_periodic_phase():
    # A smooth step: a tilt in the middle curving flat at the edges (3 rad along x, 2 rad along
    # y) plus a bump; opposite edges differ, so the periodic FFT solver wraps the step around.
    y, x = coordinates(256)
    width = 256 * PIXEL_UM
    step_x, step_y = (0.5 * (1 - np.cos(np.pi * (t / width + 0.5))) for t in (x, y))
    phase = 3 * step_x + 2 * step_y + gaussian_bump(256, 1.0, 25, centre_um=(30, -60))
    stack = simulate_stack(phase, z_um=[-1, 0, 1])
    fft_error = rmse_without_piston(tie.solve(stack, method="fft"), phase)
    dct_error = rmse_without_piston(tie.solve(stack, method="dct"), phase)
    iterative_error = rmse_without_piston(tie.solve(stack, method="iterative", base="dct"), phase)
    assert fft_error > 0.5
    assert dct_error < 0.02 * fft_error
    assert iterative_error < 0.02 * fft_error


@pytest.mark.parametrize("base", ["fft", "dct"])
def test_iterative_corrects_non_uniform_intensity(base):
    # An absorber beside the phase bump: I∇φ is not curl-free, so the Paganin–Nugent step errs.
    y, x = coordinates(256)
    phase = gaussian_bump(256, 2.0, 20, centre_um=(10, -10))
    amplitude = np.sqrt(1 - 0.7 * np.exp(-((y + 15) ** 2 + (x - 20) ** 2) / (2 * 15**2)))
    stack = simulate_stack(phase, z_um=[-1, 0, 1], amplitude=amplitude)
    base_error = rmse_without_piston(tie.solve(stack, method=base), phase)
    iterative_error = rmse_without_piston(tie.solve(stack, method="iterative", base=base), phase)
    assert base_error > 5e-3
    assert iterative_error < 0.05 * base_error


def test_iterative_corrects_a_one_sided_derivative():
    phase = gaussian_bump(128, 1.5, 8, centre_um=(4, -6))
    stack = simulate_stack(phase, z_um=[-4, 0, 4])
    forward_error = rmse_without_piston(tie.solve(stack, method="dct", planes=[0, 4]), phase)
    iterative_error = rmse_without_piston(tie.solve(stack, method="iterative", planes=[0, 4]), phase)
    assert iterative_error < 0.05 * forward_error


def test_regularisation_is_dimensionless():
    # The same ε̃ damps the same frequencies (in cycles per pixel) whatever the pixel size.
    rng = np.random.default_rng(2)
    i0, didz = 1 + 0.1 * rng.random((2, 64, 64))
    a = tie.fft_solver(i0, didz, 1.0, WAVELENGTH_UM, eps=1e-6)
    b = tie.fft_solver(i0, didz / 9, 3.0, WAVELENGTH_UM, eps=1e-6)  # same image, 3× pixels
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_two_plane_tie_without_focus_uses_their_mean_as_i0():
    phase = gaussian_bump(n=256, peak_rad=1.5, sigma_um=40)
    recovered = tie.solve(simulate_stack(phase, z_um=[-1, 1]), method="fft")
    assert rmse_without_piston(recovered, phase) < 1e-3


def test_solve_names_missing_focus_and_unknown_planes():
    stack = simulate_stack(np.zeros((16, 16)), z_um=[1, 3])
    with pytest.raises(StackError, match="z = 0"):
        tie.solve(stack, planes=[1, 3])
    stack = simulate_stack(np.zeros((16, 16)), z_um=[-1, 0, 1])
    with pytest.raises(StackError, match=r"\[-2, 2\] not in the stack \(z = \[-1, 0, 1\] µm\).*--planes"):
        tie.solve(stack, planes=[-2, 2])
    with pytest.raises(StackError, match=r"planes chosen are \[0\] µm"):
        tie.solve(stack, planes=[0])
    with pytest.raises(StackError, match=r"planes chosen are none"):
        tie.solve(stack, planes=[])
    with pytest.raises(ValueError, match="unknown TIE method"):
        tie.solve(stack, method="fourier")


def test_two_planes_give_the_forward_and_backward_difference():
    # one defocused plane on either side of focus, the TIE tutorials' set-up; the sign of z matters
    phase = gaussian_bump(n=256, peak_rad=1.0, sigma_um=40)
    for z in ([0, 1], [0, -1]):
        stack = simulate_stack(phase, z_um=z)
        np.testing.assert_allclose(tie.axial_derivative(stack.data, stack.z_um),
                                   (stack.data[1] - stack.data[0]) / z[1], rtol=1e-12)
        assert rmse_without_piston(tie.solve(stack, method="dct"), phase) < 2e-3
    flipped = simulate_stack(phase, z_um=[0, 1])
    flipped.z_um = np.array([0.0, -1.0])  # the defocus axis read the wrong way round
    assert rmse_without_piston(tie.solve(flipped, method="dct"), -phase) < 2e-3


def test_iterative_never_returns_a_silent_zero(caplog):
    # max_iter = 1: the base solver's answer is the first step, never the zero start
    phase = gaussian_bump(128, 1.5, 8, centre_um=(4, -6))
    stack = simulate_stack(phase, z_um=[-4, 0, 4])
    with caplog.at_level("INFO", logger="qpi.tie"):
        one = tie.solve(stack, method="iterative", max_iter=1, tol=1e-12)
    assert np.ptp(one) > 1.0
    assert "reached max_iter = 1" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="qpi.tie"):
        tie.solve(stack, method="iterative", max_iter=50, tol=1e-12)
    assert "residual grew at iteration" in caplog.text or "converged" in caplog.text


def test_remove_background_zeroes_the_empty_field():
    rng = np.random.default_rng(3)
    y, x = coordinates(256)
    centres = rng.uniform(-200, 200, (12, 2))
    # paraboloid caps of radius 50 µm, up to 2 rad
    cells = sum(2 * np.clip(1 - ((y - cy) ** 2 + (x - cx) ** 2) / 50**2, 0, None) for cy, cx in centres)
    phase = cells - 0.7 + 0.01 * rng.standard_normal((256, 256))
    empty = cells == 0
    assert 0.5 < empty.mean() < 0.8
    levelled = tie.remove_background(phase)
    assert abs(np.median(phase[empty] - phase.mean())) > 0.2  # the mean is not the background
    assert abs(np.median(levelled[empty])) < 3e-3


def test_brightness_correction_removes_exposure_gains_and_illumination():
    phase = gaussian_bump(256, 1.5, 20, (40, -30)) + gaussian_bump(256, 1.0, 15, (-80, 60))
    clean = simulate_stack(phase, z_um=[-2, 0, 2]).data
    gains = np.array([0.8, 1.0, 1.25])[:, None, None]
    illumination = illumination_profile((256, 256), 0.3, np.random.default_rng(4))

    def error(stack):  # relative to the clean stack, overall brightness aside
        return np.linalg.norm(stack / stack.mean() - clean / clean.mean())

    assert error(tie.brightness_correct(clean * gains, "mean")) < 1e-4 * error(clean * gains)
    lit = clean * illumination
    assert error(tie.brightness_correct(lit, "flatfield")) < 0.05 * error(lit)
    raw = clean * illumination * gains
    assert error(tie.brightness_correct(raw, "both")) < 0.03 * error(raw)
    assert error(tie.brightness_correct(raw, "mean")) > 0.2 * error(raw)  # the illumination stays
    np.testing.assert_array_equal(tie.brightness_correct(raw, "none"), raw.astype(np.float32))


def test_dct_solver_by_real_transforms_is_the_fft_of_the_mirror_extended_image():
    """Neumann boundaries two ways: DCT/DST on N×N (float32) and the FFT solver on the 2N×2N mirror image."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    i0 = 1 + 0.3 * ndimage.gaussian_filter(rng.random((96, 130)), 5)
    didz = ndimage.gaussian_filter(rng.standard_normal((96, 130)), 3)
    mirror = [np.pad(a, ((0, 96), (0, 130)), mode="symmetric") for a in (i0, didz)]
    expected = tie.fft_solver(*mirror, 0.1625, 0.55, eps=1e-9)[:96, :130]
    phase = tie.dct_solver(i0, didz, 0.1625, 0.55, eps=1e-9)
    assert phase.dtype == np.float32 and np.ptp(expected) > 5
    np.testing.assert_allclose(phase - phase.mean(), expected - expected.mean(), atol=1e-4 * np.ptp(expected))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_solvers_transforms_are_scipys_and_invert_exactly(dtype):
    """ducc0 stands in for scipy.fft: the same conventions (unnormalised forward), exact inverses."""
    from scipy import fft

    a = np.random.default_rng(1).standard_normal((24, 34)).astype(dtype)
    tol = {"rtol": 1e-4 if dtype == np.float32 else 1e-10, "atol": 1e-4 if dtype == np.float32 else 1e-10}
    np.testing.assert_allclose(solvers._dct(a, (0, 1), 1), fft.dctn(a, type=2), **tol)
    np.testing.assert_allclose(solvers._dst(a, (1,), 2), fft.dst(a, type=2, axis=1), **tol)
    np.testing.assert_allclose(solvers._fft2(a, -1), np.fft.fft2(a), **tol)
    for transform in (solvers._dct, solvers._dst):
        assert transform(a, (0,), 1).dtype == dtype
        np.testing.assert_allclose(transform(transform(a, (0, 1), 1), (0, 1), 1, inverse=True), a, **tol)
    np.testing.assert_allclose(solvers._fft2(solvers._fft2(a, 1), 1, inverse=True).real, a, **tol)
