"""A kill of the whole `snakemake` process group mid-run (what a cluster or a closed laptop does)
never wedges the re-run: the same command finishes, with the tables of an uninterrupted run."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fingerprint import fingerprint
from test_pipeline import ROOT, SNAKEMAKE, snakemake

from qpi.core import runlock

TARGET = "results/tables/srqpi_benchmark.csv"  # simulation, TIE labels, two trainings, evaluations


def csv_fingerprints(workdir: Path) -> dict[str, str]:
    results = workdir / "results"
    return {str(p.relative_to(results)): fingerprint(p) for p in sorted(results.rglob("*.csv"))
            if "logs" not in p.relative_to(results).parts}


def scratch(tmp_path: Path, name: str) -> Path:
    workdir = tmp_path / name
    workdir.mkdir()
    shutil.copytree(ROOT / "config", workdir / "config")
    return workdir


@pytest.mark.restart
def test_a_sigkilled_run_restarts_with_the_same_command_and_gives_the_same_tables(tmp_path):
    whole = scratch(tmp_path, "whole")
    snakemake(whole, TARGET)
    killed = scratch(tmp_path, "killed")
    cmd = [*SNAKEMAKE, "--directory", str(killed), "--configfile", str(ROOT / "config" / "smoke.yaml"),
           "--cores", "2", TARGET]
    run = subprocess.Popen(cmd, cwd=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    models = killed / "results" / "srqpi" / "z2" / "models"
    deadline = time.monotonic() + 300
    while not any(models.glob("*/last.pt")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # kill while a training has written a checkpoint and is running on
    assert run.poll() is None, "the run ended before a training started; nothing was killed"
    os.killpg(run.pid, signal.SIGKILL)  # snakemake and every job it started, at once
    run.wait()
    assert not (killed / "results" / "tables" / "srqpi_benchmark.csv").exists()
    again = snakemake(killed, TARGET)  # the same command, nothing by hand in between
    assert again.returncode == 0
    assert csv_fingerprints(killed) == csv_fingerprints(whole)


def _run_holding(workdir: Path, pid: int, host: str, index: int) -> None:
    """Lock files `index`.input/output.lock in `workdir`, recorded as held by `pid` on `host`."""
    (workdir / runlock.LOCKS).mkdir(parents=True, exist_ok=True)
    (workdir / runlock.RUNS).mkdir(parents=True, exist_ok=True)
    locks = {}
    for name in (f"{index}.input.lock", f"{index}.output.lock"):
        (workdir / runlock.LOCKS / name).write_text("results/x\n")
        locks[name] = runlock._identity(workdir / runlock.LOCKS / name)
    (workdir / runlock.RUNS / f"{host}-{pid}.json").write_text(json.dumps({"pid": pid, "host": host, "locks": locks}))


def test_only_the_locks_of_a_dead_run_on_this_host_are_cleared(tmp_path):
    """A killed run's locks go; a live run's in the same directory (disjoint targets), another host's and
    unrecorded ones stay, for Snakemake to refuse."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    here = socket.gethostname()
    _run_holding(tmp_path, dead.pid, here, 0)
    _run_holding(tmp_path, os.getpid(), here, 1)
    _run_holding(tmp_path, dead.pid, "another-node", 2)
    (tmp_path / runlock.LOCKS / "3.output.lock").write_text("results/y\n")
    _run_holding(tmp_path, dead.pid + 10**6, here, 4)  # a dead run whose lock names a later run took again
    (tmp_path / runlock.LOCKS / "4.input.lock").unlink()
    (tmp_path / runlock.LOCKS / "4.input.lock").write_text("results/w\n")
    later = (tmp_path / runlock.LOCKS / "4.input.lock").stat().st_mtime_ns + 10**9  # the inode may be reused
    os.utime(tmp_path / runlock.LOCKS / "4.input.lock", ns=(later, later))
    note = runlock.clear_stale(tmp_path)
    assert note is not None and str(dead.pid) in note
    assert sorted(p.name for p in (tmp_path / runlock.LOCKS).iterdir()) == [
        "1.input.lock", "1.output.lock", "2.input.lock", "2.output.lock", "3.output.lock", "4.input.lock"]
    assert runlock.clear_stale(tmp_path) is None  # nothing more to clear
    assert runlock.clear_stale(tmp_path / "nothing") is None  # no record: Snakemake's own message stands


def test_a_run_records_only_the_locks_it_took_and_forgets_them_when_it_ends(tmp_path):
    _run_holding(tmp_path, os.getpid() + 1, "another-node", 0)
    before = runlock.held_locks(tmp_path)
    for name in ("1.input.lock", "1.output.lock"):
        (tmp_path / runlock.LOCKS / name).write_text("results/z\n")
    runlock.record(before, tmp_path)
    (mine,) = [p for p in (tmp_path / runlock.RUNS).iterdir() if "another-node" not in p.name]
    assert sorted(json.loads(mine.read_text())["locks"]) == ["1.input.lock", "1.output.lock"]
    runlock.forget(tmp_path)
    assert not mine.exists()
