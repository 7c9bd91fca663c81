"""Both DL-SRQPI sweeps in the tidy cross-condition columns (one model per sweep)."""

import pandas as pd

from qpi import srqpi, tables
from qpi.logs import log_to

log = log_to(snakemake.log[0])
model = snakemake.params.model
table = pd.concat([srqpi.cross_tidy(pd.read_csv(snakemake.input[sweep]), "srqpi", f"{model}-{sweep}")
                   for sweep in ("defocus", "coherence")], ignore_index=True)
tables.write_table(table, snakemake.output.table)
log.info("%d rows", len(table))
