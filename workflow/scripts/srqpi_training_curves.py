"""Figure: training loss and validation SSIM of every DL-SRQPI network."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.report import plots

log_to(snakemake.log[0])


def read(paths):
    return pd.concat([pd.read_csv(p).assign(network=p.split("/")[-2]) for p in paths], ignore_index=True)


save(plots.training_curves(read(snakemake.input.steps), read(snakemake.input.epochs)), snakemake.output.figure)
