"""Snakemake's own CPU on a whole run, with its default job-rate window (100 jobs per 1 s) and with ours.

With a rate limit set (Snakemake sets 100/1s by default), every pass of the scheduler loop that finds
jobs waiting for cores starts a `threading.Timer` of one window that wakes the loop again, and each
finished job adds a pass, so the wake-ups multiply: on the smoke config (131 jobs) 12,242 timers in
167 s, each pass re-selecting jobs while the cores are busy with the jobs themselves. The window of
profiles/default (`max-jobs-per-timespan`) is one minute: the loop wakes on job events, as it would
without a limit. Counted here by patching `threading.Timer` in the Snakemake process.

Run: .venv/bin/python benchmarks/scheduler.py [--configfile config/smoke.yaml]
→ prints and writes benchmarks/scheduler.json (wall, Snakemake process CPU, its jobs' CPU, timers)
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OURS = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())["max-jobs-per-timespan"]
SNAKEMAKE_DEFAULT = "100/1s"

MEASURED = '''
import json, resource, runpy, sys, threading, time
made = [0]
class CountingTimer(threading.Timer):
    def __init__(self, *args, **kwargs):
        made[0] += 1
        super().__init__(*args, **kwargs)
threading.Timer = CountingTimer
sys.argv = ["snakemake", *sys.argv[1:]]
start, rc = time.perf_counter(), 0
try:
    runpy.run_module("snakemake", run_name="__main__")
except SystemExit as exc:
    rc = exc.code or 0
me, jobs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall_s": round(time.perf_counter() - start, 1),
                  "snakemake_cpu_s": round(me.ru_utime + me.ru_stime, 1),
                  "jobs_cpu_s": round(jobs.ru_utime + jobs.ru_stime, 1), "timers": made[0]}), file=sys.stderr)
'''


def run(configfile: str, window: str) -> dict:
    """One whole run in a scratch directory; the numbers the patched Snakemake process prints last."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(ROOT / "config", Path(scratch) / "config")
        done = subprocess.run([sys.executable, "-c", MEASURED, "--snakefile", str(ROOT / "Snakefile"),
                               "--configfile", configfile, "--cores", "2", "--max-jobs-per-timespan", window],
                              cwd=scratch, capture_output=True, text=True)
        numbers = json.loads(done.stderr.strip().splitlines()[-1])
        if numbers["rc"] != 0:
            raise SystemExit(f"the run with {window} failed:\n{done.stderr[-3000:]}")
        return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", default="config/smoke.yaml")
    args = parser.parse_args()
    runs = {window: run(args.configfile, window) for window in (SNAKEMAKE_DEFAULT, OURS)}
    before, after = runs[SNAKEMAKE_DEFAULT], runs[OURS]
    result = {
        "machine": f"{platform.processor() or platform.machine()}, 2 cores given",
        "configfile": args.configfile,
        "runs": runs,
        "wall_ratio": round(after["wall_s"] / before["wall_s"], 3),
        "snakemake_cpu_ratio": round(after["snakemake_cpu_s"] / before["snakemake_cpu_s"], 3),
    }
    print(json.dumps(result, indent=2))
    (Path(__file__).with_suffix(".json")).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
