"""SSIM of intensity and phase against the diffuser's correlation length, one line per model."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families.despeckle import figures

log = log_to(snakemake.log[0])
per_image = pd.read_csv(snakemake.input.per_image)
save(figures.correlation(per_image), snakemake.output.figure)
log.info("figure of %d models over %d levels", per_image["model"].nunique(), per_image["level"].nunique())
