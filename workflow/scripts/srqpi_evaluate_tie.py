"""Classical DL-SRQPI baseline: TIE on the two-plane LR input, upsampled to the HR grid, scored."""

from qpi import io, tie
from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.families.srqpi import plan
from qpi.optics.binning import upsample
from qpi.training import evaluate

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards


def predict(stack):
    return upsample(tie.solve(stack, method=w.method, eps=p.eps), p.binning)


inputs = {name: io.read_stack(path, require_focus=False) for name, path in zip(p.stacks, snakemake.input.pair)}
references = dict(zip(p.stacks, srqpi.references(snakemake.input.tie, p.truth, p.measured)))
rows, predictions = srqpi.evaluate_fields(
    predict, inputs, references, log, plan.scored_windows(p.split, references, p.binning), family="srqpi",
    model=f"tie-{w.method}", seed=0, train_condition="none", test_condition=w.condition,
)
evaluate.save_results(rows, predictions, snakemake.output.scores, snakemake.output.predictions)
