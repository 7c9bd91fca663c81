"""Simulate one raw through-focus stack of a random specimen with the virtual microscope."""

import numpy as np

from qpi import io
from qpi.logs import log_to
from qpi.optics.imaging import Camera, Microscope
from qpi.optics.phantoms import make_phantom
from qpi.optics.simulate import acquire

log = log_to(snakemake.log[0])
p = snakemake.params
rng = np.random.default_rng(p.seed)
scope = Microscope(**p.microscope)
n = p.field_px * scope.oversample
phase, amplitude = make_phantom(
    snakemake.wildcards.kind, (n, n), scope.sim_pixel_um, scope.wavelength_um, rng, **p.phantom
)
stack, truth_phase, truth_amplitude = acquire(
    phase, amplitude, np.array(p.z_um, float), scope, Camera(**p.camera), rng, workers=snakemake.threads
)
io.write_stack(snakemake.output.raw, stack, dtype="uint16")
io.write_image(snakemake.output.phase, truth_phase, pixel_um=scope.pixel_um, kind="exact phase (rad)")
io.write_image(snakemake.output.amplitude, truth_amplitude, pixel_um=scope.pixel_um, kind="exact amplitude")
log.info("%s: phase %.2f..%.2f rad, counts %d..%d", snakemake.wildcards.kind, truth_phase.min(),
         truth_phase.max(), stack.data.min(), stack.data.max())
