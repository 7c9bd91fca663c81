"""Training throughput: the trainer's real batch path against batches already in memory.

The trainer keeps the whole patch set as one tensor and builds each batch by indexing a
per-epoch permutation plus one dihedral op; this measures what that costs per step against
a loop over ready-made batches (the ceiling), and against a per-sample torch DataLoader.

Run: .venv/bin/python benchmarks/loader.py  → prints and writes benchmarks/loader.json
"""

import json
import time
from pathlib import Path

import numpy as np
import torch

from qpi import models
from qpi.training import losses
from qpi.training.batches import dihedral, epoch_plan, take
from qpi.training.supervised import train_step


def samples_per_second(model, optimizer, batches, batch_size):
    loss_fn = losses.loss("mse")
    start = time.perf_counter()
    n = 0
    for xb, yb in batches():
        train_step(model, optimizer, loss_fn, xb, yb)
        n += batch_size
    return n / (time.perf_counter() - start)


def main(n=256, lr_size=32, batch_size=8, width=8, threads=2):
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, lr_size, lr_size), dtype=np.float32)
    y = rng.random((n, 1, lr_size * 4, lr_size * 4), dtype=np.float32)
    model = models.build("srqpi_unet", upscale=4, width=width)
    optimizer = torch.optim.Adam(model.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    device = torch.device("cpu")

    ready = [(xt[i : i + batch_size].clone(), yt[i : i + batch_size].clone()) for i in range(0, n, batch_size)]

    def in_memory():
        return iter(ready)

    def trainer_path():
        index, ops = epoch_plan(n, batch_size, seed=0, epoch=0)
        for idx, op in zip(index, ops):
            yield (dihedral(take(xt, idx, device), op), dihedral(take(yt, idx, device), op))

    dataset = torch.utils.data.TensorDataset(xt, yt)

    def dataloader():
        return iter(torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True))

    samples_per_second(model, optimizer, in_memory, batch_size)  # warm-up
    rates = {name: samples_per_second(model, optimizer, fn, batch_size)
             for name, fn in [("in_memory", in_memory), ("trainer", trainer_path), ("dataloader", dataloader)]}
    result = {
        "patches": f"{n} x LR {lr_size}² -> HR {lr_size * 4}²", "batch": batch_size, "unet_width": width,
        "threads": threads, **{f"{k}_samples_per_s": round(v, 1) for k, v in rates.items()},
        "trainer_over_in_memory": round(rates["trainer"] / rates["in_memory"], 3),
        "dataloader_over_in_memory": round(rates["dataloader"] / rates["in_memory"], 3),
    }
    print(json.dumps(result, indent=2))
    Path(__file__).with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
