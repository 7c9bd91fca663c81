"""Every family's cross-condition scores in one tidy table."""

import pandas as pd

from qpi.families import contrans
from qpi.report import summary, tables
from qpi.core.logs import log_to

log = log_to(snakemake.log[0])
i = snakemake.input
table = summary.cross_condition([
    pd.read_csv(i.srqpi),
    pd.read_csv(i.mcnn),
    pd.read_csv(i.despeckle),
    contrans.cross_condition(pd.read_csv(i.contrans)),
])
tables.write_table(table, snakemake.output.table)
log.info("%d rows: %s", len(table), table.groupby(["family", "model"]).size().to_dict())
