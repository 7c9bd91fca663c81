"""The TIE judged from its own data: ε̃ from the planes' noise, and the boundary uncertainty of a label.

Fields are written here (Gaussian cells, coherent angular spectrum, white noise) and by the virtual
microscope (partial coherence, shot noise, illumination fall-off, 8- and 12-bit cameras)."""

from __future__ import annotations

import numpy as np
import pytest

from qpi import tie
from qpi.io import Stack
from qpi.optics.imaging import Camera, Microscope
from qpi.optics.propagation import angular_spectrum
from qpi.optics.simulate import simulate_field
from qpi.tie.noise import NOISELESS_EPS, plane_noise
from qpi.tie.quality import POOR_RAD, label_quality

PIXEL_UM, WAVELENGTH_UM = 0.1625, 0.55


def cells(n: int, count: int, seed: int, margin_um: float = 8.0) -> np.ndarray:
    """Gaussian 'cells' (0.5–1.5 rad, σ 2–5 µm) kept `margin_um` inside the frame."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:n, :n] * PIXEL_UM
    phase = np.zeros((n, n))
    for _ in range(count):
        cy, cx = rng.uniform(margin_um, n * PIXEL_UM - margin_um, 2)
        r = rng.uniform(2, 5)
        phase += rng.uniform(0.5, 1.5) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))
    return phase


def coherent_stack(phase: np.ndarray, z_um, sigma: float, seed: int = 1) -> Stack:
    field = np.exp(1j * phase)
    data = np.stack([np.abs(angular_spectrum(field, z, WAVELENGTH_UM, PIXEL_UM, pad_mode="edge")) ** 2 for z in z_um])
    data = data + np.random.default_rng(seed).normal(0, sigma, data.shape)
    return Stack(data=data.astype(np.float32), z_um=np.asarray(z_um, float), wavelength_um=WAVELENGTH_UM,
                 pixel_um=PIXEL_UM)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    inside = np.isfinite(a)
    d = (a[inside] - a[inside].mean()) - (b[inside] - b[inside].mean())
    return float(np.sqrt(np.mean(d**2)))


def crop(stack: Stack, window) -> Stack:
    return Stack(data=stack.data[(slice(None), *window)], z_um=stack.z_um, wavelength_um=stack.wavelength_um,
                 pixel_um=stack.pixel_um)


@pytest.mark.parametrize("sigma", [0.004, 0.016])
def test_plane_noise_reads_the_added_noise_through_the_cells(sigma):
    stack = coherent_stack(cells(256, 8, 0), [0.0], sigma)
    assert plane_noise(stack.data[0]) == pytest.approx(sigma, rel=0.05)


def test_noiseless_planes_get_the_floor_and_noisier_planes_a_larger_eps():
    phase = cells(256, 8, 0)
    eps = [tie.regularisation(coherent_stack(phase, [-2, 0, 2], s)) for s in (0.0, 0.004, 0.016)]
    assert eps[0] == NOISELESS_EPS
    assert eps[2] / eps[1] == pytest.approx(16, rel=0.1)  # ε̃ ∝ σ²
    two = tie.regularisation(coherent_stack(phase, [0, 2], 0.016))
    # dI/dz by least squares: ‖w‖² = 2/Δz² for two planes Δz apart, 1/(2Δz²) for three at −Δz, 0, +Δz
    assert two / eps[2] == pytest.approx(4, rel=0.1)


@pytest.mark.parametrize("bit_depth, planes", [(12, [-2, 0, 2]), (8, [0, 2])])
def test_auto_eps_is_near_the_best_on_camera_stacks_and_the_old_default_misses_noiseless_ones(bit_depth, planes):
    scope = Microscope()
    stack, truth, _ = simulate_field("hela", 3, planes, scope, Camera(bit_depth=bit_depth), 384)
    stack = Stack(data=tie.brightness_correct(stack.data, "both"), z_um=stack.z_um, wavelength_um=stack.wavelength_um,
                  pixel_um=stack.pixel_um)
    grid = np.logspace(-15, -6, 10)
    best = min(rmse(tie.solve(stack, method="dct", eps=e), truth) for e in grid)
    auto = rmse(tie.solve(stack, method="dct", eps="auto"), truth)
    assert auto < 1.15 * best, (auto, best)
    assert 1e-10 < tie.regularisation(stack) < 1e-7



def test_a_noiseless_tilted_phase_keeps_its_long_periods():
    # the independent case: a fixed camera ε̃ (1e-9) damps the tilt of a noiseless 512² float stack
    y, x = np.mgrid[:512, :512] * PIXEL_UM
    phase = cells(512, 12, 1) + 0.08 * x + 0.05 * y  # rad/µm
    noiseless = coherent_stack(phase, [-1, 0, 1], 0.0)
    assert tie.regularisation(noiseless) == NOISELESS_EPS
    assert rmse(tie.solve(noiseless, eps="auto"), phase) < 0.75 * rmse(tie.solve(noiseless, eps=1e-9), phase)


def test_boundary_uncertainty_passes_a_whole_field_and_flags_crops_that_cut_cells():
    phase = cells(384, 14, 0)
    stack = coherent_stack(phase, [-2, 0, 2], 0.016)
    whole = label_quality(stack, tie.solve(stack, eps="auto"))
    assert whole["boundary"] == "frame edge" and not whole["poor"]
    assert whole["boundary_rad"] < 2 * rmse(tie.solve(stack, eps="auto"), phase) + 0.02

    for window in (np.s_[100:228, 100:228], np.s_[0:192, 192:384]):
        piece = crop(stack, window)
        label = tie.solve(piece, eps="auto")
        quality, error = label_quality(piece, label), rmse(label, phase[window])
        assert error > POOR_RAD  # the crop's label is wrong...
        assert quality["poor"] and 0.5 * error < quality["boundary_rad"] < 3 * error  # ...and says so, to scale


def test_a_field_stop_assumes_no_boundary():
    scope = Microscope(field_stop="octagon")
    stack, _, _ = simulate_field("hela", 1, [-2, 0, 2], scope, Camera(), 256)
    stack = Stack(data=tie.brightness_correct(stack.data, "mean"), z_um=stack.z_um,
                  wavelength_um=stack.wavelength_um, pixel_um=stack.pixel_um)
    quality = label_quality(stack, tie.solve(stack, eps="auto"))
    assert quality["boundary"] == "field stop" and quality["boundary_rad"] is None and not quality["poor"]
    assert 1e-10 < quality["eps"] < 1e-7  # the noise is read inside the stop, not diluted by the dark frame
