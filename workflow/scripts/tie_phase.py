"""Ground-truth phase of one corrected stack by the TIE (NaN outside a field stop), background at 0, and
what its own data say of it (ε̃, noise, boundary uncertainty): logged, a warning when poor."""

import numpy as np

from qpi import io, tie
from qpi.core.logs import log_to
from qpi.tie.quality import POOR_RAD, label_quality

log = log_to(snakemake.log[0])
p = snakemake.params
stack = io.read_stack(snakemake.input.stack)
planes = p.planes_um or [float(z) for z in stack.z_um]  # none given: every plane
stop = tie.aperture(stack, planes)  # found once: for ε̃'s noise, the solve and the label's quality
eps = tie.regularisation(stack, p.eps, planes, stop)
phase = tie.remove_background(tie.solve(stack, method=p.method, eps=eps, planes=planes, mask=stop))
method, note = tie.describe(phase, p.method)
quality = {"stack": snakemake.wildcards.stack, "method": method, "planes_um": planes,
           **label_quality(stack, phase, p.method, eps, planes, stop)}
log.info("%s TIE over z = %s µm, ε̃ = %.1e (%s; planes' noise %.2f%% of the mean): phase %.3f..%.3f rad; %s",
         method, planes, eps, "from the noise" if p.eps == "auto" else "as configured", 100 * quality["noise"],
         np.nanmin(phase), np.nanmax(phase), note.get("outside_aperture", "no field stop"))
if quality["boundary_rad"] is None:
    log.info("label boundary: inside the field stop, whose edge is measured; no boundary condition assumed")
else:
    log.info("label boundary uncertainty: %.3f rad RMS (%.0f%% of the label's range)", quality["boundary_rad"],
             100 * quality["boundary_fraction"])
if quality["poor"]:
    log.warning("%s: the TIE label moves by %.2f rad RMS when the frame's boundary condition changes (more than "
                "%.2f rad): the frame's edge cuts through the specimen, so the label's long-range phase is not "
                "known. Give the whole recorded field (not crops), or a field stop, or a measured phase (phase_path).",
                snakemake.wildcards.stack, quality["boundary_rad"], POOR_RAD)
io.write_image(snakemake.output.phase, phase, pixel_um=stack.pixel_um, kind=f"TIE phase ({method}, rad)",
               planes_um=planes, eps=eps, **note)
io.write_json(snakemake.output.quality, quality)
