"""One sweep network, loaded once, on the held-out fields of every sweep test condition, scored per image."""

import numpy as np
import pandas as pd

from qpi import io
from qpi.core.atomic import atomic_path
from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.families.srqpi import plan
from qpi.training import evaluate
from qpi.training.checkpoints import load_model

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
set_threads(snakemake.threads)
references = dict(zip(p.stacks, srqpi.references(snakemake.input.tie, p.truth, p.measured)))
lr_paths = np.reshape(snakemake.input.lr, (len(p.tests), len(p.stacks)))  # expand order: test, then stack
rows = []
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    model = load_model(snakemake.input.model, device=device)
    factor, tile, overlap = int(model.config["upscale"]), p.evaluate["tile_lr"], p.evaluate["overlap_lr"]
    for test, paths in zip(p.tests, lr_paths):
        inputs = {name: io.read_image(path)[0] for name, path in zip(p.stacks, paths)}
        rows += srqpi.evaluate_fields(
            lambda lr: evaluate.tiled_predict(model, lr, factor, tile, overlap, device), inputs, references, log,
            plan.scored_windows(p.split, references, factor), family="srqpi", model=w.model, seed=int(w.seed),
            train_condition=w.condition, test_condition=test,
        )[0]
with atomic_path(snakemake.output.scores) as tmp:
    pd.DataFrame(rows).to_csv(tmp, index=False)
