"""One part of one ContransGAN specimen: slides through every objective, cut into HR fields of view."""


from qpi.core.logs import log_to
from qpi.core.seeds import dataset_seed
from qpi.families import contrans
from qpi.optics.imaging import Microscope
from qpi.training.patches import save_dataset

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
objectives, label = p.scopes
objectives = {name: Microscope(**scope) for name, scope in objectives.items()}
seed = dataset_seed(p.seed, f"{w.specimen}/{w.part}")
data = contrans.acquire(w.part, p.slides, p.specimen, objectives, Microscope(**label), p.dz_um, p.tiles, p.hr_px,
                             p.hr_binning, p.photons, p.tie["method"], p.tie["eps"], seed, p.min_phase_rad)
provenance = {"specimen": w.specimen, "part": w.part, "slides": p.slides, "tiles": len(data["fov"]),
              "spec": p.specimen, "objectives": p.scopes[0], "label": p.scopes[1], "dz_um": p.dz_um, "seed": seed}
save_dataset(snakemake.output.data, data, provenance)
log.info("%s/%s: %d tiles from %d slides; arrays %s", w.specimen, w.part, len(data["fov"]), p.slides,
         {k: v.shape for k, v in data.items()})
if "tie" in data:
    log.info("TIE label range %.2f..%.2f rad, exact %.2f..%.2f rad", data["tie"].min(), data["tie"].max(),
             data["exact"].min(), data["exact"].max())
