"""Simulate one raw through-focus stack of a random specimen with the virtual microscope."""

from qpi import io
from qpi.core.logs import log_to
from qpi.optics.imaging import Camera, Microscope
from qpi.optics.simulate import simulate_field

log = log_to(snakemake.log[0])
p = snakemake.params
scope = Microscope(**p.microscope)
stack, truth_phase, truth_amplitude = simulate_field(
    snakemake.wildcards.kind, p.seed, p.z_um, scope, Camera(**p.camera), p.field_px, p.phantom,
    workers=snakemake.threads,
)
io.write_stack(snakemake.output.raw, stack, dtype=stack.data.dtype.name)  # the camera's bit depth
io.write_image(snakemake.output.phase, truth_phase, pixel_um=scope.pixel_um, kind="exact phase (rad)")
io.write_image(snakemake.output.amplitude, truth_amplitude, pixel_um=scope.pixel_um, kind="exact amplitude")
log.info("%s: phase %.2f..%.2f rad, counts %d..%d", snakemake.wildcards.kind, truth_phase.min(),
         truth_phase.max(), stack.data.min(), stack.data.max())
