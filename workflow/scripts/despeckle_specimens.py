"""Specimens of one DespeckleNet split with their unscattered targets (in-focus intensity, TIE and exact phase)."""

import numpy as np

from qpi.core.logs import log_to
from qpi.core.seeds import dataset_seed
from qpi.families import despeckle
from qpi.optics.imaging import Microscope
from qpi.training.patches import save_dataset

log = log_to(snakemake.log[0])
p, split = snakemake.params, snakemake.wildcards.split
scope = Microscope(**p.scope)
seed = dataset_seed(p.seed, f"specimens/{split}")
data = despeckle.simulate_specimens(p.specimens, p.field_px, scope, p.phantom, p.dz_um, p.tie["method"], p.tie["eps"],
                                    seed)
save_dataset(snakemake.output.data, data,
             {"split": split, "count": p.specimens, "field_px": p.field_px, "microscope": p.scope, "phantom": p.phantom,
              "dz_um": p.dz_um, "tie": p.tie, "seed": seed})
rmse = np.sqrt(np.mean((data["tie"] - data["exact"]) ** 2))
log.info("%s: %d specimens, TIE label RMSE against the exact phase %.3f rad", split, p.specimens, rmse)
