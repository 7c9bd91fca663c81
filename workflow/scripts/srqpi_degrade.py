"""DL-SRQPI inputs of every stack under one condition: the defocused LR plane, and the LR planes for TIE."""

import numpy as np

from qpi import io
from qpi.core.logs import log_to
from qpi.families import srqpi

log = log_to(snakemake.log[0])
p = snakemake.params
for path, lr_path, pair_path, input_um, pair_um, seed in zip(
    snakemake.input.stacks, snakemake.output.lr, snakemake.output.pair, p.input_um, p.pair_um, p.seeds
):
    stack = io.read_stack(path)
    lr, pair, plane = srqpi.acquire(stack, p.defocus_um, pair_um, p.binning, p.noise_sigma,
                                           np.random.default_rng(seed), input_um=input_um)
    io.write_image(lr_path, lr, pixel_um=pair.pixel_um, defocus_um=plane, binning=p.binning,
                   kind="mean-normalised LR intensity")
    io.write_stack(pair_path, pair, dtype="float32")
    log.info("%s: LR %s from z = %+.2f µm (S = %s); TIE planes at %s µm", path, lr.shape, plane, stack.coherence,
             [float(z) for z in pair.z_um])
