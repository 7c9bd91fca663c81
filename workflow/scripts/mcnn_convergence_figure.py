"""Figure: validation MAE against iteration, MCNN against U-Net (mean and spread over seeds)."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families.mcnn import figures

log_to(snakemake.log[0])
save(figures.convergence(pd.read_csv(snakemake.input.table)), snakemake.output.figure)
