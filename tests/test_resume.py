"""A training job SIGKILLed mid-run and re-run ends exactly like an uninterrupted one (CPU)."""

import csv
import json
import signal
import subprocess
import sys
import textwrap
import time

import torch

from qpi.training import loop, supervised
from qpi.training.config import TrainConfig

STEPS_PER_EPOCH = 16  # 64 samples, batch 4
EPOCHS = 8  # ~5 s uninterrupted on one free core

# A training job as the pipeline runs one: its own process, one thread, a checkpoint every epoch.
JOB = textwrap.dedent(f"""
    import json, sys
    import numpy as np, torch, torch.nn.functional as F
    from qpi.training.config import TrainConfig
    from qpi.training.supervised import train_supervised

    def data(n, seed):
        x = np.random.default_rng(seed).random((n, 1, 8, 8), dtype=np.float32)
        y = F.interpolate(torch.from_numpy(x), scale_factor=4, mode="bicubic", align_corners=False)
        return x, (2 * y - 1).numpy()

    cfg = TrainConfig(epochs={EPOCHS}, batch_size=4, lr=1e-2, device="cpu", threads=1, seed=7,
                      checkpoint_every=1, lr_schedule={{"name": "step", "step_size": 2, "gamma": 0.7}})
    summary = train_supervised("srqpi_unet", {{"width": 4, "depth": 2}}, data(64, 0), data(4, 1), cfg,
                               sys.argv[1])
    print(json.dumps({{k: summary[k] for k in ("resumed", "steps", "epochs")}}))
""")


def _start(out):
    return subprocess.Popen([sys.executable, "-c", JOB, str(out)], stdout=subprocess.PIPE, text=True)


def _finish(job) -> dict:
    out, _ = job.communicate(timeout=120)
    assert job.returncode == 0
    return json.loads(out)


def _logged_steps(path) -> int:
    return max(len(path.read_text().splitlines()) - 1, 0) if path.exists() else 0


def _rows(path, columns):
    with open(path, newline="") as f:
        return [[row[c] for c in columns] for row in csv.DictReader(f)]


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_a_sigkilled_training_resumes_to_the_weights_and_logs_of_an_uninterrupted_run(tmp_path):
    split, whole = tmp_path / "split", tmp_path / "whole"
    reference = _start(whole)
    job = _start(split)
    deadline = time.monotonic() + 60
    # Kill a few steps after the first checkpoint, mid-epoch: those steps are lost and redone.
    while not ((split / "last.pt").exists() and _logged_steps(split / "steps.csv") >= STEPS_PER_EPOCH + 3):
        assert job.poll() is None and time.monotonic() < deadline, "the job ended before it could be killed"
        time.sleep(0.02)
    job.send_signal(signal.SIGKILL)
    assert job.wait(timeout=10) == -signal.SIGKILL
    checkpointed = torch.load(split / "last.pt", weights_only=True)["progress"]["step"]
    killed_at = _logged_steps(split / "steps.csv")
    assert checkpointed % STEPS_PER_EPOCH == 0 and killed_at > checkpointed
    for output in ("best.pt", "steps.csv", "epochs.csv"):  # what Snakemake deletes after a failed job
        (split / output).unlink()

    resumed = _finish(_start(split))
    assert _finish(reference) == {"resumed": False, "steps": EPOCHS * STEPS_PER_EPOCH, "epochs": EPOCHS}
    assert resumed == {"resumed": True, "steps": EPOCHS * STEPS_PER_EPOCH, "epochs": EPOCHS}
    for name in ("last.pt", "best.pt"):
        got, want = _weights(split / name), _weights(whole / name)
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want), name
    assert torch.load(split / "best.pt", weights_only=True)["meta"]["step"] > 0
    # Every step and validation logged once, with the uninterrupted run's numbers.
    step_columns, epoch_columns = ("step", "epoch", "loss", "lr"), ("epoch", "step", "val_loss", "val_ssim")
    assert _rows(split / "steps.csv", step_columns) == _rows(whole / "steps.csv", step_columns)
    assert _rows(split / "epochs.csv", epoch_columns) == _rows(whole / "epochs.csv", epoch_columns)
    assert len(_rows(split / "epochs.csv", epoch_columns)) == EPOCHS
    print(f"killed at step {killed_at} (checkpoint at {checkpointed}); resumed to {resumed['steps']}")


def test_a_row_torn_by_a_kill_is_not_kept_on_resume(tmp_path):
    path = tmp_path / "steps.csv"
    path.write_text("step,epoch,loss,lr,seconds\n1,1,0.5,0.01,0.1\n2,1,0.4,0.01,0.1\n1")  # "1" of row 12
    log = loop.CsvLog(path, loop.STEP_FIELDS, keep=lambda row: int(row["step"]) <= 2)
    log.write(step=3, epoch=1, loss=0.3, lr=0.01, seconds=0.1)  # flushed at once: visible while running
    assert _rows(path, ("step", "loss")) == [["1", "0.5"], ["2", "0.4"], ["3", "0.3"]]
    log.close()


def test_a_checkpoint_puts_back_the_run_files_as_they_were_and_partial_writes_are_cleared(tmp_path):
    supervised.train_supervised("srqpi_unet", {"width": 4, "depth": 2}, *_tiny_sets(), _tiny_cfg(epochs=1), tmp_path)
    saved = {name: (tmp_path / name).read_bytes() for name in ("steps.csv", "epochs.csv", "best.pt")}
    (tmp_path / "steps.csv").write_text("garbage")
    (tmp_path / "best.pt").unlink()
    partial = tmp_path / ".last.pt.abc123.pt"  # a checkpoint write cut short by a kill
    partial.write_bytes(b"torn")
    summary = supervised.train_supervised(
        "srqpi_unet", {"width": 4, "depth": 2}, *_tiny_sets(), _tiny_cfg(epochs=1), tmp_path)
    assert summary["resumed"] and summary["steps"] == 2
    assert {name: (tmp_path / name).read_bytes() for name in saved} == saved
    assert not partial.exists()


def _tiny_sets():
    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0)).numpy()
    y = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=4).numpy()
    return (x, y), (x[:2], y[:2])


def _tiny_cfg(**kw):
    return TrainConfig(**{"batch_size": 4, "lr": 1e-2, "device": "cpu", "threads": 1, **kw})
