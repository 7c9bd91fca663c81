"""Our networks at the paper's size have the authors' parameter counts (benchmarks/parity.py)."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AUTHORS = ["despeckle_despecklenet", "despeckle_discriminator", "contrans_contrans", "contrans_discriminator",
           "mcnn_mcnn"]


@pytest.fixture(scope="module")
def parity():
    spec = importlib.util.spec_from_file_location("parity", ROOT / "benchmarks" / "parity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.table()


def test_the_recorded_counts_are_the_current_ones(parity):
    recorded = json.loads((ROOT / "benchmarks" / "parity.json").read_text())
    assert recorded == parity, "rerun python benchmarks/parity.py"


@pytest.mark.parametrize("network", AUTHORS)
def test_ours_is_within_two_percent_of_the_authors(parity, network):
    row = parity[network]
    assert abs(row["ours"] - row["official"]) / row["official"] <= 0.02, row


def test_every_authors_network_is_checked(parity):
    with_official = {name for name, row in parity.items() if row["official"] is not None}
    assert with_official == set(AUTHORS)
