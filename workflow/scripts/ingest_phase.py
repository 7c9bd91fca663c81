"""A user stack's measured phase (sheet: phase_path), checked against its stack's grid and stored as float32."""

import numpy as np

from qpi import io
from qpi.core.logs import log_to

log = log_to(snakemake.log[0])
stack = io.read_stack(snakemake.input.stack)
phase = io.read_measured_phase(snakemake.input.phase, stack)
io.write_image(snakemake.output.phase, phase, like=stack, kind="measured phase (rad)", source=str(snakemake.input.phase))
log.info("%s: %d×%d, %.3f..%.3f rad, %.0f%% measured", snakemake.input.phase, *phase.shape, np.nanmin(phase),
         np.nanmax(phase), 100 * np.isfinite(phase).mean())
