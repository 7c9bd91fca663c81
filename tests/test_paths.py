"""Paths are defined once (qpi.core.paths): the rule files spell none, and the templates are sound."""

import re
from pathlib import Path

import pytest

from qpi.core import paths

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk")) + [ROOT / "Snakefile"]


def test_the_rule_files_spell_no_results_path_of_their_own():
    literals = [f"{p.name}:{n}" for p in RULE_FILES for n, line in enumerate(p.read_text().splitlines(), 1)
                if re.search(r"[\"']results/", line)]
    assert not literals, f"use qpi.core.paths in the rules, not literals: {literals}"


def test_every_template_lies_under_results_and_names_one_file():
    templates = [t for family in paths.TEMPLATES.values() for t in family.values()]
    assert all(t.startswith(paths.RESULTS + "/") for t in templates)
    assert len(set(templates)) == len(templates), "two keys name the same file"


def test_a_run_directory_carries_model_and_seed():
    for family in paths.TEMPLATES.values():
        for key, template in family.items():
            if key.startswith(("run_", "sweep_")):
                assert {"model", "seed"} <= paths.wildcards(template), key
    assert paths.run_name("unet", 3) == "unet_s3"
    assert paths.fill(paths.SRQPI_RUN["best"], model="unet", seed=3) == "results/srqpi/{condition}/models/unet_s3/best.pt"


def test_fill_sets_the_wildcards_named_and_refuses_others():
    template = paths.SRQPI["scores"]
    assert paths.fill(template, method=paths.RUN) == "results/srqpi/{condition}/eval/{model}_s{seed}.csv"
    assert paths.fill(template, condition="z2", method="tie-fft") == "results/srqpi/z2/eval/tie-fft.csv"
    with pytest.raises(KeyError, match="no wildcard stack"):
        paths.fill(template, stack="cells_0")


def test_logs_benchmarks_tables_and_figures_have_one_place_each():
    assert paths.log("tie/{stack}") == "results/logs/tie/{stack}.log"
    assert paths.log("srqpi/{condition}/train", paths.RUN) == "results/logs/srqpi/{condition}/train/{model}_s{seed}.log"
    assert paths.benchmark("tie/{stack}") == "results/benchmarks/tie/{stack}.tsv"
    assert paths.table("summary", "md") == "results/tables/summary.md"
    assert paths.figure("cross_condition") == "results/figures/cross_condition.png"
