"""Figure: microlens heights from the network and the truth, the error map and a line profile."""

import numpy as np
import pandas as pd

from qpi.report import plots
from qpi.core.logs import log_to

log_to(snakemake.log[0])
with np.load(snakemake.input.maps) as maps:
    arrays = {k: maps[k] for k in maps.files}
pixel_um = float(arrays.pop("pixel_um"))
figure = plots.srqpi_microlens(arrays, pd.read_csv(snakemake.input.table), pixel_um, snakemake.params.pitch_um)
plots.save(figure, snakemake.output.figure)
