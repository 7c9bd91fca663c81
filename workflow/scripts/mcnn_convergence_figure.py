"""Figure: validation MAE against iteration, MCNN against U-Net (mean and spread over seeds)."""

import pandas as pd

from qpi.report import plots
from qpi.core.logs import log_to

log_to(snakemake.log[0])
plots.save(plots.mcnn_convergence(pd.read_csv(snakemake.input.table)), snakemake.output.figure)
