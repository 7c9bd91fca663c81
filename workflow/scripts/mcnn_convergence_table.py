"""Validation MAE (and SSIM, PSNR) against optimiser step of every MCNN convergence run."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.report import tables

log = log_to(snakemake.log[0])
runs = {}
for run, path in zip(snakemake.params.runs, snakemake.input.epochs):
    model, seed = run.rsplit("_s", 1)
    runs[model, int(seed)] = pd.read_csv(path)
table = mcnn.convergence_table(runs)
tables.write_table(table, snakemake.output.table, html_path=snakemake.output.html)
last = table.groupby(["model", "seed"]).tail(1)
log.info("final validation MAE per run:\n%s", last.to_string(index=False))
