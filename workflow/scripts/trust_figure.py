"""Figure: per family, error beside uncertainty and consistency residual on held-out images; reliability."""

import numpy as np
import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.report import plots

log = log_to(snakemake.log[0])
own = {}
for path in snakemake.input.images:
    rows = pd.read_csv(path)
    own[rows["family"].iloc[0]] = str(rows["own_condition"].iloc[0])
maps = {family: dict(np.load(path)) for family, path in zip(own, snakemake.input.maps)}
save(plots.trust(maps, own), snakemake.output.figure)
log.info("trust maps of %s", ", ".join(maps))
