"""Example panel: speckle input, each model's intensity and phase, and the truths, on one unseen specimen."""

import numpy as np
import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families import despeckle
from qpi.families.despeckle import figures
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, i = snakemake.params, snakemake.input
specimens = load_dataset(i.specimens)
with np.load(i.predictions[0]) as predictions:  # the first seed's networks
    outputs = {m: despeckle.outputs(predictions[despeckle.prediction_key(m, p.test)]) for m in p.models}
ssim = despeckle.example_ssim(pd.concat(map(pd.read_csv, i.scores), ignore_index=True), p.test, index=0)
fig = figures.examples(load_dataset(i.speckle)["speckle"], specimens, outputs, p.correlation_um, ssim)
save(fig, snakemake.output.figure)
log.info("example panel of %d models at correlation length %.2f µm", len(outputs), p.correlation_um)
