"""Table: the budget runs' headline test SSIM (config/budget.yaml), one row per family, model, budget and seed."""

from qpi.core.logs import log_to
from qpi.report import budget
from qpi.report.tables import write_table

log_to(snakemake.log[0])
write_table(budget.scores(snakemake.params.runs), snakemake.output.table)
