"""GPU check: each family's headline comparison at the paper's network sizes, timed (config/gpu_check.yaml).

    python benchmarks/gpu_check.py                  # on a GPU machine → benchmarks/gpu_check.json
    python benchmarks/gpu_check.py --tiny --directory DIR --out X.json    # the same comparison, smoke-sized, on CPU

Runs Snakemake on the comparison's table (qpi.report.budget's one headline test SSIM per network and seed,
results/tables/fidelity_budget.csv) with `--resources gpu=1`, so the trainings take the GPU one at a
time while simulation fills the CPUs; records the wall time, the device, the per-rule job seconds
(the `benchmark:` files) and every run's SSIM, with the mean per family and model. `--tiny` layers the
check's `budget` block on config/smoke.yaml instead: what tests/test_pipeline.py runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "config" / "gpu_check.yaml"
TABLE = "results/tables/fidelity_budget.csv"


def configfiles(tiny: bool, scratch: Path) -> list[Path]:
    """The overlays: paper + the check, or (tiny) smoke + the check's budget block alone."""
    if not tiny:
        return [ROOT / "config" / "paper.yaml", CHECK]
    overlay = scratch / "gpu_check_tiny.yaml"
    overlay.write_text(yaml.safe_dump({"budget": yaml.safe_load(CHECK.read_text())["budget"]}))
    return [ROOT / "config" / "smoke.yaml", overlay]


def device() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


def job_seconds(workdir: Path) -> dict[str, float]:
    """Wall seconds per rule family (results/benchmarks/<family>/...), summed over its jobs."""
    out: dict[str, float] = {}
    for tsv in sorted((workdir / "results" / "benchmarks").rglob("*.tsv")):
        family = Path(tsv.relative_to(workdir / "results" / "benchmarks").parts[0]).stem  # a top-level file: its stem
        out[family] = out.get(family, 0.0) + float(pd.read_csv(tsv, sep="\t")["s"].sum())
    return {k: round(v, 1) for k, v in out.items()}


def summary(table: pd.DataFrame) -> dict:
    means = table.groupby(["family", "model"], sort=False)["ssim"].mean()
    out: dict[str, dict[str, float]] = {}
    for (family, model), value in means.items():
        out.setdefault(family, {})[model] = round(float(value), 4)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="smoke sizes (CPU): config/smoke.yaml + the check's budget")
    parser.add_argument("--directory", type=Path, default=ROOT, help="Snakemake working directory (holds config/)")
    parser.add_argument("--cores", default="all")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "gpu_check.json")
    args = parser.parse_args(argv)
    workdir = args.directory.resolve()
    with tempfile.TemporaryDirectory() as scratch:
        files = configfiles(args.tiny, Path(scratch))
        cmd = [sys.executable, "-m", "snakemake", TABLE, "--snakefile", str(ROOT / "Snakefile"), "--directory",
               str(workdir), "--cores", str(args.cores), "--resources", "gpu=1", "--configfile", *map(str, files)]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=workdir)
        wall = time.perf_counter() - start
    table = pd.read_csv(workdir / TABLE)
    record = {"device": device(), "tiny": args.tiny, "wall_s": round(wall, 1),
              "configfiles": [str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else f.name for f in files],
              "job_seconds": job_seconds(workdir), "mean_ssim": summary(table), "runs": table.to_dict("records")}
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: record[k] for k in ("device", "wall_s", "mean_ssim")}, indent=1))
    return record


if __name__ == "__main__":
    main()
