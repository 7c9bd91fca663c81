"""One trained generator on every objective's test tiles: per-image scores and predicted phases."""

from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import contrans
from qpi.training.checkpoints import load_model
from qpi.training.evaluate import predict_batches, save_results
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
set_threads(snakemake.threads)
test = load_dataset(snakemake.input.test)
rows, predictions = [], {}
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    model = load_model(snakemake.input.model, device=device)
    for objective in p.objectives:
        prediction = predict_batches(model, contrans.network_input(test[f"lr_{objective}"], p.hr_px), device)
        predictions[objective] = prediction
        rows += contrans.score(prediction, test, family="contrans", model=w.model, seed=int(w.seed),
                               train_condition=w.objective, test_condition=objective, specimen=w.specimen)
save_results(rows, predictions, snakemake.output.scores, snakemake.output.predictions)
label = next(r for r in contrans.REFERENCES if r in test)  # what the tiles' phase label is
ssim = {o: round(contrans.tile_mean(rows, "ssim", o, label), 3) for o in p.objectives}
log.info("%s_s%s trained on %s %s: mean SSIM (%s label) by test objective %s", w.model, w.seed, w.specimen,
         w.objective, label, ssim)
r = contrans.tile_mean(rows, "pearson", w.objective, label)
if r < 0:
    log.warning("%s_s%s: its phase correlates negatively with the phase label (r %.2f): the generator learnt the "
                "inverted phase, which an in-focus intensity cannot tell apart (benchmarks/swin_sign.py)", w.model,
                w.seed, r)
