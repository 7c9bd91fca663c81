"""Figure: ContransGAN trained on one input objective, tested on every objective (SSIM, PSNR)."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families.contrans import figures

log = log_to(snakemake.log[0])
table = pd.read_csv(snakemake.input.table)
save(figures.cross_na(table, snakemake.params.objectives), snakemake.output.figure)
log.info("\n%s", table.to_string(index=False))
