"""Validate one raw stack (one file, or one file per plane) and store it as float32 sorted by z."""

from qpi import io
from qpi.core.logs import log_to

log = log_to(snakemake.log[0])
stack = io.read_stack(list(snakemake.input.raw), **snakemake.params.overrides)
io.write_stack(snakemake.output.stack, stack, dtype="float32")
log.info("%d planes at z = %s µm, pixel %.4f µm", len(stack.z_um), [float(z) for z in stack.z_um], stack.pixel_um)
