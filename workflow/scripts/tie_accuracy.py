"""TIE accuracy against the exact phase: solver × Δz × noise sweep, plus the pipeline's own labels."""

import numpy as np
import pandas as pd

from qpi import io, tables, validation
from qpi.logs import log_to

log = log_to(snakemake.log[0])
p = snakemake.params
n = p.sweep["field_px"]
names = [path.split("/")[-1].removesuffix("_phase.tif") for path in snakemake.input.phase]
fields = {
    name: (io.read_image(ph)[0][:n, :n], io.read_image(am)[0][:n, :n])
    for name, ph, am in zip(names, snakemake.input.phase, snakemake.input.amplitude)
}
scope = validation.microscope_at_camera(p.microscope)
rows = validation.tie_sweep(fields, scope, p.sweep["dz_um"], p.sweep["noise"], p.sweep["solvers"],
                            np.random.default_rng(p.seed), eps=p.tie["eps"])
dz = float(np.max(np.abs(p.tie["planes_um"])))
for name, ph, label in zip(names, snakemake.input.phase, snakemake.input.labels):
    rows.append({"source": "pipeline", "field": name, "solver": p.tie["method"], "dz_um": dz, "noise": np.nan,
                 **validation.accuracy(io.read_image(label)[0], io.read_image(ph)[0])})
table = pd.DataFrame(rows)
tables.write_table(table, snakemake.output.table)
log.info("\n%s", table.groupby(["source", "solver", "dz_um", "noise"], dropna=False)["rmse_rad"].mean().to_string())
