"""Speckle images of one split through fresh diffusers, one per acquisition set."""

from qpi.core.logs import log_to
from qpi.core.seeds import dataset_seed
from qpi.families import despeckle
from qpi.optics import speckle
from qpi.optics.imaging import Microscope
from qpi.training import patches

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
seed = dataset_seed(p.seed, f"{w.condition}/{w.split}")
specimens = patches.load_dataset(snakemake.input.specimens)
images = despeckle.acquire(specimens, p.sets, Microscope(**p.scope), p.diffuser, p.illumination, p.photons, seed,
                           p.defocus_um)
patches.save_dataset(snakemake.output.data, {"speckle": images},
                     {"condition": w.condition, "split": w.split, "sets": p.sets, "diffuser": p.diffuser,
                      "illumination": p.illumination, "photons": p.photons, "defocus_um": p.defocus_um, "seed": seed})
log.info("%s/%s: %d images in %d sets, speckle contrast %.2f", w.condition, w.split, len(images), p.sets,
         speckle.contrast(images))
