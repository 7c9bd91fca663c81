"""The run and epoch loop every trainer shares.

`start_run` resumes or starts a run in its directory (progress, CSV logs, checkpoint:
`qpi.training.checkpoints`) and `run_epochs` drives it: batch plans, prefetching, max_steps,
schedulers, validation and checkpoint cadence. A trainer gives it a plan, a batch loader and a step.

Reproducibility: a checkpoint holds every piece of state (weights, optimiser, scheduler, RNGs,
counters) and the run's logs and best model as they were when it was written, so on CPU an
interrupted (even SIGKILLed) and resumed run ends with the same weights and files as an
uninterrupted one.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from qpi.core.atomic import atomic_path
from qpi.core.logs import progress_stream
from qpi.training.checkpoints import complete_card, data_digest, load_checkpoint, resumable, save_checkpoint
from qpi.training.config import TrainConfig
from qpi.training.curves import never_improved, read_validation, still_improving

log = logging.getLogger("qpi.training.loop")

STEP_FIELDS = ("step", "epoch", "loss", "lr", "seconds")
EPOCH_FIELDS = ("epoch", "step", "val_loss", "val_ssim", "val_psnr")
RUN_FILES = ("last.pt", "best.pt", "generator.pt", "steps.csv", "epochs.csv")


class CsvLog:
    """An append-only CSV log, flushed row by row; `keep` filters the complete rows of an existing
    file (resume; a row torn by a kill is dropped), None starts afresh."""

    def __init__(self, path: Path, fields: tuple[str, ...], keep: Callable[[dict], bool] | None = None):
        rows = []
        if keep is not None and path.exists():
            with open(path, newline="") as f:
                complete = (row for row in csv.DictReader(f) if None not in row and None not in row.values())
                rows = [row for row in complete if keep(row)]
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fields)
            writer.writeheader()
            writer.writerows(rows)
        self.path = path
        self.file = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.file, fields)

    def write(self, **row) -> None:
        self.writer.writerow(row)
        self.file.flush()  # live logs; a kill tears at most the row being written

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def progress_bar(total: int, done: int, log: logging.Logger) -> tqdm:
    """A tqdm bar written into the log, at most every 10 s so logs stay short."""
    return tqdm(total=total, initial=min(done, total), file=progress_stream(log), mininterval=10, ascii=True)


def new_progress(data: str = "") -> dict:
    """Counters of a fresh run: completed epochs, optimiser steps, best validation, last validated step,
    and the digest of the data it trains on."""
    best = {"val_loss": math.inf, "epoch": 0, "step": 0}
    return {"epoch": 0, "step": 0, "best": best, "validated_step": -1, "data": data}


@dataclasses.dataclass
class Run:
    """A training run in `out`: its progress counters, CSV logs and checkpoint (`start_run` makes it).

    `model` is the network checkpoints are loaded into and `load_model` rebuilds; `stateful` holds
    every other object with a state_dict (optimisers, schedulers, other networks, pools)."""

    out: Path
    cfg: TrainConfig
    model: nn.Module
    stateful: dict[str, Any]
    progress: dict
    resumed: bool
    steps_log: CsvLog
    epochs_log: CsvLog | None
    card: dict = dataclasses.field(default_factory=dict)  # the model card saved with every model file
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def checkpoint(self) -> None:
        logs = [self.steps_log] + ([self.epochs_log] if self.epochs_log else [])
        for csv_log in logs:
            csv_log.flush()
        files = [csv_log.path for csv_log in logs] + [self.out / "best.pt"]
        save_checkpoint(self.out / "last.pt", self.model, self.stateful, self.progress, self.cfg, files)

    def close(self) -> None:
        for csv_log in (self.steps_log, self.epochs_log):
            if csv_log is not None:
                csv_log.close()

    def summary(self, model_name: str, device: torch.device) -> dict:
        """What the run did; with the best validation when it validates."""
        summary = {"model": model_name, "device": str(device), "epochs": self.progress["epoch"],
                   "steps": self.progress["step"], "resumed": self.resumed,
                   "seconds": time.perf_counter() - self.started}
        return {**summary, "best": self.progress["best"]} if self.epochs_log else summary


def clear_partial_writes(out: Path) -> None:
    """Delete the temporary files of run-file writes that a kill cut short (see `atomic_path`)."""
    for name in RUN_FILES:
        for partial in out.glob(f".{name}.*"):
            partial.unlink()


def start_run(out_dir: str | Path, cfg: TrainConfig, model: nn.Module, stateful: dict[str, Any],
              data: tuple[np.ndarray, ...], step_fields: tuple[str, ...] = STEP_FIELDS, validated: bool = True,
              card: dict | None = None) -> Run:
    """Make `out_dir` (cleared of partial writes) and resume from its `last.pt` when it holds this
    model trained on these `data`, else start afresh; open `steps.csv` and (when `validated`)
    `epochs.csv`. A resumed run keeps only the log rows up to its checkpoint's step, so rows written
    after the last checkpoint of a killed run are not repeated. `data[0]` holds the network's training
    inputs (N, C, h, w), summarised in the card."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clear_partial_writes(out)
    digest = data_digest(*data)
    checkpoint = resumable(out / "last.pt", model, stateful, digest, cfg)
    resumed = checkpoint is not None
    progress = load_checkpoint(out / "last.pt", checkpoint, model, stateful) if resumed else new_progress(digest)
    if resumed:
        log.info("resuming %s at epoch %d, step %d", out / "last.pt", progress["epoch"], progress["step"])
    keep = (lambda row: int(row["step"]) <= progress["step"]) if resumed else None
    epochs_log = CsvLog(out / "epochs.csv", EPOCH_FIELDS, keep) if validated else None
    return Run(out, cfg, model, stateful, progress, resumed, CsvLog(out / "steps.csv", step_fields, keep), epochs_log,
               complete_card(card, cfg, digest, data[0]))


def prefetched(plan: list, load: Callable, step: Callable[..., dict]) -> Iterator[tuple[dict[str, float], float]]:
    """`step(load(item))` for each item of `plan`; yields (losses as floats, seconds) per step.

    `step` returns its losses as tensors without waiting for the device; the next batch is loaded
    before they are read, so on a GPU the batching overlaps the step instead of stalling it.
    """
    batch = load(plan[0]) if plan else None
    for k in range(len(plan)):
        tic = time.perf_counter()
        out = step(batch)
        if k + 1 < len(plan):
            batch = load(plan[k + 1])
        yield {name: float(value) for name, value in out.items()}, time.perf_counter() - tic


def run_epochs(run: Run, per_epoch: int, plan_for: Callable[[int], list], load: Callable,
               step: Callable[..., dict], validation: Callable[[], None] | None = None) -> None:
    """Train from the run's progress to `cfg.epochs` (or `cfg.max_steps`): `plan_for(epoch)` lists the
    epoch's batches, `load` makes one, `step` trains on it and returns its losses. Logs each step;
    after each epoch steps the schedulers (`scheduler`, `scheduler_d` in `run.stateful`), validates
    every `val_every` epochs (and `val_every_steps` steps) and checkpoints every `checkpoint_every`;
    validates and checkpoints at the end, and closes the logs."""
    cfg, progress, optimizer = run.cfg, run.progress, run.stateful["optimizer"]
    total = per_epoch * cfg.epochs if cfg.max_steps is None else min(per_epoch * cfg.epochs, cfg.max_steps)
    if progress.get("stopped_early"):  # a finished early-stopped run, re-run: nothing more to train
        total = progress["step"]

    def validate_now() -> None:
        if validation is not None and progress["validated_step"] != progress["step"]:
            validation()

    bar = progress_bar(total, progress["step"], log)
    for epoch in range(progress["epoch"], cfg.epochs):
        done = progress["step"] - epoch * per_epoch  # a run stopped by max_steps may end mid-epoch
        plan = plan_for(epoch)[done : done + total - progress["step"]]
        for step_losses, seconds in prefetched(plan, load, step):
            progress["step"] += 1
            run.steps_log.write(step=progress["step"], epoch=epoch + 1, lr=optimizer.param_groups[0]["lr"],
                               seconds=seconds, **step_losses)
            bar.update()
            bar.set_postfix({name: f"{value:.4g}" for name, value in list(step_losses.items())[:1]}, refresh=False)
            if cfg.val_every_steps and progress["step"] % cfg.val_every_steps == 0:
                validate_now()
        if progress["step"] < (epoch + 1) * per_epoch:
            break  # stopped by max_steps
        progress["epoch"] = epoch + 1
        for name in ("scheduler", "scheduler_d"):
            if run.stateful.get(name) is not None:
                run.stateful[name].step()
        if progress["epoch"] % cfg.val_every == 0:
            validate_now()
        # patience: judged at validations, in epochs since the best one (none before the first)
        validated = progress["validated_step"] == progress["step"] and math.isfinite(progress["best"]["val_loss"])
        stalled = bool(cfg.patience) and validated and progress["epoch"] - progress["best"]["epoch"] >= cfg.patience
        if stalled:
            progress["stopped_early"] = True
            log.info("early stop at epoch %d: no lower validation loss for %d epochs (best at epoch %d kept)",
                     progress["epoch"], progress["epoch"] - progress["best"]["epoch"], progress["best"]["epoch"])
        if progress["epoch"] % cfg.checkpoint_every == 0 or stalled:
            run.checkpoint()
        if stalled:
            break
    bar.close()
    validate_now()
    run.checkpoint()
    run.close()
    if validation is not None:
        curve = read_validation(run.out / "epochs.csv")
        if still_improving(curve):
            log.warning("validation loss still falling when training ended: the network is under-trained for its "
                        "data (raise train.epochs or train.min_steps)")
        elif never_improved(curve):
            log.warning("validation never improved after the first validation: the network learnt nothing that "
                        "holds on the validation data (too few patches, or labels it cannot learn from its input: "
                        "check the labels' quality)")
