"""Our headline metrics per family and method beside the papers' (CSV and Markdown)."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.report import summary, tables

log = log_to(snakemake.log[0])
p = snakemake.params
tables_in = {name: pd.read_csv(path) for name, path in snakemake.input.items()}
table = summary.summary_table(summary.headlines(tables_in, p.headlines), p.scale, p.papers)
notes = [
    f"Configuration scale: {p.scale}. conditions_differ marks rows whose paper number comes from a different "
    "scale or kind of study (see difference); paper values are from REFERENCES.md.",
    "SSIM/PSNR with the reference's range per image, pistons removed; MAE and NRMSE of the phase (rad).",
    "seeds: trainings repeated with that many seeds; ssim_seed_std: std over the seeds' mean SSIM (0 with one "
    "seed; classical baselines count as one).",
]
tables.write_table(table, snakemake.output.table, snakemake.output.markdown, notes,
                   html_path=snakemake.output.html)
log.info("\n%s", table.to_string(index=False))
