"""Phase and amplitude quality against the number of input planes: network and multi-plane TIE."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.report import tables
from qpi.scoring import scores

log = log_to(snakemake.log[0])
per_image = mcnn.per_image_view(pd.concat([pd.read_csv(f) for f in snakemake.input.scores], ignore_index=True))
table = scores.summarise_values(per_image, ["test_set", "quantity", "metric", "method", "planes", "condition"])
table = table.sort_values(["test_set", "quantity", "metric", "method", "planes"], kind="stable")
notes = [
    "Mean ± std over the test specimens. Phase compared after removing the piston; TIE amplitude = √ of "
    "the mean of its symmetric planes. TIE cannot run on one plane (no row).",
]
tables.write_table(table, snakemake.output.table, snakemake.output.markdown, notes,
                   html_path=snakemake.output.html)
log.info("\n%s", table[table["metric"] == "ssim"].to_string(index=False))
