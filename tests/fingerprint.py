"""Fingerprint a finished run's results/, so a refactor can prove it changed no number.

    python tests/fingerprint.py RUN/results > before.json      # ... change the code, run again ...
    python tests/fingerprint.py RUN/results --diff before.json

Every CSV (timing columns and score rows of a timing metric dropped), every .npz and TIFF (pixel values) and every model file or
checkpoint (tensors: weights, optimiser and scheduler states; not the logs and timings it carries)
is hashed value for value; `--diff` lists what differs, exit 1 if anything does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

TIMING = ("seconds", "time", "wall", "seconds_per_mpx")


def _hash_array(h, a) -> None:
    a = np.ascontiguousarray(a)
    h.update(str((a.shape, a.dtype.str)).encode())
    h.update(a.tobytes())


def _csv(path: Path) -> str:
    import pandas as pd

    df = pd.read_csv(path)
    df = df[[c for c in df.columns if not any(t in str(c) for t in TIMING)]]
    if "metric" in df.columns:  # score rows: the timing is a row of its own
        df = df[~df["metric"].isin(TIMING)]
    return hashlib.sha256(df.to_csv(index=False, float_format="%.17g").encode()).hexdigest()


def _tensors(obj, h, skip=("files", "rng", "progress", "train_config", "meta")) -> None:
    import torch

    if isinstance(obj, torch.Tensor):
        _hash_array(h, obj.detach().cpu().float().numpy() if obj.dtype == torch.bfloat16 else obj.detach().cpu().numpy())
    elif isinstance(obj, dict):
        for key in sorted(obj, key=str):
            if key not in skip:
                h.update(str(key).encode())
                _tensors(obj[key], h, ())
    elif isinstance(obj, list | tuple):
        for item in obj:
            _tensors(item, h, ())
    elif isinstance(obj, int | float | str | bool) or obj is None:
        h.update(repr(obj).encode())


def fingerprint(path: Path) -> str | None:
    h = hashlib.sha256()
    if path.suffix == ".csv":
        return _csv(path)
    if path.suffix == ".npz":
        with np.load(path) as data:
            for key in sorted(data.files):
                h.update(key.encode())
                _hash_array(h, data[key])
    elif path.suffix in (".tif", ".tiff"):
        import tifffile

        _hash_array(h, tifffile.imread(path))
    elif path.suffix == ".pt":
        import torch

        _tensors(torch.load(path, map_location="cpu", weights_only=True), h)
    else:
        return None
    return h.hexdigest()


def fingerprints(results: Path) -> dict[str, str]:
    out = {}
    for path in sorted(results.rglob("*")):
        if path.is_file() and "logs" not in path.relative_to(results).parts[:1]:
            value = fingerprint(path)
            if value is not None:
                out[str(path.relative_to(results))] = value
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--diff", type=Path, help="a fingerprint JSON of an earlier run to compare with")
    args = parser.parse_args(argv)
    now = fingerprints(args.results)
    if not args.diff:
        json.dump(now, sys.stdout, indent=1)
        return 0
    before = json.loads(args.diff.read_text())
    changed = sorted(k for k in before.keys() & now.keys() if before[k] != now[k])
    for name, keys in (("changed", changed), ("only before", sorted(before.keys() - now.keys())),
                       ("only now", sorted(now.keys() - before.keys()))):
        for key in keys:
            print(f"{name}: {key}")
    same = len(before.keys() & now.keys()) - len(changed)
    print(f"{same} files identical, {len(changed)} changed, {len(before.keys() ^ now.keys())} present in one run only")
    return 1 if changed or before.keys() ^ now.keys() else 0


if __name__ == "__main__":
    sys.exit(main())
