"""Specimens imaged again through a condition's own microscope, brightness-corrected as ingest + correct do."""

from qpi import io, tie
from qpi.core.logs import log_to
from qpi.optics.imaging import Camera, Microscope
from qpi.optics.simulate import simulate_field

log = log_to(snakemake.log[0])
p, out = snakemake.params, snakemake.output
scope = Microscope(**p.microscope)
for kind, seed, phantom, stack_path, phase_path in zip(p.kinds, p.seeds, p.phantoms, out.stacks, out.phases):
    stack, truth_phase, _ = simulate_field(kind, seed, p.z_um, scope, Camera(**p.camera), p.field_px, phantom,
                                           workers=snakemake.threads)
    stack.data = tie.brightness_correct(stack.data, p.correction["mode"], p.correction["flatfield_sigma_px"])
    io.write_stack(stack_path, stack, dtype="float32")
    io.write_image(phase_path, truth_phase, pixel_um=scope.pixel_um, kind="exact phase (rad)")
    log.info("%s at S = %.2f, planes %s µm: phase %.2f..%.2f rad", stack_path, scope.coherence,
             [float(z) for z in stack.z_um], truth_phase.min(), truth_phase.max())
