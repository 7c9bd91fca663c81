"""Our headline metrics per family and method beside the papers' (CSV and Markdown)."""

import pandas as pd

from qpi.report import summary, tables
from qpi.core.logs import log_to

log = log_to(snakemake.log[0])
i, p = snakemake.input, snakemake.params
ours = [
    summary.srqpi_headlines(pd.read_csv(i.srqpi)),
    summary.mcnn_headlines(pd.read_csv(i.mcnn), p.mcnn_test_set),
    summary.despeckle_headlines(pd.read_csv(i.despeckle), pd.read_csv(i.despeckle_per_image)),
    summary.contrans_headlines(pd.read_csv(i.contrans), *p.contrans_setting),
]
table = summary.summary_table(ours, p.scale, tuple(p.contrans_setting))
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
