"""One row per TIE label: the ε̃ its noise gave, its boundary uncertainty and whether it is poor; where the
simulation's exact phase exists, the label's true error beside it (how well the estimate does)."""

import numpy as np
import pandas as pd

from qpi import io
from qpi.core.logs import log_to
from qpi.report import tables
from qpi.scoring.metrics import inside, remove_piston

log = log_to(snakemake.log[0])
rows = [io.read_json(f) for f in snakemake.input.quality]
truths = dict(zip(snakemake.params.stacks, snakemake.params.truths))
for row, label in zip(rows, snakemake.input.labels):
    truth = truths.get(row["stack"])
    if truth:  # simulated: the label's error, piston removed, where the label is defined
        phase, exact = inside(io.read_image(label)[0], io.read_image(truth)[0])
        row["truth_rmse_rad"] = float(np.sqrt(np.mean((remove_piston(phase) - remove_piston(exact)) ** 2)))
table = pd.DataFrame(rows).drop(columns=["planes_um"])
poor = table.loc[table["poor"], "stack"].tolist()
notes = ["boundary_rad: RMS change of the label when the frame's boundary condition changes from no flux to zero "
         "phase (none inside a field stop, whose edge is measured); poor beyond 0.2 rad.",
         "eps: the TIE's regularisation ε̃, chosen from the planes' relative noise (noise) unless configured."]
if poor:
    notes.append(f"Poor labels (the frame's edge cuts through the specimen): {', '.join(poor)}.")
shown = table.assign(eps=table["eps"].map("{:.1e}".format))  # ε̃ in two figures: 3 decimals would show 0.000
tables.write_table(table, snakemake.output.table, notes=notes)
tables.write_html(shown, snakemake.output.html, notes)
text = shown.round(3).astype(str).replace("nan", "–").to_markdown(index=False, disable_numparse=True)
tables.write_markdown(text, snakemake.output.markdown, notes)
log.info("\n%s", table.to_string(index=False))
if poor:
    log.warning("poor TIE labels: %s; give whole fields, a field stop or measured phases", ", ".join(poor))
