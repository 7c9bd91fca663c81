"""DL-SRQPI's run planning: the stacks' split (by field, or by spatial blocks of each field), the
corrected stack a condition's inputs are cut from, the LR planes of its TIE baselines and the sweeps'
score files."""

from __future__ import annotations

import numpy as np

from qpi.core import paths
from qpi.core.errors import StackError
from qpi.core.seeds import dataset_seed
from qpi.families.srqpi import condition_reimaged
from qpi.training.patches import block_regions, split_fields


def baseline_planes(block: dict, sheet_row: dict | None):
    """LR planes of the TIE baselines: `baseline_planes_um` for simulated stacks, a user stack's own
    TIE planes (its sheet's `tie_planes_um`, else every plane it has: None)."""
    return block["baseline_planes_um"] if sheet_row is None else sheet_row.get("tie_planes_um")


def corrected(block: dict, condition: str, stack: str, microscope_coherence: float, user: bool) -> str:
    """The corrected stack a condition's inputs are cut from: the shared one, or its own re-imaging
    (a condition with a coherence of its own; only simulated stacks can be re-imaged)."""
    if not condition_reimaged(block, condition, microscope_coherence):
        return paths.fill(paths.STACK["corrected"], stack=stack)
    if user:
        raise ValueError(
            f"srqpi condition {condition!r} sets its own coherence, which only simulated stacks can be imaged "
            f"at; user stack {stack!r} cannot: drop the condition's `coherence` or the stack"
        )
    return paths.fill(paths.SRQPI["corrected"], condition=condition, stack=stack)


def cross_scores(block: dict, networks: list[str]) -> list[str]:
    """Scores of the sweep networks trained on `networks` (each once), every seed."""
    sweeps = block["sweeps"]
    return [paths.fill(paths.SRQPI["cross"], condition=c, model=sweeps["model"], seed=s)
            for c in dict.fromkeys(networks) for s in sweeps["seeds"]]


def split(block: dict, stacks: list[str], seed: int, pinned: dict[str, str] | None = None) -> dict:
    """How the stacks are split into train, val and test: by field of view when there are enough
    ({"by": "fields", "fields": {stack: split}}; `pinned` stacks keep the sample sheet's split), else
    (or with `split.by: blocks`) each field into spatial blocks ({"by": "blocks", ...}: `block_regions`
    per stack, with a guard band of `guard_lr` LR pixels, a patch side unless given), with the reason in "why"."""
    spec = block["split"]
    if pinned and spec["by"] == "blocks":
        raise ValueError(f"the sample sheet pins {', '.join(sorted(pinned))} to a split, but srqpi.split.by is blocks "
                         "(every field in all three); clear the split column or set split.by: auto")
    if spec["by"] != "blocks":
        try:
            return {"by": "fields", "fields": split_fields(stacks, spec["val"], spec["test"], seed, pinned)}
        except ValueError as err:
            if pinned:  # blocks would put the pinned fields in every split
                raise ValueError(f"{err}, or clear the sample sheet's split column to split each field into blocks") \
                    from None
            if spec["by"] == "fields":
                raise ValueError(f"{err}, or split each field into blocks (srqpi.split.by: auto)") from None
            why = (f"{len(stacks)} stack(s), too few to split by field of view (val and test one each, train the "
                   f"rest), so each field is split into {spec['grid']}×{spec['grid']} blocks")
    else:
        why = "split.by: blocks"
    return {"by": "blocks", "val": spec["val"], "test": spec["test"], "seed": seed, "grid": spec["grid"],
            "guard_lr": block["patches"]["lr_size"] if spec["guard_lr"] is None else spec["guard_lr"], "why": why}


def in_split(split: dict, stacks: list[str], part: str) -> list[str]:
    """The stacks with pixels in `part`: those of that split, or every stack when fields are split in blocks."""
    return list(stacks) if split["by"] == "blocks" else [s for s in stacks if split["fields"][s] == part]


def regions(split: dict, stack: str, label: np.ndarray, factor: int) -> tuple[np.ndarray, dict] | None:
    """A stack's region map on its LR grid and its blocks (`block_regions`, blocks mostly outside
    the label's field stop in none), from its HR `label`; None when fields are split whole."""
    if split["by"] != "blocks":
        return None
    h, w = label.shape[0] // factor, label.shape[1] // factor
    valid = np.isfinite(label[: h * factor, : w * factor]).reshape(h, factor, w, factor).all(axis=(1, 3))
    try:
        return block_regions((h, w), split["val"], split["test"], dataset_seed(split["seed"], stack), split["grid"],
                             split["guard_lr"], valid)
    except ValueError:
        grid = split["grid"]
        raise StackError(f"{stack}: too few of its {grid}×{grid} blocks lie inside its field stop to give train, "
                         "val and test one each; add stacks, or set srqpi.split.grid higher (smaller blocks).") from None


def test_windows(split: dict, stack: str, label: np.ndarray, factor: int) -> dict[str, tuple[slice, slice]] | None:
    """The HR windows a stack is scored in, {block: (rows, cols)}: its test blocks; None: the whole field."""
    found = regions(split, stack, label, factor)
    if found is None:
        return None
    return {name: (slice(y0 * factor, y1 * factor), slice(x0 * factor, x1 * factor))
            for name, (part, y0, y1, x0, x1) in found[1].items() if part == "test"}


def scored_windows(split: dict, references: dict[str, dict], factor: int) -> dict[str, dict | None]:
    """Every test stack's scored windows (`test_windows`, from its TIE label; None: the whole field)."""
    return {name: test_windows(split, name, refs["tie"], factor) for name, refs in references.items()}
