"""Full-field tiled inference of one trained network on the held-out fields, scored per image."""

from qpi import io
from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.families.srqpi import plan
from qpi.training import evaluate
from qpi.training.checkpoints import load_model

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
set_threads(snakemake.threads)
tile, overlap = p.evaluate["tile_lr"], p.evaluate["overlap_lr"]
inputs = {name: io.read_image(path)[0] for name, path in zip(p.stacks, snakemake.input.lr)}
references = dict(zip(p.stacks, srqpi.references(snakemake.input.tie, p.truth, p.measured)))
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    model = load_model(snakemake.input.model, device=device)
    factor = int(model.config["upscale"])
    rows, predictions = srqpi.evaluate_fields(
        lambda lr: evaluate.tiled_predict(model, lr, factor, tile, overlap, device), inputs, references, log,
        plan.scored_windows(p.split, references, factor), family="srqpi", model=w.model, seed=int(w.seed),
        train_condition=w.condition, test_condition=w.condition,
    )
evaluate.save_results(rows, predictions, snakemake.output.scores, snakemake.output.predictions)
