"""Every family's cross-condition scores in one tidy table."""

import pandas as pd

from qpi import families
from qpi.core.logs import log_to
from qpi.report import summary, tables

log = log_to(snakemake.log[0])
table = summary.cross_condition([families.get(name).cross_rows(pd.read_csv(path))
                                 for name, path in snakemake.input.items()])
tables.write_table(table, snakemake.output.table)
log.info("%d rows: %s", len(table), table.groupby(["family", "model"]).size().to_dict())
