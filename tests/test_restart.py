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

from qpi import runlock

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


def _locked(workdir: Path, pid: int, host: str) -> None:
    (workdir / runlock.LOCKS).mkdir(parents=True)
    (workdir / runlock.LOCKS / "0.input.lock").write_text("results/x\n")
    (workdir / runlock.RECORD).write_text(json.dumps({"pid": pid, "host": host}))


def test_only_the_lock_of_a_dead_run_on_this_host_is_cleared(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    for name, pid, host, cleared in (("dead", dead.pid, socket.gethostname(), True),
                                     ("alive", os.getpid(), socket.gethostname(), False),
                                     ("elsewhere", dead.pid, "another-node", False)):
        workdir = tmp_path / name
        _locked(workdir, pid, host)
        note = runlock.clear_stale(workdir)
        assert (note is not None) == cleared and any((workdir / runlock.LOCKS).iterdir()) != cleared, name
    assert runlock.clear_stale(tmp_path / "nothing") is None  # no record: Snakemake's own message stands
    runlock.record(tmp_path / "mine")
    assert json.loads((tmp_path / "mine" / runlock.RECORD).read_text())["pid"] == os.getpid()
