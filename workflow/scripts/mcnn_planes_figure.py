"""Figure: test specimens through every plane count and method, and quality against plane count."""

import numpy as np
import pandas as pd

from qpi.core.figures import save
from qpi.core.logs import log_to
from qpi.families.mcnn import figures
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p = snakemake.params
tests = {name: load_dataset(path) for name, path in zip(p.test_sets, snakemake.input.tests)}
first_plane = min((z for planes in p.planes_um.values() for z in planes if z > 0), default=None)
examples = {}
for name, data in tests.items():
    plane = int(np.argmin(np.abs(data["z_um"] - first_plane)))
    examples[name] = {f"input z = {data['z_um'][plane]:+g} µm": data["planes"][0, plane],
                      "true phase": data["phase"][0, 0]}
for (condition, run), path in zip(p.runs, snakemake.input.predictions):
    with np.load(path) as predictions:
        for name in tests:
            count = len(p.planes_um[condition])
            label = f"{run.split('_s')[0]} · {count} plane{'s' if count > 1 else ''}"
            examples[name][label] = predictions[name][0, 0]
figure = figures.planes(pd.read_csv(snakemake.input.table), examples)
save(figure, snakemake.output.figure)
log.info("examples: first specimen of %s", ", ".join(tests))
