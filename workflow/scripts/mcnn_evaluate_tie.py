"""Classical MCNN baseline: multi-plane TIE phase and √Ī amplitude on a condition's planes, every test set."""

from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.optics.imaging import Microscope
from qpi.training.evaluate import save_results
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
scope = Microscope(**p.scope)


def predict(data, z_um):
    if "tie" in data:  # a lab's stacks: the TIE of these planes solved on the whole field, cut as the label
        return data["tie"]
    return mcnn.tie_baseline(data, z_um, scope, p.method, p.eps)


sets = {name: load_dataset(path) for name, path in zip(p.test_sets, snakemake.input.tests)}
rows, predictions = mcnn.evaluate_sets(predict, sets, p.planes_um, p.reference, family="mcnn", model="tie", seed=0,
                                       train_condition=w.condition)
save_results(rows, predictions, snakemake.output.scores, snakemake.output.predictions)
log.info("TIE (%s) on planes %s µm: %d scores", p.method, p.planes_um, len(rows))
