"""TIFF stacks and images with ImageJ metadata, validation errors, JSON sidecars, sample sheet."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from qpi import io

Z_UM = [-2.0, 0.0, 2.0]


def counts_stack(z_um=Z_UM, shape=(16, 12), **optics) -> io.Stack:
    """A camera-like stack: each plane a smooth ramp offset by 100 counts per µm of defocus."""
    ramp = np.add.outer(np.arange(shape[0]), np.arange(shape[1])).astype(np.float32)
    data = np.stack([1000 + 100 * z + 7 * ramp for z in z_um]).astype(np.float32)
    meta = dict(wavelength_um=0.633, pixel_um=0.1625) | optics
    return io.Stack(data=data, z_um=np.asarray(z_um, dtype=float), **meta)


# ----------------------------------------------------------------------------- round trips


def test_uint16_round_trip_keeps_counts_and_all_metadata(tmp_path):
    stack = counts_stack(na=0.3, coherence=0.2, magnification=40.0, medium_index=1.33, extra={"sample": "hela"})
    io.write_stack(tmp_path / "s.tif", stack, dtype="uint16")
    back = io.read_stack(tmp_path / "s.tif")
    assert back.data.dtype == np.float32
    np.testing.assert_array_equal(back.data, stack.data)
    assert back.metadata() == stack.metadata()
    assert back.extra == {"sample": "hela"}


def test_float32_round_trip_is_exact(tmp_path):
    stack = counts_stack()
    stack.data = stack.data / 1000 + np.float32(1e-4)  # non-integer intensities
    io.write_stack(tmp_path / "s.tif", stack, dtype="float32")
    back = io.read_stack(tmp_path / "s.tif")
    np.testing.assert_array_equal(back.data, stack.data)
    assert back.metadata() == stack.metadata()


def test_raw_read_keeps_the_file_dtype(tmp_path):
    io.write_stack(tmp_path / "s.tif", counts_stack())
    back = io.read_stack(tmp_path / "s.tif", raw=True)
    assert back.data.dtype == np.uint16
    assert back.data[1, 0, 0] == 1000  # focus plane, ramp origin


def test_written_stack_is_an_imagej_hyperstack_with_calibration(tmp_path):
    stack = counts_stack(z_um=[-3.0, -1.0, 0.0, 1.0, 3.0], na=0.25)
    io.write_stack(tmp_path / "s.tif", stack)
    with tifffile.TiffFile(tmp_path / "s.tif") as tif:
        ij = tif.imagej_metadata
        assert tif.is_imagej
        assert tif.series[0].axes == "ZYX"
        assert ij["slices"] == 5
        assert ij["spacing"] == pytest.approx(1.5)  # median of the gaps 2, 1, 1, 2
        assert ij["unit"] == "um"
        assert ij["Labels"] == ["z=-3.00um", "z=-1.00um", "z=0.00um", "z=1.00um", "z=3.00um"]
        num, den = tif.pages[0].tags["XResolution"].value
        assert num / den == pytest.approx(1 / 0.1625)  # pixels per µm
        assert json.loads(ij["Info"]) == stack.metadata()


def test_planes_written_unsorted_come_back_sorted_with_their_z(tmp_path):
    stack = counts_stack(z_um=[2.0, -2.0, 0.0])
    io.write_stack(tmp_path / "s.tif", stack)
    back = io.read_stack(tmp_path / "s.tif")
    np.testing.assert_array_equal(back.z_um, [-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(back.data[:, 0, 0], [800, 1000, 1200])


def test_uint16_write_refuses_values_it_cannot_store(tmp_path):
    stack = counts_stack()
    stack.data[0, 0, 0] = 70000
    with pytest.raises(ValueError, match="uint16"):
        io.write_stack(tmp_path / "s.tif", stack)
    assert list(tmp_path.iterdir()) == []  # nothing partial left behind


# ----------------------------------------------------------------------------- metadata sources


def test_keyword_arguments_override_file_metadata(tmp_path):
    io.write_stack(tmp_path / "s.tif", counts_stack(na=0.3))
    back = io.read_stack(tmp_path / "s.tif", wavelength_um=0.55, pixel_um=3.4, z_um=[1.0, 0.0, -1.0], na=0.6,
                         medium_index=1.33)
    assert (back.wavelength_um, back.pixel_um, back.na, back.medium_index) == (0.55, 3.4, 0.6, 1.33)
    # z given in file order (+1, 0, -1) reverses the planes once sorted
    np.testing.assert_array_equal(back.z_um, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(back.data[:, 0, 0], [1200, 1000, 800])


def test_a_bare_tiff_takes_its_metadata_from_arguments(tmp_path):
    tifffile.imwrite(tmp_path / "bare.tif", counts_stack().data.astype(np.uint16), photometric="minisblack")
    back = io.read_stack(tmp_path / "bare.tif", wavelength_um=0.55, pixel_um=3.4, z_um=Z_UM)
    assert (back.wavelength_um, back.pixel_um, back.medium_index, back.na) == (0.55, 3.4, 1.0, None)
    np.testing.assert_array_equal(back.data[:, 0, 0], [800, 1000, 1200])


def test_imagej_calibration_and_z_labels_serve_when_there_is_no_json(tmp_path):
    # as Fiji saves a calibrated stack: unit "micron", pixels per µm, slice labels
    tifffile.imwrite(tmp_path / "fiji.tif", counts_stack().data.astype(np.uint16), imagej=True,
                     resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"axes": "ZYX", "unit": "micron", "Labels": ["z=-2um", "z=0um", "z=2um"]})
    back = io.read_stack(tmp_path / "fiji.tif", wavelength_um=0.55)
    assert back.pixel_um == pytest.approx(0.25)
    np.testing.assert_array_equal(back.z_um, Z_UM)


# ----------------------------------------------------------------------------- validation errors


def _missing(p):
    return p, {}


def _text_file(p):
    p.write_text("name\tpath\nthis is not an image\n")
    return p, {}


def _truncated(p):
    io.write_stack(p, counts_stack())
    p.write_bytes(p.read_bytes()[:100])
    return p, {}


def _image_2d(p):
    tifffile.imwrite(p, np.ones((16, 12), np.uint16))
    return p, {"wavelength_um": 0.5, "pixel_um": 1.0, "z_um": [0.0]}


def _rgb(p):
    tifffile.imwrite(p, np.ones((16, 12, 3), np.uint8), photometric="rgb")
    return p, {"wavelength_um": 0.5, "pixel_um": 1.0, "z_um": Z_UM}


def _four_d(p):
    tifffile.imwrite(p, np.ones((2, 3, 16, 12), np.uint16), photometric="minisblack")
    return p, {"wavelength_um": 0.5, "pixel_um": 1.0, "z_um": Z_UM}


def _written(p, stack=None, dtype="uint16", **kw):
    io.write_stack(p, stack or counts_stack(), dtype=dtype)
    return p, kw


def _bare(p, **kw):
    """A TIFF stack without any metadata, as a user's own acquisition software may write it."""
    tifffile.imwrite(p, counts_stack().data.astype(np.uint16), photometric="minisblack")
    return p, kw


def _with_plane(value, dtype="uint16", plane=2, pixels=slice(None)):
    def make(p):
        stack = counts_stack()
        stack.data[plane].reshape(-1)[pixels] = value
        return _written(p, stack, dtype)
    return make


INVALID = {
    "missing file": (_missing, "not found"),
    "not a tiff": (_text_file, "not a readable TIFF"),
    "truncated": (_truncated, "truncated or corrupt"),
    "2-D image": (_image_2d, "through-focus stack is needed"),
    "RGB": (_rgb, "RGB"),
    "4-D": (_four_d, "must be 3-D (Z, Y, X)"),
    "plane count": (lambda p: _written(p, z_um=[-1.0, 0.0]), "3 planes but 2 z positions"),
    "duplicated z": (lambda p: _written(p, z_um=[0.0, 1.0, 1.0]), "z = 1 µm is given for 2 planes"),
    "no focus": (lambda p: _written(p, z_um=[-1.0, 0.5, 1.0]), "no plane at focus"),
    "NaN": (_with_plane(np.nan, "float32", pixels=slice(0, 3)), "plane z = 2 µm has 3 NaN/inf"),
    "inf": (_with_plane(np.inf, "float32", plane=0, pixels=[5]), "plane z = -2 µm has 1 NaN/inf"),
    "zero plane": (_with_plane(0, plane=1), "plane z = 0 µm is all zero"),
    "saturated": (_with_plane(65535, pixels=slice(0, 100)), "saturated (52% of pixels at 65535)"),
    "no wavelength": (lambda p: _bare(p, pixel_um=1.0, z_um=Z_UM), "no wavelength in the file's metadata"),
    "no pixel size": (lambda p: _bare(p, wavelength_um=0.5, z_um=Z_UM), "metadata; give --pixel-um"),
    "no z": (lambda p: _bare(p, wavelength_um=0.5, pixel_um=1.0), "metadata; give --z-um"),
    "zero wavelength": (lambda p: _written(p, wavelength_um=0.0), "wavelength_um must be a positive"),
    "negative pixel": (lambda p: _written(p, pixel_um=-2.0), "pixel_um must be a positive"),
    "negative NA": (lambda p: _written(p, na=-0.3), "na must be positive"),
}


@pytest.mark.parametrize("make, message", INVALID.values(), ids=INVALID.keys())
def test_each_problem_raises_a_stack_error_naming_the_file(tmp_path, make, message):
    path, overrides = make(tmp_path / "user_stack.tif")
    with pytest.raises(io.StackError) as err:
        io.read_stack(path, **overrides)
    assert str(err.value).startswith(str(path) + ":")
    assert message in str(err.value)


def test_saturation_needs_more_than_half_the_pixels_at_the_top(tmp_path):
    stack = counts_stack()
    stack.data[2].reshape(-1)[:96] = 65535  # exactly half of 16×12: bright but not rejected
    io.write_stack(tmp_path / "s.tif", stack)
    assert io.read_stack(tmp_path / "s.tif").data[2].max() == 65535


def test_a_single_plane_is_not_a_stack():
    stack = counts_stack(z_um=[0.0])
    with pytest.raises(io.StackError, match="only one plane"):
        io.validate_stack(stack, "one.tif")


# ----------------------------------------------------------------------------- 2-D images and JSON


def test_image_round_trip_keeps_values_pixel_size_and_metadata(tmp_path):
    phase = np.linspace(-3.1, 3.1, 12 * 10, dtype=np.float32).reshape(12, 10)
    io.write_image(tmp_path / "phase.tif", phase, pixel_um=0.65, wavelength_um=0.55, method="fft")
    back, meta = io.read_image(tmp_path / "phase.tif")
    np.testing.assert_array_equal(back, phase)
    assert meta == {"pixel_um": 0.65, "wavelength_um": 0.55, "method": "fft"}
    with tifffile.TiffFile(tmp_path / "phase.tif") as tif:
        assert tif.is_imagej and tif.pages[0].dtype == np.float32


def test_image_like_a_stack_copies_its_optics_but_not_its_planes(tmp_path):
    stack = counts_stack(na=0.3, extra={"sample": "hela"})
    io.write_image(tmp_path / "phase.tif", np.zeros((4, 4)), like=stack, method="dct")
    _, meta = io.read_image(tmp_path / "phase.tif")
    assert "z_um" not in meta
    assert (meta["pixel_um"], meta["na"], meta["sample"], meta["method"]) == (0.1625, 0.3, "hela", "dct")


def test_reading_a_stack_as_an_image_is_a_clear_error(tmp_path):
    io.write_stack(tmp_path / "s.tif", counts_stack())
    with pytest.raises(io.StackError, match="s.tif: is not a single grey-level 2-D image"):
        io.read_image(tmp_path / "s.tif")


def test_json_round_trip_turns_numpy_values_into_plain_numbers(tmp_path):
    io.write_json(tmp_path / "m.json", {"z_um": np.array([-1.0, 1.0]), "n": np.int64(3), "ok": True})
    assert io.read_json(tmp_path / "m.json") == {"z_um": [-1.0, 1.0], "n": 3, "ok": True}


def test_failed_json_write_leaves_the_old_file_untouched(tmp_path):
    io.write_json(tmp_path / "m.json", {"v": 1})
    with pytest.raises(TypeError):
        io.write_json(tmp_path / "m.json", {"v": object()})
    assert io.read_json(tmp_path / "m.json") == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


# ----------------------------------------------------------------------------- sample sheet

HEADER = "name\tpath\twavelength_um\tpixel_um\tz_um\tna\tcoherence\tmagnification\tmedium_index\n"


def test_sample_sheet_rows_become_read_stack_arguments(tmp_path):
    sheet = tmp_path / "stacks.tsv"
    sheet.write_text(HEADER + "hela_01\tdata/a.tif\t0.55\t0.085\t-2,0,2\t0.6\t0.3\t40\t1.33\n"
                     "# a comment line\n"
                     "bead\tdata/b.tif\t\t\t\t\t\t\t\n")
    rows = io.read_sample_sheet(sheet)
    assert rows[0] == {"name": "hela_01", "path": "data/a.tif", "wavelength_um": 0.55, "pixel_um": 0.085,
                       "z_um": [-2.0, 0.0, 2.0], "na": 0.6, "coherence": 0.3, "magnification": 40.0,
                       "medium_index": 1.33}
    assert rows[1] == {"name": "bead", "path": "data/b.tif"} | {k: None for k in HEADER.split()[2:]}


def test_sample_sheet_with_only_the_columns_it_needs(tmp_path):
    sheet = tmp_path / "stacks.tsv"
    sheet.write_text("name\tpath\tz_um\tna\ns1\ts1.tif\t-1,0,1\ns2\ts2.tif\n")  # s2: trailing tabs dropped
    rows = io.read_sample_sheet(sheet)
    assert rows[0]["z_um"] == [-1.0, 0.0, 1.0] and rows[0]["wavelength_um"] is None
    assert rows[1]["path"] == "s2.tif" and rows[1]["z_um"] is None


@pytest.mark.parametrize("text", ["", HEADER, HEADER + "\n\n"], ids=["empty", "header only", "blank lines"])
def test_empty_sample_sheet_has_no_rows(tmp_path, text):
    (tmp_path / "stacks.tsv").write_text(text)
    assert io.read_sample_sheet(tmp_path / "stacks.tsv") == []


@pytest.mark.parametrize(
    "text, message",
    [
        (HEADER + "a\ta.tif\tgreen\t1\t0\t\t\t\t\n", "line 2, column wavelength_um: 'green' is not a number"),
        (HEADER + "a\ta.tif\t0.5\t1\t-1;0;1\t\t\t\t\n", "column z_um: '-1;0;1' is not a comma-separated list"),
        ("name\tpath\twavelength_nm\na\ta.tif\t550\n", "unknown column(s) ['wavelength_nm']"),
        ("name\twavelength_um\na\t0.5\n", "missing column(s) ['path']"),
        (HEADER + "a b\ta.tif\t\t\t\t\t\t\t\n", "name 'a b'"),
        (HEADER + "a\ta.tif\t\t\t\t\t\t\t\na\tb.tif\t\t\t\t\t\t\t\n", "line 3 name 'a'"),
        (HEADER + "a\ta.tif\t\t\t\t\t\t\t\t\tx\n", "line 2 has more tab-separated cells than the header"),
    ],
    ids=["bad number", "bad z list", "unknown column", "missing column", "bad name", "repeated name", "long row"],
)
def test_bad_sample_sheet_raises_a_stack_error_naming_line_and_fix(tmp_path, text, message):
    (tmp_path / "stacks.tsv").write_text(text)
    with pytest.raises(io.StackError) as err:
        io.read_sample_sheet(tmp_path / "stacks.tsv")
    assert str(err.value).startswith(f"{tmp_path / 'stacks.tsv'}:")
    assert message in str(err.value)
