"""DespeckleNet on a researcher's files: speckle images of fields whose stacks give the targets.

A speckle row of the sample sheet (kind speckle) is one laser image of a field through a diffuser; the
stack of the same field, recorded without the diffuser under incoherent light, gives the targets as in
the paper: its in-focus intensity (relative to the field's mean) and its phase label (the TIE of the
whole field, or the measured phase the sheet gives). Image and targets are cut into the same tiles
(`field_px`), kept where the label is defined (inside a field stop). The conditions are the diffuser
labels, and `pooled` (every diffuser in one training set) when there are several. Fields are split
whole when there are enough, else each field's tiles by blocks with a one-tile guard band (as
DL-SRQPI's blocks), so no tile of a test region trains.
"""

from __future__ import annotations

import numpy as np

from qpi.core.errors import StackError
from qpi.families.despeckle import POOLED
from qpi.training import tiles


def conditions(images: dict[str, dict]) -> dict[str, list[str]]:
    """{condition: its speckle rows' names}: one per diffuser label, and `pooled` with all of them when
    there are several diffusers."""
    out: dict[str, list[str]] = {}
    for name, row in sorted(images.items()):
        if row["kind"] == "speckle":
            out.setdefault(row["diffuser"], []).append(name)
    if len(out) > 1:
        out[POOLED] = sorted(n for names in out.values() for n in names)
    return out


def split(images: dict[str, dict], split_spec: dict, seed: int) -> dict:
    """How the speckle rows' fields are split (`tiles.split`): by field when there are enough, else by blocks."""
    rows = [r for r in images.values() if r["kind"] == "speckle"]
    return tiles.split([r["field"] for r in rows], {r["field"]: r["split"] for r in rows if r["split"]}, split_spec,
                       seed, "DespeckleNet")


def cut(
    name: str,
    speckle: np.ndarray,
    intensity: np.ndarray,
    labels: dict[str, np.ndarray],
    parts: np.ndarray,
    part: str,
    tile_px: int,
) -> dict[str, np.ndarray]:
    """The tiles of one speckle row in split `part` (`tiles.cut`): speckle and in-focus intensity relative
    to their means inside the labels, every phase label, and each tile's `origin`."""
    if speckle.shape != intensity.shape:
        raise StackError(f"{name}: a {speckle.shape[0]}×{speckle.shape[1]} speckle image of a field whose stack has "
                         f"{intensity.shape[0]}×{intensity.shape[1]} planes; record both on the same camera grid "
                         "(or register and crop the speckle image to the stack's).")
    inside = np.logical_and.reduce([np.isfinite(v) for v in labels.values()])
    images = {"speckle": tiles.relative(speckle, inside)[None], "intensity": tiles.relative(intensity, inside)[None]}
    return tiles.cut(images, labels, parts, part, tile_px)
