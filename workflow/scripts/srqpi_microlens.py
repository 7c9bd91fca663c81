"""The benchmark U-Net on a degraded microlens-array image: phase → height against the truth, beside LR TIE."""

import numpy as np

from qpi import io, tie
from qpi.core.atomic import atomic_path
from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.optics.binning import upsample
from qpi.report import tables
from qpi.training import evaluate
from qpi.training.checkpoints import load_model

log = log_to(snakemake.log[0])
p = snakemake.params
set_threads(snakemake.threads)
stack = io.read_stack(snakemake.input.stack)
truth = io.read_image(snakemake.input.truth)[0]
lr, pair, _ = srqpi.acquire(stack, p.defocus_um, p.pair_um, p.binning, p.noise_sigma,
                                   np.random.default_rng(p.seed))
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    model = load_model(snakemake.input.model, device=device)
    network = evaluate.tiled_predict(model, lr, p.binning, p.evaluate["tile_lr"], p.evaluate["overlap_lr"], device)
lr_tie = upsample(tie.solve(pair, p.tie_method, p.eps), p.binning)
phases = {"DL-SRQPI": network, f"TIE on the LR pair ({p.tie_method})": lr_tie}
table, heights = srqpi.microlens_heights(phases, truth, stack.wavelength_um, p.delta_n, p.pitch_um / stack.pixel_um)
tables.write_table(table, snakemake.output.table, snakemake.output.markdown,
                   [f"Δn {p.delta_n}, λ {stack.wavelength_um} µm; heights with piston matched to the truth; lens "
                    "height = peak-to-valley within a pitch-wide disc, mean over the lenses wholly in the field."])
with atomic_path(snakemake.output.maps) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, input=lr, pixel_um=stack.pixel_um, **heights)
log.info("\n%s", table.to_string(index=False))
