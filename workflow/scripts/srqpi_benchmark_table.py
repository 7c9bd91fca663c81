"""DL-SRQPI benchmark: every method's metrics on the held-out fields (mean ± std), CSV and Markdown."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.report import tables
from qpi.scoring import scores
from qpi.training.curves import read_validation, still_improving

log = log_to(snakemake.log[0])
rows = pd.concat([pd.read_csv(f) for f in snakemake.input.scores], ignore_index=True)
per_image = srqpi.benchmark_view(rows)
table = tables.ranked(scores.summarise(per_image, ["reference", "condition", "method"]))
table = table.sort_values("reference", kind="stable")
notes = [
    "reference 'exact': the simulation's true phase; 'tie': the TIE phase of the full-resolution stack. "
    "Piston removed; SSIM/PSNR data range = the reference's range per image.",
    *scores.lpips_note(rows),
    *(f"{path}: validation loss still falling when training ended: under-trained for its data (raise "
      "srqpi.train.epochs or min_steps)" for path in snakemake.input.epochs if still_improving(read_validation(path))),
]
tables.write_table(per_image, snakemake.output.per_image)
tables.write_table(table, snakemake.output.table, snakemake.output.markdown, notes,
                   html_path=snakemake.output.html)
log.info("\n%s", table.to_string(index=False))
