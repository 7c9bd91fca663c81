"""Figure: microlens heights from the network and the truth, the error map and a line profile."""

import numpy as np
import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families.srqpi import figures

log_to(snakemake.log[0])
with np.load(snakemake.input.maps) as maps:
    arrays = {k: maps[k] for k in maps.files}
pixel_um = float(arrays.pop("pixel_um"))
figure = figures.microlens(arrays, pd.read_csv(snakemake.input.table), pixel_um, snakemake.params.pitch_um)
save(figure, snakemake.output.figure)
