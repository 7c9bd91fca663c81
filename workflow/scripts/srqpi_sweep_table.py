"""One sweep's scores: per image (tidy) and mean ± std per training × test condition, CSV and Markdown."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.report import tables
from qpi.scoring import scores

log = log_to(snakemake.log[0])
rows = scores.wide(pd.concat(map(pd.read_csv, snakemake.input.scores), ignore_index=True))
per_image = srqpi.sweep_per_image(rows[rows["test_condition"].isin(snakemake.params.tests)],
                                  snakemake.params.values)
table = srqpi.sweep_summary(per_image)
notes = [f"{srqpi.AXES[snakemake.wildcards.sweep][1]} of the train and test conditions (train_value NaN: a network "
         "trained on all of them); SSIM over held-out fields, piston removed, against the "
         f"{per_image['reference'].iloc[0]} phase."]
tables.write_table(per_image, snakemake.output.per_image)
tables.write_table(table, snakemake.output.table, snakemake.output.markdown, notes)
log.info("\n%s", table.pivot_table(index="train_condition", columns="test_condition", values="ssim", sort=False))
