"""Validate one raw stack and store it as float32 sorted by z; user errors end in one clear line."""

from qpi import io
from qpi.logs import log_to, user_errors

log = log_to(snakemake.log[0])
with user_errors(log):
    stack = io.read_stack(snakemake.input.raw, **snakemake.params.overrides)
    io.write_stack(snakemake.output.stack, stack, dtype="float32")
log.info("%d planes at z = %s µm, pixel %.4f µm", len(stack.z_um), list(stack.z_um), stack.pixel_um)
