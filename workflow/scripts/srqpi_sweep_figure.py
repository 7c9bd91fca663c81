"""Figure of one sweep: SSIM against the test condition per training condition, and the per-image spread."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.families.srqpi import figures

log_to(snakemake.log[0])
sweep = snakemake.wildcards.sweep
save(figures.sweep(pd.read_csv(snakemake.input.per_image), srqpi.AXES[sweep][1]), snakemake.output.figure)
