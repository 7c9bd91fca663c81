"""Table: per family, how well its trust signs track the real error on held-out simulated images."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.report import tables
from qpi.trust import calibration

log = log_to(snakemake.log[0])
rows = []
for path in snakemake.input.images:
    images = pd.read_csv(path)
    own = str(images["own_condition"].iloc[0])
    images["test_condition"] = images["test_condition"].astype(str)
    rows.append({"family": images["family"].iloc[0], "model": images["model"].iloc[0],
                 "networks": int(images["networks"].iloc[0]),
                 **calibration.summarise(images.to_dict("records"), own)})
table = pd.DataFrame(rows)
notes = [
    "Held-out simulated images of each family's test conditions; the networks of one model (its seeds) on their "
    "own condition (own_condition) and the others (tests), each input under the 8 flips and quarter turns.",
    "pixel_spearman: Spearman ρ(σ, |error|) over an image's pixels, median over images; image_spearman_*: ρ over "
    "images of the mean σ / the consistency residual against the image's RMSE; within_2_sigma: share of pixels "
    "with |error| ≤ 2σ (0.95 if σ were right); ood_auroc: the OOD score telling own-condition images from the "
    "others'. Errors against the exact phase, pistons removed.",
    "DespeckleNet has no forward model (the diffuser is unknown): no consistency number.",
]
tables.write_table(table, snakemake.output.table, notes=notes, html_path=snakemake.output.html)
log.info("\n%s", table.to_string(index=False))
