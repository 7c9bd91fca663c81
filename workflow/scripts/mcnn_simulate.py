"""One MCNN dataset: specimens imaged through focus by Fourier optics, with slight Poisson and white noise."""

import numpy as np

from qpi import io
from qpi.core.logs import log_to
from qpi.core.seeds import dataset_seed
from qpi.families import mcnn
from qpi.optics.imaging import Microscope
from qpi.training.patches import save_dataset

log = log_to(snakemake.log[0])
p, name = snakemake.params, snakemake.wildcards.dataset
spec, scope_spec, planes = p.spec, p.scope, p.planes_um
if "microscope" in snakemake.input.keys():  # a lab's stacks: imaged through their microscope, at their planes
    shared = io.read_json(snakemake.input.microscope)
    scope_spec, planes = {**scope_spec, **shared["microscope"]}, shared["planes_um"]
scope = Microscope(**scope_spec)
seed = dataset_seed(p.seed, name)
data = mcnn.acquire(spec["kind"], spec["count"], p.field_px, scope, np.asarray(planes), seed,
                         p.noise["photons"], p.noise["white_sigma"], spec.get("params", {}))
provenance = {"dataset": name, **spec, "field_px": p.field_px, "pixel_um": scope.pixel_um, "seed": seed,
              "microscope": scope_spec, "noise": p.noise}
save_dataset(snakemake.output.data, data, provenance)
log.info("%s: %d %s specimens, planes %s µm, intensity contrast std %.3f, phase range %.2f rad",
         name, spec["count"], spec["kind"], planes, np.std(data["planes"] - 1), np.ptp(data["phase"]))
