"""The `qpi` command: exit codes, user errors without tracebacks, light start-up, TIE end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from qpi import cli, io
from qpi.optics.propagation import angular_spectrum


def write_counts_stack(path, z_um=(-2.0, 0.0, 2.0), **optics):
    ramp = np.add.outer(np.arange(16), np.arange(12))
    data = np.stack([1000 + 100 * z + 7 * ramp for z in z_um]).astype(np.float32)
    meta = dict(wavelength_um=0.633, pixel_um=0.1625) | optics
    io.write_stack(path, io.Stack(data=data, z_um=np.asarray(z_um), **meta))
    return path


def qpi(*args):
    """Run the installed command in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "qpi.cli", *map(str, args)], capture_output=True, text=True)


def test_validate_prints_a_summary_and_exits_0(tmp_path):
    path = write_counts_stack(tmp_path / "s.tif", z_um=(1.0, -1.0, 0.0))
    run = qpi("validate", path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (f"{path}: ok — 3 planes of 16×12 uint16, z = -1, 0, 1 µm, λ = 0.633 µm, "
                                  "pixel = 0.1625 µm")


def test_validate_reports_a_bad_stack_in_one_line_and_exits_1(tmp_path):
    path = write_counts_stack(tmp_path / "s.tif", z_um=(-2.0, 1.0, 2.0))
    run = qpi("validate", path)
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: {path}: no plane at focus")
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1
    assert run.stdout == ""


def test_validate_a_corrupt_file_is_a_clean_error(tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00" + b"\xff" * 20)
    run = qpi("validate", path)
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: {path}: is not a readable TIFF")
    assert "Traceback" not in run.stderr


def test_metadata_flags_complete_a_bare_tiff(tmp_path):
    path = tmp_path / "bare.tif"
    tifffile.imwrite(path, np.full((3, 8, 8), 500, np.uint16), photometric="minisblack")
    bare = qpi("validate", path)
    assert bare.returncode == 1 and "--wavelength-um" in bare.stderr
    run = qpi("validate", path, "--wavelength-um", "0.55", "--pixel-um", "3.4", "--z-um=-4,0,4")
    assert run.returncode == 0, run.stderr
    assert "z = -4, 0, 4 µm, λ = 0.55 µm, pixel = 3.4 µm" in run.stdout


def test_validate_does_not_import_torch(tmp_path):
    path = write_counts_stack(tmp_path / "s.tif")
    code = (f"import sys, qpi.cli; rc = qpi.cli.main(['validate', {str(path)!r}]); "
            "print('torch' in sys.modules, 'scipy' in sys.modules, rc)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.split()[-3:] == ["False", "False", "0"], run.stderr


def test_tie_imports_only_what_it_uses(tmp_path):
    """`qpi tie` on a frame without a field stop: no torch and no scipy (its import and first transform
    cost more than the whole solve)."""
    path = write_counts_stack(tmp_path / "s.tif")
    code = (f"import sys, qpi.cli; rc = qpi.cli.main(['tie', {str(path)!r}, '-o', {str(tmp_path / 'p.tif')!r}, "
            "'--no-field-stop']); print('torch' in sys.modules, 'scipy' in sys.modules, rc)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.split()[-3:] == ["False", "False", "0"], run.stderr


def test_bad_usage_exits_2():
    with pytest.raises(SystemExit) as exc:
        cli.main(["validate", "s.tif", "--z-um=-1,zero,1"])
    assert exc.value.code == 2


def _weak_bump_stack(n=128, pixel_um=2.0, wavelength_um=0.633, dz_um=1.0, peak_rad=1.5, sigma_um=30.0):
    """A pure phase object (Gaussian bump) imaged at -dz, 0, +dz by the angular spectrum."""
    y, x = (np.mgrid[:n, :n] - n / 2) * pixel_um
    phase = peak_rad * np.exp(-(x**2 + y**2) / (2 * sigma_um**2))
    field = np.exp(1j * phase)
    z = [-dz_um, 0.0, dz_um]
    data = np.stack([np.abs(angular_spectrum(field, zi, wavelength_um, pixel_um)) ** 2 for zi in z])
    stack = io.Stack(data=data.astype(np.float32), z_um=np.array(z), wavelength_um=wavelength_um, pixel_um=pixel_um)
    return stack, phase


def test_tie_writes_the_phase_of_a_known_bump(tmp_path):
    stack, truth = _weak_bump_stack()
    io.write_stack(tmp_path / "bump.tif", stack, dtype="float32")
    rc = cli.main(["tie", str(tmp_path / "bump.tif"), "-o", str(tmp_path / "phase.tif"), "--method", "dct"])
    assert rc == 0
    phase, meta = io.read_image(tmp_path / "phase.tif")
    error = (phase - phase.mean()) - (truth - truth.mean())
    assert np.sqrt(np.mean(error**2)) < 1e-3  # rms phase 0.28 rad; a sign error gives 0.57
    assert (meta["pixel_um"], meta["wavelength_um"], meta["method"]) == (2.0, 0.633, "dct")


def test_tie_forwards_method_and_eps(tmp_path, monkeypatch):
    import qpi.tie

    seen = {}

    def fake_solve(stack, method="fft", eps=None, **kw):
        seen.update(method=method, eps=eps, z=list(stack.z_um), dtype=stack.data.dtype)
        return np.ones(stack.data.shape[1:], np.float32)

    monkeypatch.setattr(qpi.tie, "solve", fake_solve)
    path = write_counts_stack(tmp_path / "s.tif", z_um=(2.0, 0.0, -2.0))
    rc = cli.main(["tie", str(path), "-o", str(tmp_path / "p.tif"), "--method", "iterative", "--eps", "1e-9",
                   "--wavelength-um", "0.55"])
    assert rc == 0
    assert seen == {"method": "iterative", "eps": 1e-9, "z": [-2.0, 0.0, 2.0], "dtype": np.float32}
    assert io.read_image(tmp_path / "p.tif")[1]["wavelength_um"] == 0.55


def test_predict_parses_its_arguments():
    args = cli.build_parser().parse_args(["predict", "--model", "m.pt", "in.tif", "-o", "out.tif", "--device", "cpu",
                                          "--tile", "256", "--normalise", "none", "--pixel-um", "0.5"])
    assert (args.model, args.input, str(args.output), args.device, args.tile) == (
        [Path("m.pt")], [Path("in.tif")], "out.tif", "cpu", 256)
    assert (args.normalise, args.pixel_um, args.flat, args.uncertainty) == ("none", 0.5, None, False)
    seeds = cli.build_parser().parse_args(["predict", "--model", "a.pt", "--model", "runs/", "in.tif", "-o", "o.tif",
                                           "--uncertainty", "--flat", "empty.tif"])
    assert (seeds.model, seeds.input, seeds.flat, seeds.uncertainty) == (
        [Path("a.pt"), Path("runs/")], [Path("in.tif")], Path("empty.tif"), True)
    defaults = cli.build_parser().parse_args(["predict", "--model", "m.pt", "in.tif", "-o", "out.tif"])
    assert (defaults.device, defaults.tile, defaults.normalise, defaults.z_um) == ("auto", None, "mean", None)
    planes = cli.build_parser().parse_args(["predict", "--model", "m.pt", "a.tif", "b.tif", "-o", "o.tif",
                                            "--z-um=-2,2"])
    assert planes.input == [Path("a.tif"), Path("b.tif")] and planes.z_um == [-2.0, 2.0]


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "in.tif", "-o", "out.tif"],  # no model
        ["predict", "--model", "m.pt", "in.tif"],  # no output
        ["predict", "--model", "m.pt", "in.tif", "-o", "o.tif", "--device", "tpu"],
        ["predict", "--model", "m.pt", "in.tif", "-o", "o.tif", "--tile", "0"],
        ["predict", "--model", "m.pt", "in.tif", "-o", "o.tif", "--normalise", "max"],
    ],
    ids=["no model", "no output", "bad device", "zero tile", "bad normalisation"],
)
def test_predict_rejects_bad_usage(argv):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_predict_with_a_missing_model_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "in.tif").write_bytes(b"")
    rc = cli.main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "in.tif"), "-o", "o.tif"])
    assert rc == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'm.pt'}: model not found; check the path.\n"


def test_simulate_then_tie_recovers_the_exact_phase(tmp_path):
    """`qpi simulate` writes a camera-like stack that `qpi validate` accepts and `qpi tie` inverts."""
    stack, truth, phase = tmp_path / "s.tif", tmp_path / "truth.tif", tmp_path / "phase.tif"
    assert cli.main(["simulate", "-o", str(stack), "--field-px", "96", "--z-um=-2,0,2", "--phase", str(truth)]) == 0
    assert io.read_stack(stack, raw=True).data.dtype == np.uint16
    assert cli.main(["validate", str(stack)]) == 0
    assert cli.main(["tie", str(stack), "-o", str(phase), "--method", "dct", "--eps", "1e-9"]) == 0
    recovered, exact = io.read_image(phase)[0], io.read_image(truth)[0]
    assert np.corrcoef(recovered.ravel(), exact.ravel())[0, 1] > 0.9


def test_the_cli_offers_exactly_the_tie_library_s_methods():
    # cli keeps its own copy so that `qpi validate` starts without scipy; it must not drift
    from qpi import cli, tie

    assert cli.METHODS == tie.METHODS


def _demo_config() -> dict:
    from pathlib import Path

    import yaml
    from snakemake.utils import validate

    root = Path(__file__).resolve().parents[1] / "config"
    config = yaml.safe_load((root / "config.yaml").read_text())
    validate(config, str(root / "schemas" / "config.schema.yaml"))  # the defaults the pipeline fills in
    return config


@pytest.mark.parametrize(("family", "model", "condition"), [("srqpi", "unet", "z2"), ("mcnn", "mcnn", "n2"),
                                                            ("despeckle", "despecklenet", "pooled"),
                                                            ("contrans", "contrans", "10x")])
def test_every_familys_card_says_what_its_network_takes_and_gives(family, model, condition):
    from qpi.report import cards

    card = cards.for_run(_demo_config(), family, model, condition)
    channels = card["inputs"]["channels"], card["outputs"]["channels"]
    assert card["family"] == family and all(channels) and all(c["quantity"] for c in channels[0] + channels[1])
    assert card["inputs"]["wavelength_um"] == 0.55 and card["inputs"]["pixel_um"] > 0
    assert "phase" in [c["quantity"] for c in channels[1]] and card["inputs"]["normalisation"]
    if family == "srqpi":  # one binned plane at +2 µm → the phase on a 4× finer grid
        assert channels[0][0]["defocus_um"] == 2 and card["inputs"]["pixel_um"] == 4 * channels[1][0]["pixel_um"]
    if family == "mcnn":  # the planes and their z
        assert [c["z_um"] for c in channels[0]] == [-2.0, 2.0] and [c["quantity"] for c in channels[1]] == [
            "phase", "amplitude"]
    if family == "despeckle":
        assert [c["quantity"] for c in channels[1]] == ["intensity", "phase"]
    if family == "contrans":  # a 10×/0.25 input → the 40×/0.65 TIE phase on the HR grid
        assert card["inputs"]["na"] == 0.25 and channels[1][0]["objective"] == "40×/0.65"


def test_info_prints_the_card_of_a_trained_model_and_one_sentence_for_an_old_file(tmp_path):
    import json

    import torch
    from toys import sr_pairs, train_config

    from qpi.report import cards
    from qpi.training import checkpoints, supervised

    card = cards.for_run(_demo_config(), "srqpi", "unet", "z2")
    supervised.train_supervised("srqpi_unet", {"width": 4, "depth": 2}, sr_pairs(8, 0), sr_pairs(2, 1),
                                train_config(epochs=1, seed=3), tmp_path / "run", card=card)
    model = tmp_path / "run" / "best.pt"
    text = qpi("info", model)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"{model}: DL-SRQPI network 'unet' trained on 'z2', seed 3"
    assert "input 0: quantity intensity, defocus_um 2" in text.stdout and "output 0: quantity phase, unit rad" in text.stdout
    whole = json.loads(qpi("info", model, "--json").stdout)
    assert whole["inputs"] == card["inputs"] and whole["arch"] == "srqpi_unet" and whole["seed"] == 3
    assert whole["training"]["data_digest"] == checkpoints.data_digest(*sr_pairs(8, 0), *sr_pairs(2, 1))
    assert whole["code"].startswith("0.") and whole["training"]["settings"]["epochs"] == 1
    payload = torch.load(model, weights_only=True)
    payload["meta"].pop("card")
    torch.save(payload, tmp_path / "old.pt")
    old = qpi("info", tmp_path / "old.pt")
    assert old.returncode == 1 and old.stderr.count("\n") == 1 and "saved without a model card" in old.stderr
    assert "Traceback" not in old.stderr


def test_validate_sheet_gives_one_sentence_per_mistake_and_a_summary_per_good_stack(tmp_path):
    """A sheet as a user writes it by hand, with five different mistakes besides one good row: every
    mistake is one sentence naming the sheet, the row and the fix; the good stack gets its summary."""
    planes = (np.random.default_rng(0).random((2, 32, 32)) * 200).astype(np.uint8)
    for name in ("good", "twin", "short"):
        tifffile.imwrite(tmp_path / f"{name}.tif", planes)  # bare 8-bit files: no metadata at all
    sheet = tmp_path / "stacks.tsv"
    rows = [
        "name\tpath\twavelength_um\tpixel_um\tz_um\ttie_planes_um",
        f"good\t{tmp_path / 'good.tif'}\t0.55\t0.16\t0,2.5\t",
        f"lost\t{tmp_path / 'lost.tif'}\t0.55\t0.16\t0,2.5\t",            # 1: no such file
        f"unit\t{tmp_path / 'good.tif'}\t550nm\t0.16\t0,2.5\t",           # 2: a unit in a number cell
        f"good\t{tmp_path / 'twin.tif'}\t0.55\t0.16\t0,2.5\t",            # 3: a name used twice
        f"short\t{tmp_path / 'short.tif'}\t0.55\t0.16\t-2,0,2\t",         # 4: three z for a two-plane file
        f"planes\t{tmp_path / 'good.tif'}\t0.55\t0.16\t0,2.5\t0,5",       # 5: a TIE plane the stack lacks
    ]
    sheet.write_text("\n".join(rows) + "\n")
    result = qpi("validate", "--sheet", sheet)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 5, result.stderr
    for error, words in zip(errors, (["line 3", "lost.tif not found"], ["line 4", "wavelength_um", "550nm"],
                                     ["line 5", "'good'", "repeated"], ["line 7", "tie_planes_um [5]"],
                                     ["stack short", "2 planes but 3 z positions"])):
        assert all(w in error for w in words) and str(sheet) in error, (error, words)
    assert result.stdout.startswith("good: ok — 2 planes of 32×32 uint8, z = 0, 2.5 µm")
    assert "1 rows ok, 5 problems" in result.stderr
    assert qpi("validate").returncode == 1 and "either stack files or --sheet" in qpi("validate").stderr


def test_validate_sheet_checks_the_tie_and_input_planes_against_the_files_own_z(tmp_path):
    path = write_counts_stack(tmp_path / "s.tif")  # z -2, 0, 2 in the file's metadata
    sheet = tmp_path / "stacks.tsv"
    sheet.write_text(f"name\tpath\ttie_planes_um\tinput_um\nok\t{path}\t-2,2\t2\nfar\t{path}\t-5,5\t\n"
                     f"deep\t{path}\t\t7\n")
    result = qpi("validate", "--sheet", sheet)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1 and len(errors) == 2 and result.stdout.startswith("ok: ok")
    assert "stack far: tie_planes_um [-5, 5] µm not among the stack's planes at z = [-2, 0, 2]" in errors[0]
    assert "stack deep: input_um [7] µm" in errors[1]
    tifffile.imwrite(tmp_path / "dhm.tif", np.zeros((8, 8), np.float32))  # not the stack's 16×12 grid
    sheet.write_text(f"name\tpath\tphase_path\nok\t{path}\t{tmp_path / 'dhm.tif'}\n")
    measured = qpi("validate", "--sheet", sheet)
    assert measured.returncode == 1 and "stack ok:" in measured.stderr and "a 8×8 phase for a stack of 16×12" in \
        measured.stderr
    flagged = qpi("validate", "--sheet", sheet, "--pixel-um", "0.2")
    assert flagged.returncode == 1 and "--pixel-um would not apply to a sheet's stacks" in flagged.stderr


def test_tie_chooses_eps_from_the_noise_says_so_and_records_it(tmp_path, capsys):
    """A noiseless float stack written here (no metadata but the sheet-like flags) gets the floor; the
    camera stack of `qpi simulate` a camera's ε̃; both name it on the terminal and in the output."""
    import tifffile

    y, x = np.mgrid[:128, :128]
    planes = [1 + 0.05 * np.exp(-((y - 64) ** 2 + (x - 60) ** 2) / 200.0) * (1 - 0.3 * z) for z in (-1, 0, 1)]
    float_stack, camera_stack = tmp_path / "float.tif", tmp_path / "camera.tif"
    tifffile.imwrite(float_stack, np.stack(planes).astype(np.float32), photometric="minisblack")
    assert cli.main(["simulate", "-o", str(camera_stack), "--field-px", "128", "--z-um=-2,0,2"]) == 0
    capsys.readouterr()
    for stack, expected in ((float_stack, 1e-15), (camera_stack, None)):
        out = tmp_path / f"{stack.stem}_phase.tif"
        flags = ["--z-um=-1,0,1", "--pixel-um", "0.2", "--wavelength-um", "0.55"] if stack == float_stack else []
        assert cli.main(["tie", str(stack), "-o", str(out), *flags]) == 0
        said = capsys.readouterr().out
        assert "chosen from the planes' noise" in said
        eps = io.read_image(out)[1]["eps"]
        assert f"ε̃ = {eps:.1e}" in said
        assert eps == expected if expected else 1e-10 < eps < 1e-7


def test_validate_sheet_checks_every_link_between_stacks_speckle_and_low_na_rows(tmp_path):
    """One sheet for every family: stacks, speckle images through diffusers, low-NA images of the same
    fields at their own pixel sizes. Good rows get a summary; each broken link one sentence naming both rows."""
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "f1.tif", (rng.random((2, 64, 64)) * 200).astype(np.uint8))
    tifffile.imwrite(tmp_path / "f1_tape.tif", (rng.random((64, 64)) * 4000).astype(np.uint16))
    tifffile.imwrite(tmp_path / "f1_10x.tif", (rng.random((16, 16)) * 4000).astype(np.uint16),
                     resolution=(1 / 0.64, 1 / 0.64), metadata={"unit": "um"}, imagej=True)
    stack, tape, low = (str(tmp_path / n) for n in ("f1.tif", "f1_tape.tif", "f1_10x.tif"))
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("\n".join([
        "name\tpath\tkind\tfield\tpixel_um\twavelength_um\tz_um\tdiffuser\tobjective\tsplit",
        f"f1\t{stack}\t\t\t0.16\t0.55\t0,2.5\t\t\ttest",
        f"f1_tape\t{tape}\tspeckle\tf1\t0.16\t\t\ttape\t\t",
        f"f1_10x\t{low}\tlowres\tf1\t\t\t\t\t10x\t",                  # 0.64 µm from the file: 4 stack pixels
        f"f2_tape\t{tape}\tspeckle\tf2\t0.16\t\t\ttape\t\t",          # 1: its field has no stack
        f"f1_odd\t{low}\tlowres\tf1\t0.5\t\t\t\t10x\t",               # 2: 0.5 µm is 3.125 stack pixels
        f"f1_foil\t{tape}\tspeckle\tf1\t\t\t\t\t\t",                  # 3: a speckle row with no diffuser
        f"f1_x\t{tape}\timage\tf1\t\t\t\t\t\t",                       # 4: an unknown kind
        f"f1_again\t{tape}\tspeckle\tf1\t0.16\t\t\ttape\t\tval",      # 5: its field is pinned to test
        f"f1_small\t{low}\tspeckle\tf1\t0.16\t\t\ttape\t\t",         # 6: not on its stack's grid
    ]) + "\n")
    result = qpi("validate", "--sheet", sheet)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 6, result.stderr
    expected = (["line 7", "needs its diffuser label"], ["line 8", "kind 'image'"],  # each row, each link, each file
                ["line 5", "f2_tape", "field 'f2'", "no stack row"], ["line 6", "f1_odd", "0.5 µm", "3.12×", "'f1'"],
                ["line 9", "split val", "'f1'", "test"], ["f1_small", "16×16", "64×64", "same camera grid"])
    for error, words in zip(errors, expected):
        assert all(w in error for w in words), (error, words)
    assert "f1: ok — 2 planes of 64×64 uint8" in result.stdout
    assert "f1_tape: ok — speckle image of field f1, 64×64, pixel 0.16 µm, diffuser tape" in result.stdout
    assert "f1_10x: ok — low-NA image of field f1, 16×16, pixel 0.64 µm, objective 10x" in result.stdout
    assert "3 rows ok, 6 problems" in result.stderr
