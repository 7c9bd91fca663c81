"""Budget curves: each family's proposed method and its strongest baseline at k× the demo's training.

`budget:` (config/budget.yaml) names per family the models to follow, the multipliers k and the seeds.
`expand` adds to each family's `models` one entry per (model, k > 1), named `<model>x<k>`, the same
network with its training scaled: epochs, and the epoch counts of its learning-rate schedule, times k
(so a cosine or linear decay keeps its shape over the longer run). Those entries are ordinary models
of the family: its rules train, evaluate and score them like any other, on the same data.
`runs` lists every (family, model, k, seed) with where it is scored; `scores` reduces those files to
each family's headline test SSIM (the rows its summary headline averages).
"""

from __future__ import annotations

import pandas as pd

from qpi import families
from qpi.core.papers import PAPER
from qpi.core.plan import architecture, model_train
from qpi.scoring.scores import phase_reference
from qpi.training.config import scale_schedule

BUDGET_COLUMNS = ["family", "model", "multiplier", "seed", "epochs", "ssim", "images"]


def key(model: str, multiplier: int) -> str:
    """The model entry that trains `model` at `multiplier` × its budget (1: the model itself)."""
    return model if multiplier == 1 else f"{model}x{multiplier}"


def scaled(train: dict, multiplier: int) -> dict:
    """Training settings `train` at `multiplier` × the epochs, schedule included."""
    out = {**train, "epochs": train["epochs"] * multiplier}
    if train.get("min_steps"):  # a floor on the steps scales with the budget too
        out["min_steps"] = train["min_steps"] * multiplier
    if isinstance(train.get("lr_schedule"), dict):
        out["lr_schedule"] = scale_schedule(train["lr_schedule"], multiplier)
    return out


def expand(config: dict) -> dict:
    """`config` with the budget's scaled model entries added in place (unchanged without `budget`)."""
    spec = config.get("budget") or {}
    for family, models in spec.get("families", {}).items():
        block = config[family]
        unknown = [m for m in models if m not in block["models"]]
        if unknown:
            raise ValueError(f"budget.families.{family} names {unknown}, not in {family}.models "
                             f"({', '.join(block['models'])})")
        for model in models:
            for k in spec["multipliers"]:
                if k != 1:
                    block["models"][key(model, k)] = {**architecture(block, model),
                                                      "train": scaled(model_train(block, model), k)}
    return config


def runs(config: dict) -> list[dict]:
    """Every budget run: family, model (the base name), multiplier, seed, its model key and epochs,
    and where its headline SSIM is read (`Family.budget_headline`: the evaluation CSVs, the (train
    condition, test condition) pairs and the phase reference, None for the exact phase where the rows have it)."""
    spec = config.get("budget") or {}
    out = []
    for family, models in spec.get("families", {}).items():
        try:
            headline = families.get(family).budget_headline
        except ValueError as err:
            raise ValueError(f"budget: {err}") from None
        for model in models:
            for k in spec["multipliers"]:
                for seed in spec["seeds"]:
                    run = {"model": key(model, k), "seed": seed}
                    out.append({"family": family, "model": model, "multiplier": k, "seed": seed, "key": run["model"],
                                "epochs": model_train(config[family], run["model"])["epochs"],
                                **headline(config, run)})
    return out


def headline_ssim(run: dict, rows: pd.DataFrame) -> pd.Series:
    """The phase SSIM of `run` in score rows `rows` (scores.COLUMNS), one value per image."""
    pairs = rows["train_condition"].astype(str) + "→" + rows["test_condition"].astype(str)
    rows = rows[(rows["model"] == run["key"]) & (rows["seed"] == run["seed"]) & (rows["metric"] == "ssim")
                & pairs.isin([f"{train}→{test}" for train, test in run["pairs"]])]
    if "quantity" in rows:
        rows = rows[rows["quantity"].fillna("phase") == "phase"]
    return rows.loc[rows["reference"] == (run["reference"] or phase_reference(rows)), "value"]


def scores(runs: list[dict], read=pd.read_csv) -> pd.DataFrame:
    """One row per budget run: its headline test SSIM (mean over images), in BUDGET_COLUMNS."""
    tables: dict[str, pd.DataFrame] = {}  # one file may score several runs: read each once
    records = []
    for run in runs:
        for f in run["files"]:
            if f not in tables:
                tables[f] = read(f)
        rows = pd.concat([tables[f] for f in run["files"]], ignore_index=True)
        values = headline_ssim(run, rows)
        if values.empty:
            raise ValueError(f"budget: no phase SSIM of {run['key']} seed {run['seed']} for (train, test) "
                             f"{run['pairs']} in {', '.join(run['files'])}")
        records.append({**{k: run[k] for k in BUDGET_COLUMNS[:5]}, "ssim": values.mean(), "images": len(values)})
    return pd.DataFrame(records, columns=BUDGET_COLUMNS)


def paper_ssim(config: dict) -> dict[tuple[str, str], float]:
    """The papers' SSIM of each (family, model) where a paper gives one, at the configured setting
    where the paper's number depends on it (`Family.paper`)."""
    out = {k: v["ssim"] for k, v in PAPER.items() if "ssim" in v}
    for family in families.every():
        out |= {(family.name, method): v["ssim"] for method, v in family.paper(config).items() if "ssim" in v}
    return out
