"""TIFF stacks and images with ImageJ metadata, validation errors, JSON sidecars, sample sheet."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from qpi import io

ROOT = Path(__file__).resolve().parents[1]
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


# ----------------------------------------------------------------------------- files as users save them

OPTICS = {"wavelength_um": 0.55, "pixel_um": 0.2}


def planes(n=3, dtype=np.uint16, shape=(16, 12)) -> np.ndarray:
    """n distinct grey planes (plane k: 10·(k+1) + ramp), in the given dtype."""
    ramp = np.add.outer(np.arange(shape[0]), np.arange(shape[1]))
    return np.stack([10 * (k + 1) + ramp for k in range(n)]).astype(dtype)


def one_sentence(message: str) -> bool:
    text = message.replace("...", "…")  # "--z-um=Z1,Z2,... (qpi)" is one sentence
    return text.endswith(".") and ". " not in text and "\n" not in text


@pytest.mark.parametrize("dtype", [np.float32, np.uint16, np.uint8])
def test_planar_three_sample_tiff_reads_as_three_planes_in_order(tmp_path, dtype):
    data = planes(3, dtype)
    if dtype is np.float32:
        data = data / np.float32(7)  # non-integer intensities
    # what tifffile.imwrite(path, stack) makes of a (3, H, W) stack today (later versions: grey pages)
    tifffile.imwrite(tmp_path / "s.tif", data, photometric="rgb", planarconfig="separate")
    with tifffile.TiffFile(tmp_path / "s.tif") as tif:
        assert tif.series[0].axes == "SYX"
    back = io.read_stack(tmp_path / "s.tif", z_um=[2.0, -2.0, 0.0], **OPTICS)
    np.testing.assert_array_equal(back.z_um, [-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(back.data, data[[1, 2, 0]].astype(np.float32))
    assert back.data.dtype == np.float32
    assert io.read_stack(tmp_path / "s.tif", z_um=[2.0, -2.0, 0.0], raw=True, **OPTICS).data.dtype == dtype


def test_planar_tiff_of_four_samples_reads_as_four_planes(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", planes(4), photometric="minisblack", planarconfig="separate")
    back = io.read_stack(tmp_path / "s.tif", z_um=[-1.5, -0.5, 0.0, 1.0], **OPTICS)
    np.testing.assert_array_equal(back.data[:, 0, 0], [10, 20, 30, 40])


@pytest.mark.parametrize("axes", ["TYX", "CYX", "IYX", "ZYX", None])
def test_any_single_leading_axis_counts_as_z(tmp_path, axes):
    meta = {"axes": axes} if axes else {}
    tifffile.imwrite(tmp_path / "s.tif", planes(3), photometric="minisblack", metadata=meta)
    with tifffile.TiffFile(tmp_path / "s.tif") as tif:
        assert tif.series[0].axes == (axes or "QYX")
    back = io.read_stack(tmp_path / "s.tif", z_um=Z_UM, **OPTICS)
    np.testing.assert_array_equal(back.data[:, 0, 0], [10, 20, 30])


@pytest.mark.parametrize("shape, axes", [((16, 12, 3), "YXS"), ((3, 16, 12, 3), "QYXS")], ids=["RGB", "RGB stack"])
def test_interleaved_colour_is_refused_in_one_sentence(tmp_path, shape, axes):
    tifffile.imwrite(tmp_path / "colour.tif", np.full(shape, 9, np.uint8), photometric="rgb")
    with tifffile.TiffFile(tmp_path / "colour.tif") as tif:
        assert tif.series[0].axes == axes
    with pytest.raises(io.StackError) as err:
        io.read_stack(tmp_path / "colour.tif", z_um=Z_UM, **OPTICS)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'colour.tif'}: is stored as an RGB/colour image")
    assert "save the stack as grey-level planes" in message and one_sentence(message)


@pytest.mark.parametrize("compression", ["lzw", "zlib"])  # LZW: ZEN, NIS-Elements, LAS X and Bio-Formats exports
def test_a_compressed_stack_reads_as_its_uncompressed_pixels(tmp_path, compression):
    data = counts_stack().data.astype(np.uint16)
    tifffile.imwrite(tmp_path / "s.tif", data, compression=compression, photometric="minisblack")
    back = io.read_stack(tmp_path / "s.tif", z_um=[-1, 0, 1], wavelength_um=0.55, pixel_um=0.1)
    np.testing.assert_array_equal(back.data, data)


def test_a_compression_tifffile_cannot_decode_alone_names_the_package_not_corruption(tmp_path, monkeypatch):
    tifffile.imwrite(tmp_path / "s.tif", counts_stack().data.astype(np.uint16), compression="lzw",
                     photometric="minisblack")
    # tifffile as installed without imagecodecs: its pure-Python codecs only, none cached yet
    monkeypatch.setattr(tifffile.tifffile, "imagecodecs", importlib.import_module("tifffile._imagecodecs"))
    monkeypatch.setattr(tifffile.TIFF.DECOMPRESSORS, "_codecs", {1: tifffile.tifffile.identityfunc})
    with pytest.raises(io.StackError) as err:
        io.read_stack(tmp_path / "s.tif", z_um=[-1, 0, 1], wavelength_um=0.55, pixel_um=0.1)
    assert str(err.value).startswith(f"{tmp_path / 's.tif'}: is LZW-compressed, and reading it needs the imagecodecs")
    assert "corrupt" not in str(err.value)


def test_eight_bit_two_plane_stack_reads_and_saturation_is_judged_at_255(tmp_path):
    data = planes(2, np.uint8)
    data[1, :4] = 255  # a few bright pixels: not saturated
    tifffile.imwrite(tmp_path / "s.tif", data, photometric="minisblack")
    back = io.read_stack(tmp_path / "s.tif", z_um=[0.0, 2.5], raw=True, **OPTICS)
    assert back.data.dtype == np.uint8
    np.testing.assert_array_equal(back.data, data)
    data[1, :10] = 255  # 120 of 192 pixels
    tifffile.imwrite(tmp_path / "s.tif", data, photometric="minisblack")
    with pytest.raises(io.StackError, match=r"plane z = 2.5 µm is saturated \(62% of pixels at 255\)"):
        io.read_stack(tmp_path / "s.tif", z_um=[0.0, 2.5], **OPTICS)


def test_float64_stack_reads_as_float32(tmp_path):
    data = planes(3, np.float64) / 3
    tifffile.imwrite(tmp_path / "s.tif", data, photometric="minisblack")
    back = io.read_stack(tmp_path / "s.tif", z_um=Z_UM, **OPTICS)
    assert back.data.dtype == np.float32
    np.testing.assert_allclose(back.data, data, rtol=1e-6)
    assert io.read_stack(tmp_path / "s.tif", z_um=Z_UM, raw=True, **OPTICS).data.dtype == np.float64


def test_imagej_pixel_size_in_um_and_json_info_are_read(tmp_path):
    tifffile.imwrite(tmp_path / "ij.tif", planes(3), imagej=True, resolution=(1 / 0.108, 1 / 0.108),
                     metadata={"axes": "ZYX", "unit": "um", "Info": json.dumps({"z_um": [1, -1, 0], "na": 0.3})})
    back = io.read_stack(tmp_path / "ij.tif", wavelength_um=0.55)
    assert (back.pixel_um, back.na) == (pytest.approx(0.108), 0.3)
    np.testing.assert_array_equal(back.data[:, 0, 0], [20, 30, 10])  # sorted to z = -1, 0, 1


def test_imagej_spacing_alone_is_no_focus_and_the_error_says_so(tmp_path):
    tifffile.imwrite(tmp_path / "ij.tif", planes(3), imagej=True, resolution=(5, 5),
                     metadata={"axes": "ZYX", "unit": "micron", "spacing": 2.5})
    with pytest.raises(io.StackError) as err:
        io.read_stack(tmp_path / "ij.tif", wavelength_um=0.55)
    message = str(err.value)
    assert "no z positions relative to focus" in message and "z step, spacing 2.5 µm" in message
    assert "give z relative to focus with --z-um=" in message and one_sentence(message)
    assert io.read_stack(tmp_path / "ij.tif", wavelength_um=0.55, z_um=[-2.5, 0, 2.5]).pixel_um == 0.2


def _ome(path, z=None, z_unit=None, **pixels):
    meta = {"axes": "ZYX", **pixels}
    if z is not None:
        meta["Plane"] = {"PositionZ": z} | ({"PositionZUnit": [z_unit] * len(z)} if z_unit else {})
    tifffile.imwrite(path, planes(len(z) if z else 3), ome=True, metadata=meta)
    return path


def test_ome_pixel_size_in_nm_and_relative_plane_z_are_read(tmp_path):
    path = _ome(tmp_path / "s.ome.tif", z=[2000.0, -2000.0, 0.0], z_unit="nm", PhysicalSizeX=232.5,
                PhysicalSizeXUnit="nm")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome and not tif.is_imagej
    back = io.read_stack(path, wavelength_um=0.55)
    assert back.pixel_um == pytest.approx(0.2325)
    np.testing.assert_allclose(back.z_um, [-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(back.data[:, 0, 0], [20, 30, 10])


def test_ome_pixel_size_without_unit_is_um(tmp_path):
    back = io.read_stack(_ome(tmp_path / "s.ome.tif", PhysicalSizeX=0.65), wavelength_um=0.55, z_um=Z_UM)
    assert back.pixel_um == 0.65


def test_ome_stage_positions_are_not_taken_for_defocus(tmp_path):
    path = _ome(tmp_path / "s.ome.tif", z=[1203.5, 1206.0, 1208.5], z_unit="µm", PhysicalSizeX=0.2325)
    with pytest.raises(io.StackError) as err:
        io.read_stack(path, wavelength_um=0.55)
    message = str(err.value)
    assert message.startswith(f"{path}: no z positions relative to focus")
    assert "OME planes are at 1203.5…1208.5 µm, stage positions" in message and "--z-um=" in message
    assert one_sentence(message)
    np.testing.assert_array_equal(io.read_stack(path, wavelength_um=0.55, z_um=[-2.5, 0, 2.5]).z_um, [-2.5, 0, 2.5])


def test_ome_channel_wavelength_is_not_the_illumination_wavelength(tmp_path):
    tifffile.imwrite(tmp_path / "s.ome.tif", planes(3), ome=True,
                     metadata={"axes": "ZYX", "PhysicalSizeX": 0.2, "Channel": {"EmissionWavelength": 520.0}})
    with pytest.raises(io.StackError, match="no wavelength in the file's metadata"):
        io.read_stack(tmp_path / "s.ome.tif", z_um=Z_UM)


def test_an_empty_z_list_is_reported_as_none(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", planes(3), photometric="minisblack")
    with pytest.raises(io.StackError, match=r"3 planes but 0 z positions \(none\)"):
        io.read_stack(tmp_path / "s.tif", z_um=[], **OPTICS)


# ----------------------------------------------------------------------------- one file per plane


def _plane_files(tmp_path, n=2, shape=(16, 12), **imagej):
    paths = [tmp_path / f"I{k}.tif" for k in range(n)]
    for k, (p, plane) in enumerate(zip(paths, planes(n, shape=shape))):
        if imagej and k == 0:  # only the first carries calibration, as some software writes it
            tifffile.imwrite(p, plane, imagej=True, resolution=(4, 4), metadata={"axes": "YX", **imagej})
        else:
            tifffile.imwrite(p, plane, photometric="minisblack")
    return paths


def test_separate_plane_files_stack_in_the_order_of_their_z(tmp_path):
    paths = _plane_files(tmp_path, 3, unit="um")
    back = io.read_stack([str(paths[0]), paths[1], paths[2]], wavelength_um=0.55, z_um=[0.0, 2.5, -2.5])
    assert back.pixel_um == 0.25  # from the first file's ImageJ calibration
    np.testing.assert_array_equal(back.z_um, [-2.5, 0.0, 2.5])
    np.testing.assert_array_equal(back.data[:, 0, 0], [30, 10, 20])
    np.testing.assert_array_equal(back.data[1], planes(3)[0])


def test_plane_files_take_metadata_from_the_first_file_that_has_it(tmp_path):
    paths = [tmp_path / "bare.tif", tmp_path / "fine.tif", tmp_path / "coarse.tif"]
    tifffile.imwrite(paths[0], planes(1)[0], photometric="minisblack")
    for p, per_um in zip(paths[1:], (10, 2)):
        tifffile.imwrite(p, planes(1)[0], imagej=True, resolution=(per_um, per_um), metadata={"unit": "um"})
    assert io.read_stack(paths, wavelength_um=0.55, z_um=[-1, 0, 1]).pixel_um == pytest.approx(0.1)


def test_plane_files_each_labelled_with_their_z_need_no_z_list(tmp_path):
    for name, z, k in (("Iz.tif", 2.5, 1), ("I0.tif", 0, 0)):
        tifffile.imwrite(tmp_path / name, planes(2)[k], imagej=True, resolution=(4, 4),
                         metadata={"axes": "YX", "unit": "um", "Labels": [f"z={z}um"]})
    back = io.read_stack([tmp_path / "Iz.tif", tmp_path / "I0.tif"], wavelength_um=0.55)
    np.testing.assert_array_equal(back.z_um, [0.0, 2.5])
    np.testing.assert_array_equal(back.data[:, 0, 0], [10, 20])


def test_plane_files_of_different_shape_name_both_files(tmp_path):
    a, b = _plane_files(tmp_path, 1)[0], tmp_path / "small.tif"
    tifffile.imwrite(b, np.ones((8, 12), np.uint16), photometric="minisblack")
    with pytest.raises(io.StackError) as err:
        io.read_stack([a, b], z_um=[0, 2.5], **OPTICS)
    message = str(err.value)
    assert message.startswith(f"{a}, {b}: planes differ (16×12 uint16 vs 8×12 uint16)") and one_sentence(message)


def test_plane_files_without_z_name_the_files_and_the_fix(tmp_path):
    paths = _plane_files(tmp_path, 2)
    with pytest.raises(io.StackError) as err:
        io.read_stack(paths, **OPTICS)
    message = str(err.value)
    assert message.startswith(f"{paths[0]}, {paths[1]}: no z positions in the files' metadata")
    assert "give one z per file, in the order given, with --z-um=" in message and one_sentence(message)


def test_a_stack_file_in_a_list_of_plane_files_is_refused(tmp_path):
    tifffile.imwrite(tmp_path / "stack.tif", planes(3), photometric="minisblack")
    paths = [_plane_files(tmp_path, 1)[0], tmp_path / "stack.tif"]
    with pytest.raises(io.StackError, match=r"stack.tif: is not a single 2-D plane \(shape \(3, 16, 12\)\)"):
        io.read_stack(paths, z_um=[0, 2.5], **OPTICS)


def test_a_lone_plane_file_points_to_the_plane_list(tmp_path):
    path = _plane_files(tmp_path, 1)[0]
    with pytest.raises(io.StackError) as err:
        io.read_stack(path, z_um=[0], **OPTICS)
    message = str(err.value)
    assert "is a single 2-D image (16, 12)" in message and "qpi tie I0.tif Iz.tif --z-um=0,2.5" in message
    assert one_sentence(message)


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
    "a folder": (lambda p: (p.mkdir(), (p, {}))[1], "is a folder, not a TIFF"),
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


def test_pixels_that_are_not_intensities_are_refused():
    stack = counts_stack()
    stack.data = stack.data > 1000  # bilevel (bool) pixels
    with pytest.raises(io.StackError, match="one.tif: has bool pixels, not intensities"):
        io.validate_stack(stack, "one.tif")


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
NEW_COLUMNS = {"tie_planes_um": None, "input_um": None, "phase_path": None, "kind": "stack", "diffuser": None,
               "objective": None, "split": None}  # and field: the row's name


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in tmp_path with the files the sheets below name, as a user's project would have them."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for name in ("data/a.tif", "data/b.tif", "a.tif", "b.tif", "s1.tif", "s2.tif", "I0.tif", "Iz.tif"):
        (tmp_path / name).touch()
    return tmp_path


def test_sample_sheet_rows_become_read_stack_arguments(in_tmp):
    sheet = in_tmp / "stacks.tsv"
    sheet.write_text(HEADER + "hela_01\tdata/a.tif\t0.55\t0.085\t-2,0,2\t0.6\t0.3\t40\t1.33\n"
                     "# a comment line\n"
                     "bead\tdata/b.tif\t\t\t\t\t\t\t\n")
    rows = io.read_sample_sheet(sheet)
    assert rows[0] == {"name": "hela_01", "path": "data/a.tif", "wavelength_um": 0.55, "pixel_um": 0.085,
                       "z_um": [-2.0, 0.0, 2.0], "na": 0.6, "coherence": 0.3, "magnification": 40.0,
                       "medium_index": 1.33, "field": "hela_01"} | NEW_COLUMNS
    assert rows[1] == ({"name": "bead", "path": "data/b.tif", "field": "bead"} | {k: None for k in HEADER.split()[2:]}
                       | NEW_COLUMNS)


def test_sample_sheet_with_only_the_columns_it_needs(in_tmp):
    sheet = in_tmp / "stacks.tsv"
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
def test_bad_sample_sheet_raises_a_stack_error_naming_line_and_fix(in_tmp, text, message):
    (in_tmp / "stacks.tsv").write_text(text)
    with pytest.raises(io.StackError) as err:
        io.read_sample_sheet(in_tmp / "stacks.tsv")
    assert str(err.value).startswith(f"{in_tmp / 'stacks.tsv'}:")
    assert message in str(err.value)


def test_sample_sheet_lists_plane_files_and_per_stack_planes(in_tmp):
    (in_tmp / "stacks.tsv").write_text("name\tpath\tz_um\ttie_planes_um\tinput_um\tpixel_um\n"
                                       "pair\tI0.tif, Iz.tif\t0,2.5\t0,2.5\t2.5\t0.2\n"
                                       "one\ta.tif\t-2,0,2\t-2,2\t\t\n")
    pair, one = io.read_sample_sheet(in_tmp / "stacks.tsv")
    assert pair["path"] == ["I0.tif", "Iz.tif"] and one["path"] == "a.tif"
    assert (pair["tie_planes_um"], pair["input_um"]) == ([0.0, 2.5], 2.5)
    assert (one["tie_planes_um"], one["input_um"]) == ([-2.0, 2.0], None)
    assert io.sheet_overrides(pair) == {"z_um": [0.0, 2.5], "pixel_um": 0.2}
    assert io.sheet_overrides(one) == {"z_um": [-2.0, 0.0, 2.0]}


def test_a_sheet_row_of_plane_files_reads_as_one_stack(in_tmp):
    for p, plane in zip(("Iz.tif", "I0.tif"), planes(2)):  # Iz.tif: 10 + ramp, I0.tif: 20 + ramp
        tifffile.imwrite(in_tmp / p, plane, photometric="minisblack")
    (in_tmp / "stacks.tsv").write_text("name\tpath\twavelength_um\tpixel_um\tz_um\n"
                                       "pair\tIz.tif,I0.tif\t0.55\t0.2\t2.5,0\n")
    (row,) = io.read_sample_sheet(in_tmp / "stacks.tsv")
    back = io.read_stack(row["path"], **io.sheet_overrides(row))
    np.testing.assert_array_equal(back.z_um, [0.0, 2.5])
    np.testing.assert_array_equal(back.data[:, 0, 0], [20, 10])  # I0.tif first once sorted by z


def test_sheet_rows_validate_against_the_schema(in_tmp):
    jsonschema, yaml = pytest.importorskip("jsonschema"), pytest.importorskip("yaml")
    schema = yaml.safe_load((ROOT / "config" / "schemas" / "stacks.schema.yaml").read_text())
    (in_tmp / "stacks.tsv").write_text("name\tpath\tz_um\ttie_planes_um\tinput_um\n"
                                       "pair\tI0.tif,Iz.tif\t0,2.5\t0,2.5\t2.5\none\ta.tif\n")
    for row in io.read_sample_sheet(in_tmp / "stacks.tsv"):
        jsonschema.validate(row, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "path": 3}, schema)


SHEET_ERRORS = {
    "missing file": ("name\tpath\na\ta.tif\nb\tmissing.tif\n",
                     "line 3 (b): file missing.tif not found (relative paths start from the working directory {cwd})"),
    "missing plane file": ("name\tpath\nb\tI0.tif,gone.tif\n", "line 2 (b): file gone.tif not found"),
    "empty file in list": ("name\tpath\nb\tI0.tif,\n", "line 2 (b) has an empty file name in its path list"),
    "z count": ("name\tpath\tz_um\np\tI0.tif,Iz.tif\t-2,0,2\n",
                "line 2 (p): 2 files but 3 z positions ([-2, 0, 2] µm); give one z per file"),
    "tie planes": ("name\tpath\tz_um\ttie_planes_um\np\ta.tif\t-2,0,2\t0,1,3\n",
                   "line 2 (p): tie_planes_um [1, 3] µm not among z_um [-2, 0, 2] µm"),
    "bad input_um": ("name\tpath\tinput_um\np\ta.tif\tfar\n", "line 2, column input_um: 'far' is not a number"),
    "unknown column": ("name\tpath\tplanes\np\ta.tif\t0\n", "'phase_path', 'diffuser', 'objective', 'split']"),
}


@pytest.mark.parametrize("text, message", SHEET_ERRORS.values(), ids=SHEET_ERRORS.keys())
def test_sheet_problems_name_the_sheet_line_and_stack(in_tmp, text, message):
    (in_tmp / "stacks.tsv").write_text(text)
    with pytest.raises(io.StackError) as err:
        io.read_sample_sheet(in_tmp / "stacks.tsv")
    assert str(err.value).startswith(f"{in_tmp / 'stacks.tsv'}: ")
    assert message.format(cwd=in_tmp) in str(err.value)
    assert one_sentence(str(err.value))


def test_a_clipped_plane_is_a_warning_naming_the_plane(tmp_path, caplog):
    # a few pixels at the camera's full scale: kept (exit 0), but the TIE will suffer, so it is said
    data = np.full((2, 64, 64), 120, np.uint8)
    data[1, :4, :4] = 255  # 0.4 % of the plane
    path = tmp_path / "clipped.tif"
    tifffile.imwrite(path, data)
    with caplog.at_level("WARNING", logger="qpi.io"):
        io.read_stack(path, wavelength_um=0.55, pixel_um=0.2, z_um=[0, 2.5])
    assert "plane z = 2.5 µm has 0.39% of its pixels at 255 (clipped" in caplog.text
    caplog.clear()
    data[1, :4, :4] = 254  # not full scale: nothing to say
    tifffile.imwrite(path, data)
    with caplog.at_level("WARNING", logger="qpi.io"):
        io.read_stack(path, wavelength_um=0.55, pixel_um=0.2, z_um=[0, 2.5])
    assert caplog.text == ""


def test_a_measured_phase_must_lie_on_its_stacks_grid_in_radians(tmp_path):
    stack = io.Stack(data=np.ones((2, 16, 12), np.float32), z_um=np.array([0.0, 2.0]), wavelength_um=0.55,
                     pixel_um=0.2)
    good = np.zeros((16, 12), np.float32)
    good[0, 0] = np.nan  # nothing measured there
    tifffile.imwrite(tmp_path / "good.tif", good)
    assert np.array_equal(io.read_measured_phase(tmp_path / "good.tif", stack), good, equal_nan=True)
    tifffile.imwrite(tmp_path / "small.tif", good[:8])
    with pytest.raises(io.StackError, match=r"small.tif: a 8×12 phase for a stack of 16×12 planes; register"):
        io.read_measured_phase(tmp_path / "small.tif", stack)
    io.write_image(tmp_path / "coarse.tif", good, pixel_um=0.4)
    with pytest.raises(io.StackError, match=r"coarse.tif: pixels of 0.4 µm, the stack's are 0.2 µm"):
        io.read_measured_phase(tmp_path / "coarse.tif", stack)
    tifffile.imwrite(tmp_path / "degrees.tif", np.full((16, 12), 3600.0, np.float32))
    with pytest.raises(io.StackError, match="give the phase in radians"):
        io.read_measured_phase(tmp_path / "degrees.tif", stack)


def test_the_sheets_phase_path_is_read_and_must_exist(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", np.ones((2, 8, 8), np.uint8))
    tifffile.imwrite(tmp_path / "p.tif", np.zeros((8, 8), np.float32))
    sheet = tmp_path / "stacks.tsv"
    sheet.write_text(f"name\tpath\tphase_path\na\t{tmp_path / 's.tif'}\t{tmp_path / 'p.tif'}\n"
                     f"b\t{tmp_path / 's.tif'}\t\nc\t{tmp_path / 's.tif'}\t{tmp_path / 'gone.tif'}\n")
    rows, problems = io.check_sample_sheet(sheet)
    assert [r["phase_path"] for r in rows] == [str(tmp_path / "p.tif"), None]
    assert len(problems) == 1 and "gone.tif not found" in problems[0] and "phase_path column" in problems[0]
