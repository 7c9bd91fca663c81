"""The settings of a training run (`TrainConfig`), built from a config mapping by `from_dict`.

The GAN trainers extend it with their own settings (`PairedConfig`, `CycleConfig`, beside them).
"""

from __future__ import annotations

import dataclasses
import math

SCHEDULE_EPOCHS = ("constant_epochs", "step_size")  # lr_schedule keys counted in epochs


def scale_schedule(schedule: dict | None, factor: float) -> dict | None:
    """An lr schedule for a run `factor`× as long: its epoch counts scaled (a decay keeps its shape)."""
    if not isinstance(schedule, dict):
        return schedule
    return {k: max(1, round(v * factor)) if k in SCHEDULE_EPOCHS and v else v for k, v in schedule.items()}


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run (epochs count passes over the training set).

    `lr_schedule`: None, {"name": "step", "step_size": E, "gamma": g} (×g every E epochs) or
    {"name": "cosine", "epochs": E, "min_lr": m} (cosine decay over E epochs, by default the run's
    `epochs`; give E to extend a run on resume without changing the schedule already followed).
    `max_steps` stops early after that many optimiser steps in total (smoke runs, benchmarks).
    `min_steps` trains at least that many optimiser steps whatever the size of the training set (a
    small set of a lab's own fields gets more epochs, the lr schedule's epoch counts scaled alike;
    `fitted`). `patience` stops when a validation finds that many epochs gone by since the lowest
    validation loss (the best model is kept in `best.pt` either way).
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
    min_steps: int | None = None
    patience: int | None = None
    amp: str = "off"
    channels_last: bool = False
    compile: bool = False
    pin_memory: bool = False

    def fitted(self, per_epoch: int) -> TrainConfig:
        """These settings for a training set of `per_epoch` batches: with `min_steps`, epochs raised
        (and the schedule's epoch counts with them) to at least that many optimiser steps."""
        if not self.min_steps or per_epoch * self.epochs >= self.min_steps:
            return self
        epochs = math.ceil(self.min_steps / per_epoch)
        schedule = scale_schedule(self.lr_schedule, epochs / self.epochs)
        if isinstance(schedule, dict) and schedule.get("epochs"):  # a cosine's own span stretches with the run
            schedule = {**schedule, "epochs": max(1, round(schedule["epochs"] * epochs / self.epochs))}
        return dataclasses.replace(self, epochs=epochs, lr_schedule=schedule)

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
