"""DL-SRQPI inputs of one stack: the defocused LR plane for networks, two LR planes for TIE."""

import dataclasses

import numpy as np

from qpi import io
from qpi.logs import log_to
from qpi.optics.binning import degrade

log = log_to(snakemake.log[0])
p = snakemake.params
stack = io.read_stack(snakemake.input.stack)
rng = np.random.default_rng(p.seed)
lr = degrade(stack.plane(p.defocus_um), p.binning, p.noise_sigma, rng)
pair = np.stack([degrade(stack.plane(z), p.binning, p.noise_sigma, rng) for z in p.pair_um])
lr_pixel = stack.pixel_um * p.binning
io.write_image(snakemake.output.lr, lr, pixel_um=lr_pixel, defocus_um=p.defocus_um, binning=p.binning,
               kind="mean-normalised LR intensity")
io.write_stack(snakemake.output.pair,
               dataclasses.replace(stack, data=pair, z_um=np.array(p.pair_um, float), pixel_um=lr_pixel),
               dtype="float32")
log.info("LR %s from z = %+.1f µm; pair at %s µm", lr.shape, p.defocus_um, p.pair_um)
