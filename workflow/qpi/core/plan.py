"""Planning: the names of what a configuration asks for, computed here and wired by the rules.

Stack names are `<kind>_<index>` (index zero-padded to three digits), built by `stack_name` and read
back by `parse_stack_name`, nowhere else.
"""

from __future__ import annotations

import re

from qpi.core import paths
from qpi.core.seeds import field_seed

_STACK = re.compile(r"(?P<kind>.+)_(?P<index>\d+)")


def stack_name(kind: str, index: int) -> str:
    """The name of simulated field of view `index` of `kind`, e.g. hela_003."""
    return f"{kind}_{int(index):03d}"


def parse_stack_name(name: str) -> tuple[str, int]:
    """(kind, index) of a simulated stack's name; one error for a name `stack_name` did not make."""
    match = _STACK.fullmatch(name)
    if not match:
        raise ValueError(f"{name!r} is not a simulated stack name (<kind>_<index>, e.g. hela_003)")
    return match["kind"], int(match["index"])


def simulated_stacks(fields: dict[str, int]) -> list[str]:
    """Names of the virtual microscope's fields of view, {kind: count} in config order."""
    return [stack_name(kind, i) for kind, count in fields.items() for i in range(count)]


def stack_seed(seed: int, name: str) -> list[int]:
    """The seed simulated stack `name` is drawn from (its specimen, then its camera)."""
    return field_seed(seed, parse_stack_name(name)[1])


# --- a family's networks: `models` entries, each with optional `train` overrides ----------------


def architecture(cfg: dict, model: str) -> dict:
    """A network's constructor spec: its `models` entry without its `train` overrides."""
    return {k: v for k, v in cfg["models"][model].items() if k != "train"}


def merged(base: dict, overrides: dict) -> dict:
    """`base` with `overrides`; nested mappings (lr_schedule, ...) merged one level deep."""
    out = dict(base)
    for key, value in overrides.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = {**out[key], **value} if nested else value
    return out


def model_train(cfg: dict, model: str) -> dict:
    """`train` with the network's own `train` overrides."""
    return merged(cfg["train"], cfg["models"][model].get("train", {}))


def phase_label(block: dict, stack: str, simulated: bool, measured: bool = False, key: str = "srqpi.label") -> str:
    """Training label: the simulation's exact phase (as the paper's simulated study), the TIE phase
    (as its experiments, and for user stacks, which have no exact phase), or with `label: measured`
    the measured phase the sample sheet gives the stack (`measured`: it gives one). `key` names the
    setting in the error: every family that trains on a sheet's stacks chooses its label so."""
    if block["label"] == "measured":
        if not measured:
            raise ValueError(f"{key} is measured, but stack {stack!r} has no phase_path in the sample sheet; "
                             f"give its measured phase there, or set {key}: tie")
        return paths.fill(paths.STACK["measured"], stack=stack)
    if block["label"] == "exact" and simulated:
        return paths.fill(paths.STACK["truth_phase"], stack=stack)
    return paths.fill(paths.STACK["tie"], stack=stack)
