"""Figure: TIE solver accuracy against Δz per noise level."""

import pandas as pd

from qpi.report import plots
from qpi.core.logs import log_to

log_to(snakemake.log[0])
plots.save(plots.tie_validation(pd.read_csv(snakemake.input.table)), snakemake.output.figure)
