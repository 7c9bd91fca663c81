"""GPU leases: concurrent jobs on distinct devices, release on SIGKILL, a scheduler's devices honoured."""

import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qpi.core import lease

# A GPU job: once `go` exists, lease a device, mark it busy (failing if another job already marked
# it) and hold it.
HOLDER = textwrap.dedent("""
    import logging, os, sys, time
    from qpi.core.lease import gpu_lease
    logging.basicConfig(level=logging.INFO)
    marks, hold_s = sys.argv[1], float(sys.argv[2])
    print("ready", flush=True)
    while not os.path.exists(os.path.join(marks, "go")):
        time.sleep(0.01)
    with gpu_lease(poll_s=0.02, timeout_s=60) as visible:
        assert os.environ["CUDA_VISIBLE_DEVICES"] == visible
        busy = os.path.join(marks, f"busy{visible}")
        os.close(os.open(busy, os.O_CREAT | os.O_EXCL))  # FileExistsError: two jobs on one device
        print(visible, flush=True)
        time.sleep(hold_s)
        os.unlink(busy)
""")


@pytest.fixture
def two_fake_gpus(tmp_path, monkeypatch):
    """Two GPUs (by count override), a lease directory of this test, no scheduler-set devices."""
    monkeypatch.setenv(lease.GPUS_ENV, "2")
    monkeypatch.setenv(lease.LEASE_DIR_ENV, str(tmp_path / "leases"))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return tmp_path


def _start(marks, hold_s, count=1):
    """Start `count` holders, wait until all are ready, then let them lease at once."""
    jobs = [subprocess.Popen([sys.executable, "-c", HOLDER, str(marks), str(hold_s)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    assert [job.stdout.readline().strip() for job in jobs] == ["ready"] * count
    (marks / "go").touch()
    return jobs


def test_concurrent_jobs_never_share_a_device_and_all_finish(two_fake_gpus):
    jobs = _start(two_fake_gpus, 0.4, count=6)  # 6 jobs on 2 devices: 4 must wait
    results = [job.communicate(timeout=60) for job in jobs]
    assert [job.returncode for job in jobs] == [0] * 6, [err for _, err in results]
    devices = [out.strip() for out, _ in results]
    assert sorted(set(devices)) == ["0", "1"]
    assert sum("waiting up to 60 s" in err for _, err in results) >= 3  # they did run concurrently


def test_a_killed_job_frees_its_device(two_fake_gpus, monkeypatch):
    monkeypatch.setenv(lease.GPUS_ENV, "1")
    (holder,) = _start(two_fake_gpus, 60)
    assert holder.stdout.readline().strip() == "0"
    with pytest.raises(lease.LeaseError, match=r"all 1 GPUs stayed leased .*--resources gpu=1"):
        with lease.gpu_lease(timeout_s=0.1, poll_s=0.02):
            pass
    holder.send_signal(signal.SIGKILL)  # no cleanup runs: the kernel drops the lock
    holder.wait(timeout=10)
    with lease.gpu_lease(timeout_s=5, poll_s=0.02) as visible:
        assert visible == "0" and os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ  # restored after the block
    assert (two_fake_gpus / "busy0").exists()  # the killed job never cleaned up its mark


def test_devices_set_by_a_scheduler_are_honoured_without_a_lease(two_fake_gpus, monkeypatch, caplog):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    with caplog.at_level(logging.INFO, logger="qpi"), lease.gpu_lease() as visible:
        assert visible == "3" and os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert not (two_fake_gpus / "leases").exists()
    assert "set by the scheduler" in caplog.text


def test_cpu_jobs_and_machines_without_gpus_take_no_lease(two_fake_gpus, monkeypatch, caplog):
    with lease.gpu_lease(device="cpu") as visible:
        assert visible is None and "CUDA_VISIBLE_DEVICES" not in os.environ
    monkeypatch.setenv(lease.GPUS_ENV, "0")
    with caplog.at_level(logging.INFO, logger="qpi"), lease.gpu_lease() as visible:
        assert visible is None and "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not (two_fake_gpus / "leases").exists()
    assert "running on the CPU" in caplog.text


def test_gpu_count_reads_nvidia_smi_and_is_zero_without_it(tmp_path, monkeypatch):
    monkeypatch.delenv(lease.GPUS_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert lease.gpu_count() == 0
    smi = tmp_path / "nvidia-smi"
    smi.write_text(textwrap.dedent("""\
        #!/bin/sh
        echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaaa)"
        echo "  MIG 3g.40gb     Device  0: (UUID: MIG-bbbb)"
        echo "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-cccc)"
        """))
    smi.chmod(0o755)
    assert lease.gpu_count() == 2


def test_every_gpu_rule_runs_its_script_under_a_lease():
    """A rule that declares `gpu=1` but whose script takes no lease would land on GPU 0 with the others."""
    root = Path(__file__).resolve().parents[1] / "workflow"
    gpu_scripts = []
    for smk in sorted((root / "rules").glob("*.smk")):
        for block in re.split(r"\n(?:rule|checkpoint) ", smk.read_text())[1:]:
            script = re.search(r'script:\s*"([^"]+)"', block)
            if re.search(r"\bgpu\s*=\s*1\b", block) and script:
                gpu_scripts.append((smk.parent / script.group(1)).resolve())
    assert len(gpu_scripts) >= 4  # training and inference of DL-SRQPI and MCNN at least
    unleased = [s.name for s in gpu_scripts if "gpu_lease(" not in s.read_text()]
    assert not unleased, f"GPU rules whose scripts take no lease: {unleased}"
