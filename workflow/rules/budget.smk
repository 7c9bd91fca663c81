# Budget curves (config/budget.yaml): test SSIM of each family's proposed method and strongest baseline
# at k× the demo's training. Without `budget`, the figure is drawn from the recorded run (benchmarks/).
from pathlib import Path

from qpi.report import budget

BUDGET_RUNS = budget.runs(config)
BUDGET_RECORD = str(Path(workflow.basedir) / "benchmarks" / "budget.csv")  # the recorded run
BUDGET_SOURCE = paths.table("fidelity_budget") if BUDGET_RUNS else BUDGET_RECORD

if BUDGET_RUNS or (SIMULATE and Path(BUDGET_RECORD).exists()):
    TARGETS += [paths.figure("fidelity_budget")]


rule budget_table:
    """One row per budget run: its family's headline test SSIM."""
    input:
        scores=sorted({f for run in BUDGET_RUNS for f in run["files"]}),
    output:
        table=paths.table("fidelity_budget"),
    params:
        runs=BUDGET_RUNS,
    log:
        paths.log("tables/fidelity_budget"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/budget_table.py"


rule budget_figure:
    """Test SSIM against training budget per family, mean ± std over seeds."""
    input:
        table=BUDGET_SOURCE,
    output:
        figure=report(paths.figure("fidelity_budget"), caption="../report/fidelity_budget.rst", category="Summary"),
    params:
        paper=lambda w: [[f, m, v] for (f, m), v in budget.paper_ssim(config).items()],
    log:
        paths.log("figures/fidelity_budget"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/budget_figure.py"
