"""The method families, one package each, behind one registry.

A family package `qpi.families.<name>` holds what its paper knows (conditions, acquisition, network
inputs and outputs, scoring, tables, figures, planning); its `family.py` describes it to the rest of
deep-qpi as one `Family` and registers it. Generic code (model cards, `qpi predict` and `qpi info`,
the summary, the budget curves, the rules) asks this registry: "the family of this card", "every
family's headline rows", never `if family == ...`. A fifth family is one new package here (found by
its folder), one rule file `workflow/rules/<name>.smk` and its scripts. A family's package is
imported on first use, so asking for one loads only that one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ORDER = ("srqpi", "mcnn", "despeckle", "contrans")  # the papers in summary order; other packages follow by name
_REGISTRY: dict[str, Family] = {}


def _nothing(config: dict) -> dict:
    """No summary params, no paper numbers beyond `qpi.core.papers.PAPER`: a family's default."""
    return {}


def _as_is(rows):
    return rows


@dataclass(frozen=True)
class Family:
    """What generic code needs to know of a family; every callable is the family's own.

    card(config, block, condition) -> (inputs, outputs): a model card's input and output entries.
    prepare(card, files, given: card.Given) -> card.Prepared: `qpi predict`'s network input (C, H, W) from
        the user's files, prepared as training prepared it, with what preparing it assumed.
    outputs(y, card) -> {quantity: image}: the network's output channels (C', H, W) as named images.
    files: how many input files `qpi predict` takes (None: any number, one per plane).
    implied_card(model) -> card | None: the card of a model file saved before cards existed.
    reimage(card, prepared, images) -> trust.consistency.Reimaged: the input planes imaged from a
        prediction through the family's forward model; None where there is none (`no_forward_model` says why).
    trust_cases(card, files, params) -> (test condition, image id, card.Prepared, exact phase), one per held-out
        image of each test condition: what `trust.calibration` scores the trust signs on.
    summary_tables: the tables (`paths.table` names) its headline rows are read from;
    summary_params(config) -> keyword arguments of `headlines` that planning knows;
    headlines(tables, **params) -> one row per method (family, method, setting, metrics).
    paper(config) -> {method: numbers}: the paper's numbers for the configured setting where they
        differ from `qpi.core.papers.PAPER` (ContransGAN: Table 1 at the compared specimen and objective).
    cross_table, cross_rows(table): the table of its cross-condition scores and its rows in
        `scoring.scores.CROSS_COLUMNS`.
    budget_headline(config, run) -> {files, pairs, reference}: where a budget run ({model, seed}) is scored.
    run_scores: the path template of one training run's evaluation scores (`qpi info`'s test metrics).
    """

    name: str
    title: str
    card: Callable[[dict, dict, str], tuple[dict, dict]]
    prepare: Callable[..., tuple[Any, int, float | None]]
    outputs: Callable[[Any, dict], dict]
    summary_tables: tuple[str, ...]
    headlines: Callable[..., Any]
    cross_table: str
    budget_headline: Callable[[dict, dict], dict]
    run_scores: str
    files: int | None = 1
    implied_card: Callable[[Any], dict | None] | None = None
    reimage: Callable[..., Any] | None = None
    trust_cases: Callable[..., Any] | None = None
    no_forward_model: str = ""
    summary_params: Callable[[dict], dict] = _nothing
    paper: Callable[[dict], dict] = _nothing
    cross_rows: Callable[[Any], Any] = _as_is


def register(family: Family) -> Family:
    """Make `family` known by its name (a later registration of the same name replaces it)."""
    _REGISTRY[family.name] = family
    return family


def unregister(name: str) -> None:
    """Forget a registered family (tests register toy families)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> Family:
    """The family called `name`, its package imported on first use."""
    if name not in _REGISTRY and name in packages():
        importlib.import_module(f"qpi.families.{name}.family")
    if name not in _REGISTRY:
        raise ValueError(f"unknown family {name!r}; known families: {', '.join(names())}")
    return _REGISTRY[name]


def packages() -> list[str]:
    """The family packages in this folder: the papers' in `ORDER`, then any other by name."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)
    return [*(n for n in ORDER if n in found), *(n for n in found if n not in ORDER)]


def names() -> list[str]:
    """Every family's name: the packages', then those registered from elsewhere (tests' toy families)."""
    known = packages()
    return [*known, *(n for n in _REGISTRY if n not in known)]


def every() -> list[Family]:
    """Every family (each package imported), in the order of `names`."""
    return [get(name) for name in names()]
