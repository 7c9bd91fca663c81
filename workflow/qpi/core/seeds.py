"""The seeds every random draw of the pipeline starts from, one function per kind of draw.

A seed is a list for `numpy.random.default_rng`: the run's `seed` and what is drawn, so adding or
removing a dataset or a stack never moves the draws of the others.
"""

from __future__ import annotations

import zlib


def dataset_seed(seed: int, name: str) -> list[int]:
    """Seed of the dataset `name` (e.g. "l3/test", "hela/train_a")."""
    return [int(seed), zlib.crc32(name.encode())]


def field_seed(seed: int, index: int) -> list[int]:
    """Seed of simulated field of view `index` of a kind: the specimen is the first thing drawn from it,
    so the same seed re-images the same specimen through another microscope."""
    return [int(seed), int(index)]
