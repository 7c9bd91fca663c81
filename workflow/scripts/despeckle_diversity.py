"""Per-image SSIM (and LPIPS) against the number of training acquisition sets at equal patch count."""

import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families import despeckle
from qpi.families.despeckle import figures

log = log_to(snakemake.log[0])
scores = pd.concat([pd.read_csv(path) for path in snakemake.input.scores], ignore_index=True)
per_image = despeckle.select(scores, [tuple(pair) for pair in snakemake.params.pairs], snakemake.params.models)
save(figures.diversity(per_image), snakemake.output.figure)
means = per_image[per_image["metric"] == "ssim"].groupby(["model", "train_sets", "quantity", "reference"])["value"]
log.info("mean SSIM:\n%s", means.mean().to_string())
