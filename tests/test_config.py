"""The shipped configurations: config/paper.yaml (the papers' scales) plans quickly and asks for the papers' sweeps."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def load_text(name: str) -> str:
    return (ROOT / "config" / name).read_text()


def load(name: str) -> dict:
    return yaml.safe_load(load_text(name))


def test_paper_config_has_the_papers_sweeps():
    paper = load("paper.yaml")
    srqpi, conditions = paper["srqpi"], paper["srqpi"]["conditions"]
    defocus = [conditions[c]["defocus_um"] for c in srqpi["sweeps"]["defocus"]["conditions"]]
    assert defocus == list(range(1, 14)) and srqpi["sweeps"]["defocus"]["adaptive"]  # z = +1…+13 µm (Fig. 4)
    assert set(srqpi["train_condition"]) == set(srqpi["sweeps"]["defocus"]["conditions"])
    assert set(defocus) <= set(paper["simulate"]["z_um"]) and 0 in paper["simulate"]["z_um"]
    coherence = [conditions[c].get("coherence", paper["microscope"]["coherence"])
                 for c in srqpi["sweeps"]["coherence"]["conditions"]]
    assert coherence == [0.0, 0.1, 0.2, 0.3, 0.4]  # at z = +4 µm (Fig. 5)
    assert {conditions[c]["defocus_um"] for c in srqpi["sweeps"]["coherence"]["conditions"]} == {4}
    assert paper["simulate"]["field_px"] // load("config.yaml")["srqpi"]["binning"] == 512  # LR 512²
    assert paper["srqpi"]["seeds"] == paper["despeckle"]["seeds"] == [0, 1, 2]
    for family in ("srqpi", "mcnn"):  # the supervised trainers' GPU switches (benchmarks/README.md)
        train = paper[family]["train"]
        assert (train["amp"], train["channels_last"], train["compile"]) == ("bf16", True, True)
    demo = load("config.yaml")  # merged under paper.yaml: these already are the papers' values
    assert demo["despeckle"]["diversity"]["sets"] == [6, 12, 18]
    # the demo's reduced sweeps, completed by paper.yaml: five scatter levels, one network per level, 40× input
    assert paper["despeckle"]["correlation_um"] == [0.5, 1.0, 1.5, 2.0, 3.0]
    assert paper["despeckle"]["levels_training"] == "each" and demo["despeckle"]["levels_training"] == "pooled"
    assert [*demo["contrans"]["objectives"], *paper["contrans"]["objectives"]] == ["4x", "10x", "20x", "40x"]


def test_paper_config_plans_in_under_30_seconds(tmp_path, record_property):
    """A dry run in an empty working directory: every job of the papers' study is planned."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(tmp_path / "config" / "paper.yaml"), "--cores", "1", "-n", "--quiet", "rules"]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    seconds = time.perf_counter() - start
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M)}
    record_property("paper_jobs", counts["total"])
    record_property("paper_plan_seconds", round(seconds, 1))
    print(f"config/paper.yaml: {counts['total']} jobs planned in {seconds:.1f} s")
    assert seconds < 30
    # 13 defocus planes × (U-Net, SRCNN) × 3 seeds, + 4 coherences and the defocus-adaptive U-Net (the
    # sweeps' z networks are the benchmark's)
    assert counts["srqpi_train"] == 13 * 2 * 3 + 4 + 1 and "srqpi_sweep_train" not in counts
    assert counts["srqpi_degrade"] == 13 + 4 and counts["srqpi_reimage"] == 4  # one job per condition
    # one job per sweep network (13 z, adaptive, 4 more S; z4 is in both sweeps) over every z and S
    assert counts["srqpi_cross_evaluate"] == 13 + 1 + 4
    assert counts["contrans_train"] >= 2 * 4  # ContransGAN per specimen and objective
    assert counts["total"] > 600


def plan(tmp_path, *overlays: str, targets: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """A dry run of config.yaml with `overlays` (YAML texts) layered on, in an empty working directory."""
    shutil.copytree(ROOT / "config", tmp_path / "config", dirs_exist_ok=True)
    files = []
    for i, text in enumerate(overlays):
        files.append(tmp_path / f"overlay{i}.yaml")
        files[-1].write_text(text)
    cmd = [sys.executable, "-m", "snakemake", *targets, "--snakefile", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path), "--cores", "1", "-n", "--quiet", "rules", "--configfile", *map(str, files)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)


def test_an_unknown_network_is_one_line_at_planning_time(tmp_path):
    result = plan(tmp_path, "despeckle: {models: {twin: {arch: despeckle_twn}}}\n")
    assert result.returncode != 0
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]
    assert errors == ["error: despeckle.models.twin.arch: unknown model 'despeckle_twn'; known models: contrans, "
                      "contrans_swin, contrans_unet, despeckle_twin, despecklenet, idiffnet, mcnn, patchgan, srcnn, "
                      "srqpi_unet."]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_network_name_the_paths_cannot_hold_is_one_line_at_planning_time(tmp_path):
    # An underscore in a name made the evaluation's inputs unbuildable, and an existing score file then
    # stood in for them: the run planned nothing and said nothing.
    result = plan(tmp_path, "despeckle: {models: {unet_gan: {arch: srqpi_unet, adversarial: true}}}\n")
    assert result.returncode != 0
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]
    assert errors == ["error: despeckle.models.unet_gan: a network's name becomes part of its file paths and may "
                      "hold only letters and digits; rename it, e.g. to 'unetgan'."]


# each probe's own trainings: networks × budgets × seeds
PROBE_TRAININGS = {"despeckle_gan_ablation": 2 * 3 * 2, "despeckle_data_scale": 0, "despeckle_patch_size": 0,
                   "despeckle_capacity": 3 * 3 * 2, "despeckle_upsampling": 2 * 3 * 3 + 4}  # + the demo's 4 at seed 2


@pytest.mark.parametrize("name", PROBE_TRAININGS)
def test_the_recorded_despeckle_probes_still_plan(tmp_path, name):
    """benchmarks/README.md quotes these overlays' runs: each must still plan its trainings."""
    result = plan(tmp_path, (ROOT / "benchmarks" / f"{name}.yaml").read_text(),
                  targets=("results/tables/fidelity_budget.csv",))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M)}
    # the demo's 4 networks × 2 seeds (each evaluation scores every network of its condition), and the probe's
    assert counts["despeckle_train"] == 8 + PROBE_TRAININGS[name]


def test_the_budget_and_gpu_check_configs_plan(tmp_path):
    """config/budget.yaml adds each followed model at 3× and 10×; an unknown one is one line; the GPU
    check trains each family's comparison once."""
    result = plan(tmp_path, load_text("budget.yaml"))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M)}
    assert counts["srqpi_train"] == 2 * 3 * 3  # U-Net and SRCNN × 3 seeds × 3 budgets (the demo's 4 among them)
    check = plan(tmp_path, *(load_text(name) for name in ("paper.yaml", "gpu_check.yaml")),
                 targets=("results/tables/fidelity_budget.csv",))
    assert check.returncode == 0, (check.stdout + check.stderr)[-3000:]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", check.stdout + check.stderr, re.M)}
    trainings = {k: v for k, v in counts.items() if k.endswith("_train")}
    assert trainings == {"srqpi_train": 2, "mcnn_train": 2, "despeckle_train": 4, "contrans_train": 3}
    bad = plan(tmp_path, "budget: {multipliers: [1, 3], seeds: [0], families: {mcnn: [mcnn, unet]}}\n")
    assert bad.returncode != 0 and "error: budget.families.mcnn names ['unet'], not in mcnn.models (mcnn, trunk)" in (
        bad.stdout + bad.stderr)
