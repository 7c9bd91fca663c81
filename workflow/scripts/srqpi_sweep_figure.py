"""Figure of one sweep: SSIM against the test condition per training condition, and the per-image spread."""

import pandas as pd

from qpi.report import plots
from qpi.families import srqpi
from qpi.core.logs import log_to

log_to(snakemake.log[0])
sweep = snakemake.wildcards.sweep
plots.save(plots.srqpi_sweep(pd.read_csv(snakemake.input.per_image), srqpi.AXES[sweep][1]), snakemake.output.figure)
