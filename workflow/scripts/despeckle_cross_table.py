"""Every network on every test split (train condition × test condition): the tidy cross-condition table."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import despeckle
from qpi.report import tables

log = log_to(snakemake.log[0])
per_image = pd.concat([pd.read_csv(path) for path in snakemake.input.scores], ignore_index=True)
table = despeckle.cross_table(per_image)
tables.write_table(table, snakemake.output.table, snakemake.output.markdown,
                   html_path=snakemake.output.html)
ssim = table[table["metric"].isin(["ssim_intensity", "ssim_phase_exact"])]
log.info("\n%s", ssim.pivot_table(index=["model", "train_condition"], columns=["metric", "test_condition"],
                                  values="value").round(3).to_string())
