"""Snakemake's own CPU and the whole process's wall time, with its default job-rate window (100 jobs per
1 s) and with a one-minute one, on one whole run each.

With a rate limit set (Snakemake sets 100/1s by default), every pass of the scheduler loop that finds
jobs ready starts a `threading.Timer` of one window that wakes the loop again, and each finished job
adds a pass, so the wake-ups multiply with the jobs done; each re-selects jobs on cores the jobs
need. A longer window cuts them, but those timers are not daemon threads: the process waits at exit
for the last one, up to a window after its last job started. Timers are counted by patching
`threading.Timer` in the Snakemake process; wall is timed from outside, exit included.

Run: .venv/bin/python benchmarks/scheduler.py [--configfile config/smoke.yaml] [--target FILE]
→ prints and writes benchmarks/scheduler.json
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = ("100/1s", "1000/60s")  # Snakemake's default; a one-minute window

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
print(json.dumps({"rc": rc, "workflow_s": round(time.perf_counter() - start, 1),
                  "snakemake_cpu_s": round(me.ru_utime + me.ru_stime, 1),
                  "jobs_cpu_s": round(jobs.ru_utime + jobs.ru_stime, 1), "timers": made[0]}), file=sys.stderr)
'''


def run(configfile: str, window: str, targets: list[str]) -> dict:
    """One run in a scratch directory: the process's wall time and what the patched Snakemake prints last
    (`workflow_s`: until Snakemake returns, before the interpreter waits for its timer threads)."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(ROOT / "config", Path(scratch) / "config")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", MEASURED, "--snakefile", str(ROOT / "Snakefile"),
                               "--configfile", configfile, "--cores", "2", "--max-jobs-per-timespan", window,
                               *targets], cwd=scratch, capture_output=True, text=True)
        numbers = {"process_s": round(time.perf_counter() - start, 1),
                   **json.loads(done.stderr.strip().splitlines()[-1])}
        if numbers["rc"] != 0:
            raise SystemExit(f"the run with {window} failed:\n{done.stderr[-3000:]}")
        return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", default="config/smoke.yaml")
    parser.add_argument("--target", action="append", default=[], help="a file to build (default: all)")
    args = parser.parse_args()
    runs = {window: run(args.configfile, window, args.target) for window in WINDOWS}
    before, after = (runs[window] for window in WINDOWS)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, 2 cores given",
        "configfile": args.configfile,
        "targets": args.target or ["all"],
        "runs": runs,
        "process_ratio": round(after["process_s"] / before["process_s"], 3),
        "snakemake_cpu_ratio": round(after["snakemake_cpu_s"] / before["snakemake_cpu_s"], 3),
    }
    print(json.dumps(result, indent=2))
    name = "scheduler" if not args.target else "scheduler_target"
    Path(__file__).with_name(f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
