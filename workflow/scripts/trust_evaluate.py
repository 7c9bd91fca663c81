"""A family's trust signs on held-out simulated images of its test conditions, against the exact phase."""

import numpy as np
import pandas as pd

from qpi import families
from qpi.core.atomic import atomic_path
from qpi.core.device import select_device, set_threads
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.training.checkpoints import load_model, read_card
from qpi.training.evaluate import tiled_predict
from qpi.trust import calibration

log = log_to(snakemake.log[0])
p = snakemake.params
set_threads(snakemake.threads)
family = families.get(p.family)
card = read_card(snakemake.input.models[0])
spec, factor = card["inputs"], int(card["outputs"].get("upscale", 1))
with gpu_lease(p.device, log=log):
    device = select_device(p.device)
    nets = [load_model(path, device=device) for path in snakemake.input.models]
    predictors = [lambda x, m=m: tiled_predict(m, x, factor, spec["tile_px"], spec["overlap_px"], device) for m in nets]
    files = {key: snakemake.input.get(key, []) for key in ("lr", "sets", "specimens")}
    cases = family.trust_cases(card, files, {"tests": p.tests, **p.cases})
    rows, maps = calibration.evaluate(predictors, card, family, cases, log)
own = ", ".join(p.own) if isinstance(p.own, list) else p.own
table = pd.DataFrame(rows).assign(family=p.family, model=card["model"], own_condition=own, networks=len(nets))
with atomic_path(snakemake.output.images) as tmp:
    table.to_csv(tmp, index=False)
with atomic_path(snakemake.output.maps) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, **maps)
summary = calibration.summarise(rows, own)
log.info("%s %s × %d networks × 8 transforms on %d images: %s", p.family, card["model"], len(nets), len(rows),
         {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()})
