"""The four families are four implementations of the same verbs (docs/architecture.md, "The family
interface"): `conditions(cfg)` names what is trained and tested on, `acquire(...)` makes a
condition's data, `score(prediction, references, **labels)` gives score rows of one schema."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from qpi.families import contrans, despeckle, mcnn, srqpi
from qpi.scoring import scores

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = {"srqpi": srqpi, "mcnn": mcnn, "despeckle": despeckle, "contrans": contrans}
VERBS = ("conditions", "acquire", "score")
CONDITION = re.compile(r"[A-Za-z0-9.+-]+")  # the rules' wildcard constraint on {condition}


@pytest.fixture(scope="module")
def demo():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    validate(config, str(ROOT / "config" / "schemas" / "config.schema.yaml"))  # fills in the schema's defaults
    return config


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_implements_every_verb(family):
    missing = [verb for verb in VERBS if not callable(getattr(FAMILIES[family], verb, None))]
    assert not missing, f"qpi.{family} lacks {missing}"


@pytest.mark.parametrize("family", FAMILIES)
def test_conditions_are_named_specs_a_path_can_carry(family, demo):
    conditions = FAMILIES[family].conditions(demo[family])
    assert conditions and all(isinstance(spec, dict) for spec in conditions.values())
    assert all(CONDITION.fullmatch(name) for name in conditions), list(conditions)


def test_the_conditions_are_those_the_studies_use(demo):
    assert set(srqpi.adaptive(demo["srqpi"])) <= set(srqpi.conditions(demo["srqpi"]))
    assert demo["mcnn"]["convergence"]["condition"] in mcnn.conditions(demo["mcnn"])
    assert demo["contrans"]["baselines"]["objective"] in contrans.conditions(demo["contrans"])
    levels = [f"l{i + 1}" for i in range(len(demo["despeckle"]["correlation_um"]))]
    assert set(levels) <= set(despeckle.conditions(demo["despeckle"]))


def _perfect(family, rng):
    """A prediction equal to its references (pistons aside) in each family's own array layout, and the
    image label a family that scores one field at a time needs."""
    phase = rng.random((2, 1, 24, 24))
    if family == "srqpi":  # one whole field of view at a time
        return phase[0, 0] + 3.0, {"exact": phase[0, 0], "tie": phase[0, 0]}, {"image": "field"}
    if family == "mcnn":
        return np.concatenate([phase + 3.0, phase], axis=1), {"phase": phase, "amplitude": phase}, {}
    if family == "despeckle":
        intensity = rng.random((2, 1, 24, 24))
        return (np.concatenate([2 * intensity - 1, phase], axis=1),
                {"intensity": intensity, "tie": phase, "exact": phase}, {})
    return phase + 3.0, {"tie": phase, "exact": phase, "fov": np.arange(2)}, {}


@pytest.mark.parametrize("family", FAMILIES)
def test_score_gives_rows_of_the_one_schema(family):
    prediction, references, image = _perfect(family, np.random.default_rng(0))
    labels = {"family": family, "model": "m", "seed": 0, "train_condition": "a", "test_condition": "b", **image}
    rows = pd.DataFrame(FAMILIES[family].score(prediction, references, **labels))
    assert set(scores.COLUMNS) <= set(rows.columns)
    assert (rows["family"] == family).all() and set(rows["quantity"]) <= {"phase", "intensity", "amplitude"}
    ssim = rows.loc[rows["metric"] == "ssim", "value"]
    assert len(ssim) >= 1 and np.allclose(ssim, 1.0)
