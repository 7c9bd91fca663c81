"""profiles/slurm: the plan it makes anywhere, and a real run on a throw-away single-node SLURM.

The real run (marked `slurm`, deselected by default; `.ci/run` runs it) needs root: it installs
Debian's slurm-wlm and munge when missing and starts a cluster with two fake GPUs
(tests/slurm/start_cluster.sh). Set QPI_SLURM_REQUIRED=1 to fail instead of skip without root.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "tests" / "slurm"
TRAINED = [f"results/srqpi/z2/models/{model}_s0/best.pt" for model in ("unet", "srcnn")]


def snakemake_with_profile(workdir: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """Snakemake on config/smoke.yaml in a scratch copy of config/, through profiles/slurm."""
    shutil.copytree(ROOT / "config", workdir / "config", dirs_exist_ok=True)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(ROOT / "config" / "smoke.yaml"), "--profile", str(ROOT / "profiles" / "slurm"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=timeout)


def planned_resources(dry_run_output: str) -> dict[str, list[dict[str, str]]]:
    """{rule: [resources of each planned job]} from the job blocks that `snakemake -n` prints."""
    plan: dict[str, list[dict[str, str]]] = {}
    for block in re.split(r"\n(?=rule \w+:)", dry_run_output)[1:]:
        rule = block.split(":", 1)[0].removeprefix("rule ")
        found = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        pairs = (item.split("=", 1) for item in found.group(1).split(", ")) if found else ()
        plan.setdefault(rule, []).append(dict(pairs))
    return plan


def test_profile_plans_gpu_memory_and_time_per_rule(tmp_path):
    result = snakemake_with_profile(tmp_path, "-n", *TRAINED, "results/srqpi/z2/eval/unet_s0.csv", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    plan = planned_resources(result.stdout)
    assert len(plan["srqpi_train"]) == 2 and len(plan["simulate_stack"]) == 6
    for job in plan["srqpi_train"]:
        assert (job["gpu"], job["mem_mb"], job["runtime"], job["cpus_per_task"]) == ("1", "16000", "360", "1")  # one thread: threads.train
    [evaluate] = plan["srqpi_evaluate_model"]
    assert (evaluate["gpu"], evaluate["mem_mb"], evaluate["runtime"]) == ("1", "8000", "60")
    for job in plan["simulate_stack"]:
        assert "gpu" not in job and (job["mem_mb"], job["runtime"], job["cpus_per_task"]) == ("2000", "30", "1")


def skip_or_fail(reason: str) -> None:
    if os.environ.get("QPI_SLURM_REQUIRED"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running single-node SLURM (this host, 8 CPUs, gpu:2); stopped afterwards."""
    if os.geteuid() != 0:
        skip_or_fail("a real SLURM needs root (apt-get install slurm-wlm munge, munged, slurmd)")
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([CLUSTER / "start_cluster.sh", state], capture_output=True, text=True, timeout=900)
    try:
        if started.returncode in (2, 3):  # cannot install SLURM here / a real cluster's slurm.conf exists
            skip_or_fail(started.stderr.strip())
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-3000:]
        yield state
    finally:
        subprocess.run([CLUSTER / "stop_cluster.sh", state], timeout=120)


def squeue_jobs() -> pd.DataFrame:
    """Every job the test cluster has seen (finished ones stay listed for MinJobAge = 1 h)."""
    fields = "JobID:12,State:16,tres-per-job:24,MinMemory:12,TimeLimit:16,NumCPUs:8,Comment:200"
    out = subprocess.run(["squeue", "--states=all", "--noheader", "-O", fields],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=["id", "state", "gres", "mem", "time", "cpus", "comment"])


@pytest.mark.slurm
def test_training_runs_as_slurm_jobs_with_their_own_gpus(cluster, tmp_path):
    # Status checks come 5, 20, 45 ... s after the last one that saw a job end (the plugin adds 10 s
    # per idle check; its default first wait is 40 s): six smoke jobs take 10-20 s on two busy cores.
    # Two threads per training (the config's default is 1): cpus_per_task must follow the rule's threads.
    result = snakemake_with_profile(tmp_path, *TRAINED, "--slurm-init-seconds-before-status-checks", "5",
                                    "--set-threads", "srqpi_train=2", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    for model in TRAINED:
        assert (tmp_path / model).stat().st_size > 1000
        assert len(pd.read_csv(tmp_path / model.replace("best.pt", "epochs.csv"))) == 2

    steps = int(re.search(r"(\d+) of \1 steps \(100%\) done", result.stderr).group(1))
    jobs = squeue_jobs()
    assert len(jobs) == steps > 20 and (jobs["state"] == "COMPLETED").all()  # every job was an sbatch job
    train = jobs[jobs["comment"].str.startswith("rule_srqpi_train")]
    assert len(train) == 2 and (train["gres"] == "gres:gpu:1").all()
    assert (train["mem"] == "16000M").all() and (train["time"] == "6:00:00").all() and (train["cpus"] == "2").all()
    assert (jobs.drop(train.index)["gres"] == "N/A").all()

    # SLURM, not a lease, chose the devices: the two concurrent trainings got one fake GPU each
    logs = (tmp_path / "results" / "logs" / "srqpi" / "z2" / "train").glob("*.log")
    visible = [re.search(r"CUDA_VISIBLE_DEVICES=(\S+)", log.read_text()).group(1) for log in logs]
    assert sorted(visible) == ["0", "1"]
