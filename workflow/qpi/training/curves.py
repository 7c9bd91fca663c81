"""A run's validation curve, read back from its `epochs.csv`: whether it was still improving when
training ended, or never improved after its first validation (the run loop warns; tables note the
first). No torch: tables read curves too."""

from __future__ import annotations

import csv
from pathlib import Path


def read_validation(path: Path) -> list[float]:
    """The validation losses of a run's `epochs.csv`, in order."""
    with open(path, newline="") as f:
        return [float(row["val_loss"]) for row in csv.DictReader(f)]


def still_improving(val_loss: list[float], margin: float = 0.01) -> bool:
    """Whether validation was still getting better when training ended: the best loss of the last third
    of (at least four) validations beats every earlier one by more than `margin` of its size."""
    if len(val_loss) < 4:
        return False
    tail = max(len(val_loss) // 3, 2)
    before, recent = min(val_loss[:-tail]), min(val_loss[-tail:])
    return before - recent > margin * abs(before)


def never_improved(val_loss: list[float]) -> bool:
    """Whether no validation after the first of (at least four) had a lower loss."""
    return len(val_loss) >= 4 and min(val_loss[1:]) >= val_loss[0]
