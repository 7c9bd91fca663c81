"""Figure: one held-out field through every method, and SSIM per method (the paper's Fig. 3)."""

import numpy as np
import pandas as pd

from qpi import io
from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.families.srqpi import figures, plan

log = log_to(snakemake.log[0])
p = snakemake.params
per_image = pd.read_csv(snakemake.input.per_image)
field = p.stacks[0]
reference = "exact" if p.truth[0] else "measured" if p.measured[0] else "tie"
examples = {"input (LR intensity)": io.read_image(snakemake.input.lr[0])[0]}
if p.truth[0]:
    examples["exact phase"] = io.read_image(p.truth[0])[0]
if p.measured[0]:
    examples["measured phase"] = io.read_image(p.measured[0])[0]
label = io.read_image(snakemake.input.tie[0])[0]
examples["TIE phase (HR stack)"] = label
inside = np.isfinite(label)  # outside a field stop nothing is measured: no method is shown there
windows = plan.test_windows(p.split, field, label, p.binning)
if windows is not None:  # fields split by blocks: only the field's test blocks are held out, only they are shown
    held_out = np.zeros_like(inside)
    for window in windows.values():
        held_out[window] = True
    inside &= held_out
for method, path in zip(p.methods, snakemake.input.predictions):
    with np.load(path) as predictions:
        prediction = predictions[field]
    examples[method] = np.where(inside[: prediction.shape[0], : prediction.shape[1]], prediction, np.nan)
images = per_image["image"].astype(str).str.split("@").str[0]  # a field's blocks are scored as <field>@<block>
example = per_image[(images == field) & (per_image["reference"] == reference)]
example = example.groupby(["method", "seed"], sort=False, dropna=False)["ssim"].mean().reset_index()
ssim = {srqpi.method_name(m, s): v for m, s, v in zip(example["method"], example["seed"], example["ssim"])}
figure = figures.benchmark(per_image, examples, ssim, reference)
save(figure, snakemake.output.figure)
log.info("example field %s, SSIM against the %s phase", field, reference)
