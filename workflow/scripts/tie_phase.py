"""Ground-truth phase of one corrected stack by the transport-of-intensity equation."""

from qpi import io, tie
from qpi.logs import log_to

log = log_to(snakemake.log[0])
p = snakemake.params
stack = io.read_stack(snakemake.input.stack)
phase = tie.remove_background(tie.solve(stack, method=p.method, eps=p.eps, planes=p.planes_um))
io.write_image(snakemake.output.phase, phase, pixel_um=stack.pixel_um, kind=f"TIE phase ({p.method}, rad)")
log.info("phase range %.3f..%.3f rad", phase.min(), phase.max())
