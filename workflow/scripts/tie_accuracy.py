"""TIE accuracy against the exact phase: solver × Δz × noise on fresh specimens, plus the pipeline's labels."""

import numpy as np
import pandas as pd

from qpi import io
from qpi.core.logs import log_to
from qpi.optics.imaging import Microscope
from qpi.optics.phantoms import make_phantom
from qpi.report import tables
from qpi.tie import accuracy

log = log_to(snakemake.log[0])
p = snakemake.params
scope = Microscope(**p.microscope)
rng = np.random.default_rng(p.seed)
n = p.sweep["field_px"] * scope.oversample
fields = {
    f"specimen_{i}": make_phantom(p.sweep["specimen"], (n, n), scope.sim_pixel_um, scope.wavelength_um, rng)
    for i in range(p.sweep["fields"])
}
rows = accuracy.tie_sweep(fields, scope, p.sweep["dz_um"], p.sweep["noise"], p.sweep["solvers"], rng,
                            eps=p.tie["eps"])
dz = float(np.max(np.abs(p.tie["planes_um"] or p.simulated_z_um)))  # null: every plane
for label, truth in zip(snakemake.input.labels, snakemake.input.truth):
    rows.append({"source": "pipeline", "field": label.split("/")[-1].removesuffix(".tif"), "solver": p.tie["method"],
                 "dz_um": dz, "noise": np.nan, **accuracy.accuracy(io.read_image(label)[0], io.read_image(truth)[0])})
table = pd.DataFrame(rows)
tables.write_table(table, snakemake.output.table)
log.info("\n%s", table.groupby(["source", "solver", "dz_um", "noise"], dropna=False)["rmse_rad"].mean().to_string())
