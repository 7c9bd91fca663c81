"""The shipped configurations: config/paper.yaml (the papers' scales) plans quickly and asks for the papers' sweeps."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text())


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
