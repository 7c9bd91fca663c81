"""Ground-truth phase of one corrected stack by the TIE (NaN outside a field stop), background at 0."""

import numpy as np

from qpi import io, tie
from qpi.logs import log_to

log = log_to(snakemake.log[0])
p = snakemake.params
stack = io.read_stack(snakemake.input.stack)
phase = tie.remove_background(tie.solve(stack, method=p.method, eps=p.eps, planes=p.planes_um))
inside = np.isfinite(phase)
method = tie.resolve_method(p.method, None if inside.all() else inside)
note = {} if inside.all() else {"outside_aperture": "NaN (outside the field stop)"}
io.write_image(snakemake.output.phase, phase, pixel_um=stack.pixel_um, kind=f"TIE phase ({method}, rad)",
               planes_um=p.planes_um or [float(z) for z in stack.z_um], **note)
log.info("%s TIE over z = %s µm: phase %.3f..%.3f rad%s", method, p.planes_um or [float(z) for z in stack.z_um],
         np.nanmin(phase), np.nanmax(phase), "" if inside.all() else f", field stop {inside.mean():.0%} of the frame")
