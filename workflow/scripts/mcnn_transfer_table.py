"""Cross-condition table: networks trained on natural images (and TIE) on held-out pictures, cells, spheres."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.report import tables

log = log_to(snakemake.log[0])
per_image = pd.concat([pd.read_csv(f) for f in snakemake.input.scores], ignore_index=True)
table = mcnn.transfer_table(per_image, "mcnn", snakemake.params.train_condition)
wide = mcnn.seed_summary(table)
note = "Mean over test specimens, then mean ± std over training seeds (TIE is deterministic)."
tables.write_table(table, snakemake.output.table)
tables.write_html(wide, snakemake.output.html, [note, "Every metric, per seed: mcnn_transfer.csv."])
tables.write_markdown(wide.to_markdown(index=False, floatfmt=".3f"), snakemake.output.markdown, [note])
log.info("\n%s", wide.to_string(index=False))
