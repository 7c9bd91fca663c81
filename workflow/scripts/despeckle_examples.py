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
reference = despeckle.phase_truth(specimens)
# a simulated level's first specimen; a lab's test tiles: the one whose phase target varies most (cells, not background)
index = 0 if reference == "exact" else int(np.argmax(specimens[reference].std(axis=(1, 2, 3))))
with np.load(i.predictions[0]) as predictions:  # the first seed's networks
    outputs = {m: despeckle.outputs(predictions[despeckle.prediction_key(m, p.test)]) for m in p.models}
ssim = despeckle.example_ssim(pd.concat(map(pd.read_csv, i.scores), ignore_index=True), p.test, index, reference)
diffuser = f"ℓ = {p.correlation_um:g} µm" if p.correlation_um is not None else f"diffuser {p.test}"
fig = figures.examples(load_dataset(i.speckle)["speckle"], specimens, outputs, diffuser, ssim, index)
save(fig, snakemake.output.figure)
log.info("example panel of %d models, test image %d, %s; phase against %s", len(outputs), index, diffuser, reference)
