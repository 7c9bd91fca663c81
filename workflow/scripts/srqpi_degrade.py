"""DL-SRQPI inputs of every stack under one condition: the defocused LR plane, and two LR planes for TIE."""

import numpy as np

from qpi import io, srqpi
from qpi.logs import log_to

log = log_to(snakemake.log[0])
p = snakemake.params
for path, lr_path, pair_path, seed in zip(snakemake.input.stacks, snakemake.output.lr, snakemake.output.pair, p.seeds):
    stack = io.read_stack(path)
    lr, pair = srqpi.degrade_inputs(stack, p.defocus_um, p.pair_um, p.binning, p.noise_sigma,
                                    np.random.default_rng(seed))
    io.write_image(lr_path, lr, pixel_um=pair.pixel_um, defocus_um=p.defocus_um, binning=p.binning,
                   kind="mean-normalised LR intensity")
    io.write_stack(pair_path, pair, dtype="float32")
    log.info("%s: LR %s from z = %+.1f µm (S = %s); pair at %s µm", path, lr.shape, p.defocus_um, stack.coherence,
             p.pair_um)
