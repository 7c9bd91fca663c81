"""Every network trained on one condition's data, each loaded once and scored on every test split."""

from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import despeckle
from qpi.scoring.metrics import Lpips
from qpi.training.checkpoints import load_model
from qpi.training.evaluate import predict_batches, save_results
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, w, i = snakemake.params, snakemake.wildcards, snakemake.input
set_threads(snakemake.threads)
specimens = {t: load_dataset(path) for t, path in zip(p.tests, i.specimens)}  # one file, or one per diffuser
tests = {t: despeckle.network_input(load_dataset(path)["speckle"], p.input_power) for t, path in zip(p.tests, i.speckle)}
rows, predictions = [], {}
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    lpips = Lpips(str(device))
    for model_name, path, calibrate in zip(p.models, i.models, p.calibrate):
        model = load_model(path, device=device)
        fit = None
        if calibrate:  # an NPCC-trained network: scale and offset fitted on the validation split
            vx, vy = despeckle.network_pairs(load_dataset(i.val)["speckle"], load_dataset(i.val_specimens), p.label,
                                             p.input_power)
            fit = despeckle.affine_fit(predict_batches(model, vx, device), vy)
            log.info("%s affine calibration (scale, offset) per channel: %s", model_name, fit.round(3).tolist())
        for test, correlation_um in zip(p.tests, p.correlation_um):
            prediction = predict_batches(model, tests[test], device)
            if fit is not None:
                prediction = despeckle.affine_apply(prediction, fit)
            predictions[despeckle.prediction_key(model_name, test)] = prediction
            rows += despeckle.score(prediction, specimens[test], lpips, family="despeckle", model=model_name,
                                    seed=int(w.seed), train_condition=w.condition, test_condition=test, level=test,
                                    train_sets=p.train_sets, correlation_um=correlation_um)
        log.info("%s_s%s trained on %s: scored on %s", model_name, w.seed, w.condition, ", ".join(p.tests))
save_results(rows, predictions, snakemake.output.scores, snakemake.output.predictions)
log.info("%d scores; %s", len(rows), lpips.note)
