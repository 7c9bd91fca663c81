"""Figure: SSIM heat maps, train condition × test condition, one panel per family and model."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.report import plots, summary

log = log_to(snakemake.log[0])
grids = summary.cross_grids(pd.read_csv(snakemake.input.table))
save(plots.cross_condition(grids), snakemake.output.figure)
for key, grid in grids.items():
    log.info("%s\n%s", key, grid.round(3).to_string())
