"""JSON files, and the encoding of numpy values and paths that TIFF metadata shares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qpi.core.atomic import atomic_path


def write_json(path: str | Path, obj) -> None:
    """Write `obj` as indented JSON atomically (numpy scalars and arrays become numbers and lists)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")


def read_json(path: str | Path):
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
