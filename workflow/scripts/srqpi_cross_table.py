"""Every DL-SRQPI sweep network on every sweep test condition, in the tidy cross-condition columns."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.report import tables
from qpi.scoring import scores

log = log_to(snakemake.log[0])
rows = scores.wide(pd.concat(map(pd.read_csv, snakemake.input.scores), ignore_index=True))
per_image = rows[rows["reference"] == scores.phase_reference(rows)]
table = srqpi.cross_tidy(per_image, "srqpi", snakemake.params.model)
tables.write_table(table, snakemake.output.table)
log.info("%d rows", len(table))
