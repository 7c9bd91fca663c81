"""One MCNN dataset: specimens imaged through focus by Fourier optics, with slight Poisson and white noise."""

import numpy as np

from qpi.core.logs import log_to
from qpi.core.seeds import dataset_seed
from qpi.families import mcnn
from qpi.optics.imaging import Microscope
from qpi.training.patches import save_dataset

log = log_to(snakemake.log[0])
p, name = snakemake.params, snakemake.wildcards.dataset
spec = p.spec
scope = Microscope(**p.scope)
seed = dataset_seed(p.seed, name)
data = mcnn.acquire(spec["kind"], spec["count"], p.field_px, scope, np.asarray(p.planes_um), seed,
                         p.noise["photons"], p.noise["white_sigma"], spec.get("params", {}))
provenance = {"dataset": name, **spec, "field_px": p.field_px, "pixel_um": scope.pixel_um, "seed": seed,
              "microscope": p.scope, "noise": p.noise}
save_dataset(snakemake.output.data, data, provenance)
log.info("%s: %d %s specimens, planes %s µm, intensity contrast std %.3f, phase range %.2f rad",
         name, spec["count"], spec["kind"], p.planes_um, np.std(data["planes"] - 1), np.ptp(data["phase"]))
