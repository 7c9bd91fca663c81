"""Mean SSIM, NRMSE and LPIPS of intensity and phase per model and scatter level (unseen diffusers)."""

import pandas as pd

from qpi.core.atomic import atomic_path
from qpi.core.logs import log_to
from qpi.families import despeckle
from qpi.report import tables
from qpi.scoring import scores

log = log_to(snakemake.log[0])
rows = pd.concat([pd.read_csv(path) for path in snakemake.input.scores], ignore_index=True)
per_image = despeckle.select(rows, [tuple(pair) for pair in snakemake.params.pairs])  # each level on itself
table = despeckle.correlation_table(per_image)
notes = ["phase: pistons removed; `_phase` against the TIE label, `_phase_exact` against the exact phase",
         *scores.lpips_note(per_image)]
tables.write_table(table, snakemake.output.table, snakemake.output.markdown, notes,
                   html_path=snakemake.output.html)
with atomic_path(snakemake.output.per_image) as tmp:
    per_image.to_csv(tmp, index=False)
log.info("\n%s", table[["model", "level", "ssim_intensity", "ssim_phase"]].to_string(index=False))
