"""One trained DespeckleNet-family network on a condition's test split (unseen diffusers)."""

from qpi import despeckle
from qpi.device import select_device, set_threads
from qpi.evaluate import predict_batches, save_results
from qpi.lease import gpu_lease
from qpi.logs import log_to
from qpi.metrics import Lpips
from qpi.patches import load_dataset
from qpi.train import load_model

log = log_to(snakemake.log[0])
p, w, i = snakemake.params, snakemake.wildcards, snakemake.input
set_threads(snakemake.threads)
specimens = load_dataset(i.specimens)
x, _ = despeckle.network_pairs(load_dataset(i.speckle)["speckle"], specimens, "exact")
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    model = load_model(i.model, device=device)
    prediction = predict_batches(model, x, device)
    if p.calibrate:  # an NPCC-trained network: scale and offset fitted on the validation split
        vx, vy = despeckle.network_pairs(load_dataset(i.val)["speckle"], load_dataset(i.val_specimens), p.label)
        fit = despeckle.affine_fit(predict_batches(model, vx, device), vy)
        prediction = despeckle.affine_apply(prediction, fit)
        log.info("affine calibration (scale, offset) per channel: %s", fit.round(3).tolist())
    lpips = Lpips(str(device))
rows = despeckle.score(prediction, specimens, lpips, model=w.model, seed=int(w.seed), train_condition=w.condition,
                       test_condition=w.test, level=w.test, train_sets=p.train_sets,
                       correlation_um=p.correlation_um)
save_results(rows, {"prediction": prediction}, snakemake.output.scores, snakemake.output.predictions)
log.info("%s_s%s trained on %s, tested on %s: %d scores; %s", w.model, w.seed, w.condition, w.test, len(rows),
         lpips.note)
