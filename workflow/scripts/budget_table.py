"""Table: the budget runs' headline test SSIM (config/budget.yaml), one row per family, model, budget and seed."""

from qpi import budget
from qpi.logs import log_to
from qpi.tables import write_table

log_to(snakemake.log[0])
write_table(budget.scores(snakemake.params.runs), snakemake.output.table)
