"""One trained MCNN-family network on every test set: per-image phase (and amplitude) scores."""

from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.training.checkpoints import load_model
from qpi.training.evaluate import save_results
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
set_threads(snakemake.threads)
sets = {name: load_dataset(path) for name, path in zip(p.test_sets, snakemake.input.tests)}
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    model = load_model(snakemake.input.model, device=device)
    rows, predictions = mcnn.evaluate_sets(
        lambda data, z_um: mcnn.predict(model, mcnn.network_pairs(data, z_um, p.amplitude)[0], device),
        sets, p.planes_um, p.reference, family="mcnn", model=w.model, seed=int(w.seed), train_condition=w.condition,
    )
save_results(rows, predictions, snakemake.output.scores, snakemake.output.predictions)
log.info("%s_s%s on %s: %d scores", w.model, w.seed, ", ".join(sets), len(rows))
