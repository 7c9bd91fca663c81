"""Figure: one test tile through ContransGAN and its baselines (first seed), line profiles, SSIM per model
(every seed's tiles)."""

import numpy as np
import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families import contrans
from qpi.families.contrans import figures
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p = snakemake.params
specimen, objective = p.runs[0][:2]
test = load_dataset(snakemake.input.test)
per_image = pd.read_csv(snakemake.input.per_image)
per_image = per_image[(per_image["specimen"] == specimen) & (per_image["train_objective"] == objective)
                      & (per_image["test_objective"] == objective)]
index, row = contrans.example_tile(test["tie"][:, 0])
images = {f"{objective} input": contrans.network_input(test[f"lr_{objective}"][index : index + 1], p.hr_px)[0, 0],
          "TIE label": test["tie"][index, 0], "exact phase": test["exact"][index, 0]}
for (_, _, model), path in zip(p.runs, snakemake.input.predictions):
    with np.load(path) as predictions:
        images[model] = predictions[objective][index, 0]
tile = per_image[(per_image["reference"] == "tie") & (per_image["image"] == index) & (per_image["seed"] == p.seed)]
scores = dict(zip(tile["model"], tile["ssim"]))
save(figures.compare(images, scores, row, per_image), snakemake.output.figure)
log.info("%s %s test tile %d, row %d: SSIM %s", specimen, objective, index, row, scores)
