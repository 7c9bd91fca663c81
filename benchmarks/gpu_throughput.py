"""Training throughput per family and GPU switch (samples/s), through the real trainers.

Each case trains a family's network at demo size and at the paper's size for a fixed number of
steps on random data (throughput does not depend on the values); the rate is batch / median step
time over the second half of the steps (after compilation and cuDNN autotuning). The switches
are the trainer's: fp32; bf16 autocast; bf16 + channels-last; bf16 + channels-last + compile (paper sizes only).
The paired-GAN trainer (DespeckleNet) takes the same switches since session 5 (not yet measured on a
GPU). The final loss of each run is kept to show that the switched runs train (finite, like float32's).

Run (on a GPU machine): python benchmarks/gpu_throughput.py → prints and writes
benchmarks/gpu_throughput.json (a CPU run measures float32 only: the switches are ignored there).
"""

import argparse
import csv
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from qpi.training import paired_gan
from qpi.training.config import TrainConfig
from qpi.training.supervised import train_supervised

SWITCHES = {
    "fp32": {},
    "bf16": {"amp": "bf16"},
    "bf16_cl": {"amp": "bf16", "channels_last": True},
    "bf16_cl_compile": {"amp": "bf16", "channels_last": True, "compile": True},
}
# family, scale, trainer, model, kwargs, input (C, H, W), target (C, H, W), batch
CASES = [
    ("srqpi", "demo", "supervised", "srqpi_unet", {"upscale": 4, "width": 8}, (1, 24, 24), (1, 96, 96), 32),
    ("srqpi", "paper", "supervised", "srqpi_unet", {"upscale": 4, "width": 64}, (1, 64, 64), (1, 256, 256), 8),
    ("srqpi", "paper", "supervised", "srcnn", {"upscale": 4}, (1, 64, 64), (1, 256, 256), 8),
    ("mcnn", "demo", "supervised", "mcnn", {"in_channels": 2, "width": 8, "depth": 3, "heads": 3},
     (2, 64, 64), (1, 64, 64), 8),
    ("mcnn", "paper", "supervised", "mcnn", {"in_channels": 2, "out_channels": 2, "width": 32, "depth": 4,
                                             "heads": 4}, (2, 256, 256), (2, 256, 256), 16),
    ("despeckle", "demo", "paired", "despecklenet", {"channels": [10, 20, 40]}, (1, 64, 64), (2, 64, 64), 8),
    ("despeckle", "paper", "paired", "despecklenet", {"channels": [64, 128, 256, 512, 512], "residual_blocks": 4,
                                                       "complex_blocks": 4}, (1, 512, 512), (2, 512, 512), 8),
]


def step_rate(steps_csv: Path, batch: int) -> float:
    seconds = [float(row["seconds"]) for row in csv.DictReader(steps_csv.open())]
    return batch / statistics.median(seconds[len(seconds) // 2 :])


def final_loss(steps_csv: Path) -> float:
    return float(list(csv.DictReader(steps_csv.open()))[-1]["loss"])


def run_case(case, switch: dict, steps: int, work: Path) -> dict:
    family, scale, trainer, model, kwargs, x_shape, y_shape, batch = case
    rng = np.random.default_rng(0)
    n = batch * 4
    data = [(rng.random((m, *x_shape), dtype=np.float32), rng.random((m, *y_shape), dtype=np.float32))
            for m in (n, batch)]
    common = {"epochs": steps, "max_steps": steps, "batch_size": batch, "val_every": 10**6,
              "checkpoint_every": 10**6, "augment": False}
    tic = time.perf_counter()
    if trainer == "supervised":
        loss = "multiscale_l1" if model == "mcnn" else "l1"  # MCNN trains on all its heads
        cfg = TrainConfig(**common, loss=loss, **switch)
        train_supervised(model, kwargs, *data, cfg, work)
    else:
        cfg = paired_gan.PairedConfig(**common, discriminator={"arch": "patchgan", "in_channels": 3, "width": 64}, **switch)
        paired_gan.train_paired(model, kwargs, *data, cfg, work)
    return {"family": family, "scale": scale, "model": model, "input": "x".join(map(str, x_shape)), "batch": batch,
            "samples_per_s": round(step_rate(work / "steps.csv", batch), 1), "final_loss": final_loss(work / "steps.csv"),
            "wall_s": round(time.perf_counter() - tic, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--scale", choices=["demo", "paper"], help="only this scale (default: both)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    torch.backends.cudnn.benchmark = True
    rows = []
    for case in (c for c in CASES if args.scale in (None, c[1])):
        switches = SWITCHES if cuda else {"fp32": {}}
        if case[1] == "demo":  # compiling costs more than a demo-size training saves
            switches = {k: v for k, v in switches.items() if not v.get("compile")}
        for name, switch in switches.items():
            with tempfile.TemporaryDirectory() as work:
                row = {**run_case(case, switch, args.steps, Path(work)), "switches": name}
            rows.append(row)
            print(json.dumps(row), flush=True)
    for row in rows:  # speed-up of each switch over float32 on the same case
        base = next(r for r in rows if (r["family"], r["scale"], r["model"], r["switches"]) ==
                    (row["family"], row["scale"], row["model"], "fp32"))
        row["vs_fp32"] = round(row["samples_per_s"] / base["samples_per_s"], 2)
    device = torch.cuda.get_device_name() if cuda else "cpu"
    args.out.write_text(json.dumps({"device": device, "torch": torch.__version__, "steps": args.steps,
                                    "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
