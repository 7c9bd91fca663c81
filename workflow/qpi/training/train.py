"""Training: the run and epoch loop every trainer shares, and supervised training on it.

`start_run` resumes or starts a run (progress, CSV logs, checkpoint: `qpi.training.checkpoints`) and
`run_epochs` drives it: batch plans, prefetching, max_steps, schedulers, validation and checkpoint
cadence. A trainer gives it a plan, a batch loader and a step: `train_supervised` here, the paired
GAN in `qpi.training.paired_gan`, the cycle-GAN in `qpi.training.cycle_gan`.

Reproducibility: batch order and augmentation depend only on (seed, epoch), and a checkpoint holds
every piece of state (weights, optimiser, scheduler, RNGs, counters) and the run's logs and best
model as they were when it was written, so on CPU an interrupted (even SIGKILLed) and resumed run
ends with the same weights and files as an uninterrupted one.

GPU throughput switches (`amp`, `channels_last`, `compile`, `pin_memory`) are off by default and
ignored on CPU; on any device the next batch is prepared while the current step runs.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from qpi.training import losses
from qpi import models
from qpi.core.atomic import atomic_path
from qpi.training.checkpoints import complete_card, data_digest, load_checkpoint, resumable, save_checkpoint, save_model
from qpi.core.device import autocast, autocast_dtype, grad_scaler, select_device, set_threads
from qpi.core.logs import progress_stream
from qpi.scoring.scores import score_image

log = logging.getLogger("qpi.training.train")

STEP_FIELDS = ("step", "epoch", "loss", "lr", "seconds")
EPOCH_FIELDS = ("epoch", "step", "val_loss", "val_ssim", "val_psnr")
@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run (epochs count passes over the training set).

    `lr_schedule`: None, {"name": "step", "step_size": E, "gamma": g} (×g every E epochs) or
    {"name": "cosine", "epochs": E, "min_lr": m} (cosine decay over E epochs, by default the run's
    `epochs`; give E to extend a run on resume without changing the schedule already followed).
    `max_steps` stops early after that many optimiser steps in total (smoke runs, benchmarks).
    GPU only (ignored on CPU, see `accel_for`): `amp` trains in autocast "bf16" or "fp16" (with loss
    scaling), `channels_last` uses NHWC tensors (faster convolutions on tensor cores), `compile`
    wraps the model in torch.compile, `pin_memory` gathers batches from host-resident data (a set
    too large for the GPU) into pinned memory so that their copies overlap the computation.
    """

    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-3
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    betas_d: tuple[float, float] | None = None  # a GAN's discriminators' Adam betas (None: `betas`)
    loss: str = "mse"
    seed: int = 0
    checkpoint_every: int = 1
    device: str = "auto"
    threads: int | None = None
    val_every: int = 1
    val_every_steps: int | None = None  # also validate every N optimiser steps (convergence curves)
    lr_schedule: dict | None = None
    augment: bool = True
    max_steps: int | None = None
    amp: str = "off"
    channels_last: bool = False
    compile: bool = False
    pin_memory: bool = False

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a config mapping, naming any unknown key."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            known = [f.name for f in dataclasses.fields(cls)]
            raise ValueError(f"unknown training settings {sorted(unknown)}; known settings: {known}")
        values = dict(values)
        for key in ("betas", "betas_d"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)


# --- randomness -------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- data -------------------------------------------------------------------------------------


def as_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A float32 tensor of the whole array, on `device` if it takes < half the free memory.

    Otherwise it stays in host memory and batches travel to the device one by one (see `take`:
    pinning the whole array would not help, since gathering a batch's rows copies them anyway).
    """
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if device.type != "cuda":
        return tensor
    free, _ = torch.cuda.mem_get_info(device)
    return tensor.to(device) if tensor.nbytes < free / 2 else tensor


def check_pairs(x: np.ndarray, y: np.ndarray, name: str) -> None:
    """Inputs (N, C, h, w) and targets (N, C', H, W) with the same N."""
    if x.ndim != 4 or y.ndim != 4 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"{name} set needs inputs (N,C,h,w) and targets (N,C,H,W) with equal N > 0, "
            f"got {x.shape} and {y.shape}"
        )


def batches_per_epoch(n: int, batch_size: int) -> int:
    """Full batches per epoch (the ragged tail is dropped; a set smaller than a batch is one batch)."""
    return max(n // batch_size, 1)


def epoch_plan(n: int, batch_size: int, seed: int, epoch: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Sample indices of each batch and a dihedral op (0–7) per batch, fixed by (seed, epoch) only."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n)
    size = min(batch_size, n)
    batches = [order[i * size : (i + 1) * size] for i in range(batches_per_epoch(n, batch_size))]
    return batches, rng.integers(0, 8, size=len(batches))


def dihedral(x: torch.Tensor, op: int) -> torch.Tensor:
    """Symmetry `op` (0–7) of the square on the last two axes: op%4 quarter turns, flipped if op ≥ 4."""
    x = torch.rot90(x, int(op) % 4, dims=(-2, -1))
    return torch.flip(x, dims=(-1,)) if op >= 4 else x


def take(data: torch.Tensor, index: np.ndarray, device: torch.device, pin: bool = False) -> torch.Tensor:
    """Rows `index` of a resident tensor, moved to `device`; with `pin`, host rows bound for a GPU
    are gathered into pinned memory first, the only source a non-blocking copy is asynchronous from."""
    rows = data[torch.from_numpy(index).to(data.device)]
    if pin and rows.device.type == "cpu" and device.type == "cuda":
        rows = rows.pin_memory()
    return rows.to(device, non_blocking=True)


# --- GPU throughput switches ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Accel:
    """The throughput switches in effect on one device (all off on CPU)."""

    dtype: torch.dtype | None = None  # autocast precision; None = float32
    channels_last: bool = False
    compile: bool = False
    pin_memory: bool = False


def accel_for(cfg: TrainConfig, device: torch.device) -> Accel:
    """`cfg`'s switches on `device`. On CPU they are ignored with one log line: CPU autocast and
    compilation are slow for these small convolutions and would change the reproducible CPU results."""
    dtype = autocast_dtype(cfg.amp, device)  # also rejects an unknown `amp` on CPU
    if device.type == "cuda":
        return Accel(dtype, cfg.channels_last, cfg.compile, cfg.pin_memory)
    switches = {k: getattr(cfg, k) for k in ("amp", "channels_last", "compile", "pin_memory")}
    asked = [f"{k}={v}" for k, v in switches.items() if v not in (False, "off")]
    if asked:
        log.info("GPU switches %s ignored on %s", ", ".join(asked), device)
    return Accel()


def loss_scaler(accel: Accel) -> torch.amp.GradScaler | None:
    """The loss scaler of fp16 training; None otherwise (nothing to scale or checkpoint)."""
    scaler = grad_scaler(accel.dtype)
    return scaler if scaler.is_enabled() else None


def accelerated(module: nn.Module | None, accel: Accel) -> nn.Module | None:
    """Put `module` in channels-last memory when asked (in place: an optimiser's parameters stay
    valid) and return the module to train with, compiled when asked; the compiled one shares the
    weights, so the plain `module` validates and is saved."""
    if module is None:
        return None
    if accel.channels_last:
        module.to(memory_format=torch.channels_last)
    return torch.compile(module) if accel.compile else module


# --- optimisation -----------------------------------------------------------------------------


def make_optimizer(params: Iterable[nn.Parameter], cfg: TrainConfig, discriminator: bool = False) -> torch.optim.Optimizer:
    """Adam over `params` at the config's lr and betas (a discriminator's: `betas_d` when set)."""
    if cfg.optimizer != "adam":
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; available: 'adam'")
    betas = cfg.betas_d if discriminator and cfg.betas_d is not None else cfg.betas
    return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(betas))


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig):
    """The per-epoch learning-rate schedule of `cfg.lr_schedule` (step, cosine, or linear:
    {"name": "linear", "constant_epochs": E}); None for a constant rate."""
    spec = cfg.lr_schedule or {}
    name = spec.get("name")
    if name is None:
        return None
    schedulers = torch.optim.lr_scheduler
    if name == "step":
        return schedulers.StepLR(optimizer, step_size=spec["step_size"], gamma=spec.get("gamma", 0.1))
    if name == "cosine":
        # over the whole run unless told otherwise, so a shorter run (a per-network override) anneals fully
        return schedulers.CosineAnnealingLR(optimizer, T_max=spec.get("epochs", cfg.epochs), eta_min=spec.get("min_lr", 0.0))
    if name == "linear":  # CycleGAN's policy: constant, then a decay that would reach 0 one epoch after the last
        constant, total = int(spec["constant_epochs"]), cfg.epochs
        if not 0 <= constant < total:
            raise ValueError(f"linear lr decay needs 0 ≤ constant_epochs < epochs, got {constant} and {total}")
        return schedulers.LambdaLR(optimizer, lambda epoch: 1.0 - max(0, epoch + 1 - constant) / (total - constant + 1))
    raise ValueError(f"unknown lr_schedule {name!r}; available: 'step', 'cosine', 'linear'")


# --- logs -------------------------------------------------------------------------------------


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


# --- run progress -----------------------------------------------------------------------------


def new_progress(data: str = "") -> dict:
    """Counters of a fresh run: completed epochs, optimiser steps, best validation, last validated step,
    and the digest of the data it trains on."""
    best = {"val_loss": math.inf, "epoch": 0, "step": 0}
    return {"epoch": 0, "step": 0, "best": best, "validated_step": -1, "data": data}


# --- the run and epoch loop every trainer shares ----------------------------------------------

RUN_FILES = ("last.pt", "best.pt", "generator.pt", "steps.csv", "epochs.csv")


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


def start_run(out: Path, cfg: TrainConfig, model: nn.Module, stateful: dict[str, Any], data: tuple[np.ndarray, ...],
              step_fields: tuple[str, ...] = STEP_FIELDS, validated: bool = True, card: dict | None = None) -> Run:
    """Resume from `out/last.pt` when it holds this model trained on these `data`, else start afresh;
    open `steps.csv` and (when `validated`) `epochs.csv`. A resumed run keeps only the log rows up
    to its checkpoint's step, so rows written after the last checkpoint of a killed run are not repeated."""
    digest = data_digest(*data)
    checkpoint = resumable(out / "last.pt", model, stateful, digest, cfg)
    resumed = checkpoint is not None
    progress = load_checkpoint(out / "last.pt", checkpoint, model, stateful) if resumed else new_progress(digest)
    if resumed:
        log.info("resuming %s at epoch %d, step %d", out / "last.pt", progress["epoch"], progress["step"])
    keep = (lambda row: int(row["step"]) <= progress["step"]) if resumed else None
    epochs_log = CsvLog(out / "epochs.csv", EPOCH_FIELDS, keep) if validated else None
    return Run(out, cfg, model, stateful, progress, resumed, CsvLog(out / "steps.csv", step_fields, keep), epochs_log,
               complete_card(card, cfg, digest))


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
        if progress["epoch"] % cfg.checkpoint_every == 0:
            run.checkpoint()
    bar.close()
    validate_now()
    run.checkpoint()
    run.close()


# --- supervised training ----------------------------------------------------------------------


def queue_step(
    model: nn.Module, optimizer, loss_fn, x: torch.Tensor, y: torch.Tensor,
    dtype: torch.dtype | None = None, scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """One optimiser step on a batch in training mode, in autocast `dtype` (None: float32) with the
    loss scaled by `scaler` (fp16); returns the detached loss without waiting for the device."""
    model.train()  # every step: a validation between steps leaves the model in eval mode
    optimizer.zero_grad(set_to_none=True)
    with autocast(x.device.type, dtype):
        loss = loss_fn(model(x), y)
    backward_step(loss, optimizer, scaler)
    return loss.detach()


def backward_step(loss: torch.Tensor, optimizer, scaler: torch.amp.GradScaler | None = None,
                  update: bool = True) -> None:
    """Backpropagate `loss` and step `optimizer`, through `scaler` when given (its step is skipped
    when the scaled gradients overflowed); `update` the scale after the step (once per iteration)."""
    if scaler is None:
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    if update:
        scaler.update()


def train_step(model: nn.Module, optimizer, loss_fn, x: torch.Tensor, y: torch.Tensor) -> float:
    """One float32 optimiser step on a batch; returns the batch loss."""
    return queue_step(model, optimizer, loss_fn, x, y).item()


def batch_loader(tensors: tuple[torch.Tensor, ...], device: torch.device, augment: bool, accel: Accel = Accel()):
    """`load` for `run_epochs`: the rows of an (indices, dihedral op) plan item of each of `tensors`
    (inputs, targets) on `device`, transformed alike; the first, the network's input, in
    channels-last memory when asked."""

    def load(item: tuple[np.ndarray, int]) -> tuple[torch.Tensor, ...]:
        index, op = item
        batch = [take(t, index, device, accel.pin_memory) for t in tensors]
        if augment:
            batch = [dihedral(b, op) for b in batch]
        if accel.channels_last:
            batch[0] = batch[0].contiguous(memory_format=torch.channels_last)
        return tuple(batch)

    return load


def pair_plan(n: int, cfg: TrainConfig) -> Callable[[int], list]:
    """`plan_for` of a paired set of `n` samples: (indices, dihedral op) per batch, fixed by (seed, epoch)."""
    return lambda epoch: list(zip(*epoch_plan(n, cfg.batch_size, cfg.seed, epoch)))


@torch.no_grad()
def validate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, batch_size: int, device) -> dict:
    """Mean loss, and mean SSIM/PSNR over samples and channels (pistons removed), in eval mode."""
    model.eval()
    total, ssims, psnrs = 0.0, [], []
    for start in range(0, len(x), batch_size):
        index = np.arange(start, min(start + batch_size, len(x)))
        xb, yb = take(x, index, device), take(y, index, device)
        pred = model(xb)
        total += loss_fn(pred, yb).item() * len(index)
        for p, t in zip(_images(pred), _images(yb)):
            s = score_image(p, t, phase=True)
            ssims.append(s["ssim"])
            psnrs.append(s["psnr"])
    return {"val_loss": total / len(x), "val_ssim": float(np.mean(ssims)), "val_psnr": float(np.mean(psnrs))}


def _images(batch: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) tensor → (N·C, H, W) numpy images."""
    return batch.cpu().numpy().reshape(-1, *batch.shape[-2:])


def validator(run: Run, x: torch.Tensor, y: torch.Tensor, loss_fn, device: torch.device) -> Callable[[], None]:
    """The run's validation: score `run.model` on (x, y), log it, and save the model to `best.pt`
    when its validation loss is the lowest yet."""

    def validation() -> None:
        scores = validate(run.model, x, y, loss_fn, run.cfg.batch_size, device)
        progress = run.progress
        run.epochs_log.write(epoch=progress["epoch"], step=progress["step"], **scores)
        progress["validated_step"] = progress["step"]
        log.info("epoch %d step %d: %s", progress["epoch"], progress["step"],
                 " ".join(f"{k} {v:.4g}" for k, v in scores.items()))
        if scores["val_loss"] < progress["best"]["val_loss"]:
            progress["best"] = {**scores, "epoch": progress["epoch"], "step": progress["step"]}
            save_model(run.out / "best.pt", run.model,
                       meta={**progress["best"], "train_config": dataclasses.asdict(run.cfg), "card": run.card})

    return validation


def prepare(out_dir: str | Path, cfg: TrainConfig) -> tuple[Path, torch.device, Accel]:
    """The run directory (cleared of partial writes), threads, device, switches and seed of a run."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clear_partial_writes(out)
    set_threads(cfg.threads)
    device = select_device(cfg.device)
    accel = accel_for(cfg, device)
    seed_everything(cfg.seed)
    return out, device, accel


def train_supervised(
    model_name: str,
    model_kwargs: dict,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainConfig,
    out_dir: str | Path,
    card: dict | None = None,
) -> dict:
    """Train `model_name` on (input, target) pairs; resume from `out_dir/last.pt` if present.
    `card` (qpi.report.cards.for_run) is saved, completed, with the model.

    Writes `steps.csv`, `epochs.csv`, `last.pt` (every `checkpoint_every` epochs and at the end)
    and `best.pt` (lowest validation loss) under `out_dir`; returns a summary of the run.
    """
    check_pairs(*train, "training")
    check_pairs(*val, "validation")
    out, device, accel = prepare(out_dir, cfg)
    model = models.build(model_name, **model_kwargs).to(device)
    net = accelerated(model, accel)  # trains; `model` validates and is saved
    optimizer = make_optimizer(model.parameters(), cfg)
    stateful = {"optimizer": optimizer, "scheduler": make_scheduler(optimizer, cfg), "scaler": loss_scaler(accel)}
    loss_fn = losses.loss(cfg.loss)
    x, y = (as_tensor(a, device) for a in train)
    vx, vy = (as_tensor(a, device) for a in val)
    run = start_run(out, cfg, model, stateful, (*train, *val), card=card)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict:
        return {"loss": queue_step(net, optimizer, loss_fn, *batch, accel.dtype, stateful["scaler"])}

    run_epochs(run, batches_per_epoch(len(x), cfg.batch_size), pair_plan(len(x), cfg),
               batch_loader((x, y), device, cfg.augment, accel), step, validator(run, vx, vy, loss_fn, device))
    return run.summary(model_name, device)
