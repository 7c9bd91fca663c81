"""Ground-truth phase of one corrected stack by the TIE (NaN outside a field stop), background at 0."""

import numpy as np

from qpi import io, tie
from qpi.core.logs import log_to

log = log_to(snakemake.log[0])
p = snakemake.params
stack = io.read_stack(snakemake.input.stack)
planes = p.planes_um or [float(z) for z in stack.z_um]  # none given: every plane
phase = tie.remove_background(tie.solve(stack, method=p.method, eps=p.eps, planes=planes))
method, note = tie.describe(phase, p.method)
io.write_image(snakemake.output.phase, phase, pixel_um=stack.pixel_um, kind=f"TIE phase ({method}, rad)",
               planes_um=planes, **note)
log.info("%s TIE over z = %s µm: phase %.3f..%.3f rad; %s", method, planes, np.nanmin(phase), np.nanmax(phase),
         note.get("outside_aperture", "no field stop"))
