"""Figure and table: microsphere heights from the predicted phase, the TIE label and the exact phase."""

import numpy as np

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families import contrans
from qpi.families.contrans import figures
from qpi.report import tables
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p = snakemake.params
test = load_dataset(snakemake.input.test)
phases = {("tie", "40x"): test["tie"], ("exact", "40x"): test["exact"]}
for objective, path in zip(p.objectives, snakemake.input.predictions):
    with np.load(path) as predictions:
        phases["network", objective] = predictions[objective]
heights = contrans.heights_table(phases, p.pixel_um, p.wavelength_um, p.sphere["delta_n"], p.sphere["diameter_um"],
                                 p.threshold)
summary = contrans.height_summary(heights.loc[heights["source"] == "network", "height_um"], p.sphere["diameter_um"])
tables.write_table(heights, snakemake.output.table)
save(figures.psm_heights(heights, p.sphere["diameter_um"], summary), snakemake.output.figure)
for source, g in heights.groupby("source"):
    log.info("%s: %s", source, contrans.height_summary(g["height_um"], p.sphere["diameter_um"]))
