"""Figure: test SSIM against training budget, per family (from this run's table or the recorded one)."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.report import plots

log_to(snakemake.log[0])
paper = {(family, model): value for family, model, value in snakemake.params.paper}
save(plots.fidelity_budget(pd.read_csv(snakemake.input.table), paper), snakemake.output.figure)
