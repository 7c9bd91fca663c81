"""Brightness correction of one stack: flat field and/or DL-SRQPI's rescale to the global mean."""

from qpi import io, tie
from qpi.core.logs import log_to

log = log_to(snakemake.log[0])
stack = io.read_stack(snakemake.input.stack)
before = stack.data.mean(axis=(1, 2))
stack.data = tie.brightness_correct(
    stack.data, mode=snakemake.params.mode, flatfield_sigma_px=snakemake.params.flatfield_sigma_px
)
io.write_stack(snakemake.output.stack, stack, dtype="float32")
log.info("plane means %s → %s", before.round(1), stack.data.mean(axis=(1, 2)).round(3))
