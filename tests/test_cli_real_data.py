"""`qpi validate` and `qpi tie` on files saved the ways microscopes, Fiji and tifffile save them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tifffile

from qpi import io
from qpi.optics.imaging import Camera, Microscope, camera_aperture
from qpi.optics.simulate import simulate_field

OPTICS = ["--wavelength-um", "0.55", "--pixel-um", "0.1625"]


def qpi(*args):
    return subprocess.run([sys.executable, "-m", "qpi.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def field_stop_8bit():
    scope = Microscope(field_stop="octagon", field_stop_fraction=0.85)
    stack, truth, _ = simulate_field("hela", 5, [0, 2.5], scope, Camera(bit_depth=8), 128)
    assert stack.data.dtype == np.uint8
    return stack, truth, camera_aperture(scope, 128)


@pytest.mark.filterwarnings("ignore:.*stored as RGB:DeprecationWarning")  # the default users hit today
def test_a_three_plane_stack_saved_with_tifffile_defaults_is_three_planes(tmp_path):
    # tifffile.imwrite of a (3, H, W) array writes planar RGB (axes SYX): the textbook −Δz, 0, +Δz stack
    stack, _, _ = simulate_field("hela", 1, [-2, 0, 2], Microscope(), Camera(), 64)
    for dtype in (np.uint16, np.float32):
        path = tmp_path / f"s_{np.dtype(dtype).name}.tif"
        tifffile.imwrite(path, stack.data.astype(dtype))
        assert tifffile.TiffFile(path).series[0].axes == "SYX"
        ok = qpi("validate", path, *OPTICS, "--z-um=-2,0,2")
        assert ok.returncode == 0 and "3 planes of 64×64" in ok.stdout, ok.stderr
        out = tmp_path / f"phase_{np.dtype(dtype).name}.tif"
        run = qpi("tie", path, *OPTICS, "--z-um=-2,0,2", "-o", out)
        assert run.returncode == 0, run.stderr
        assert "(dct TIE, ε̃ = " in run.stdout  # no field stop: the frame-filling solver
        phase, meta = io.read_image(out)
        assert phase.shape == (64, 64) and np.isfinite(phase).all() and meta["method"] == "dct"


def test_a_colour_image_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.zeros((32, 32, 3), np.uint8), photometric="rgb")
    run = qpi("tie", path, *OPTICS, "--z-um=0,1,2", "-o", tmp_path / "p.tif")
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "colour" in run.stderr
    assert not (tmp_path / "p.tif").exists()


def test_two_8bit_files_one_per_plane_inside_a_field_stop(tmp_path, field_stop_8bit):
    stack, truth, aperture = field_stop_8bit
    i0, iz = tmp_path / "I0.tif", tmp_path / "Iz.tif"
    tifffile.imwrite(i0, stack.data[0])
    tifffile.imwrite(iz, stack.data[1])
    ok = qpi("validate", i0, iz, *OPTICS, "--z-um=0,2.5")
    assert ok.returncode == 0 and "2 planes of 128×128 uint8, z = 0, 2.5 µm" in ok.stdout, ok.stderr
    out = tmp_path / "phase.tif"
    run = qpi("tie", i0, iz, *OPTICS, "--z-um=0,2.5", "-o", out)  # no method flag
    assert run.returncode == 0, run.stderr
    assert "(aperture TIE, ε̃ = " in run.stdout and "noise) inside a field stop" in run.stdout
    phase, meta = io.read_image(out)
    assert meta["outside_aperture"].startswith("NaN") and meta["method"] == "aperture"
    inside = np.isfinite(phase)
    assert (inside & aperture).sum() / (inside | aperture).sum() > 0.95  # edge pixels of a 128² frame
    a, b = phase[inside], truth[inside]
    assert np.sqrt(np.mean(((a - a.mean()) - (b - b.mean())) ** 2)) < 0.3


def test_the_planes_flag_chooses_the_planes_and_a_bad_choice_is_one_line(tmp_path):
    stack, _, _ = simulate_field("hela", 2, [-2, 0, 2, 4], Microscope(), Camera(), 48)
    path = tmp_path / "s.tif"
    io.write_stack(path, stack)
    ok = qpi("tie", path, "--planes=0,2", "-o", tmp_path / "p.tif")
    assert ok.returncode == 0, ok.stderr
    assert io.read_image(tmp_path / "p.tif")[1]["planes_um"] == [0.0, 2.0]
    bad = qpi("tie", path, "--planes=3", "-o", tmp_path / "q.tif")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "[3] not in the stack (z = [-2, 0, 2, 4] µm)" in bad.stderr and "[]" not in bad.stderr
