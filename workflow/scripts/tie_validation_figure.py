"""Figure: TIE solver accuracy against Δz per noise level."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.report import plots

log_to(snakemake.log[0])
save(plots.tie_validation(pd.read_csv(snakemake.input.table)), snakemake.output.figure)
