"""Table 1 (SSIM/PSNR by input objective, beside the paper's), the cross-objective matrix, per-image scores."""

import pandas as pd

from qpi.core.logs import log_to
from qpi.families import contrans
from qpi.report import tables

log = log_to(snakemake.log[0])
per_image = contrans.per_image_view(pd.concat([pd.read_csv(f) for f in snakemake.input.scores], ignore_index=True))
label = snakemake.params.label  # the TIE label, or a lab's measured phase
table = contrans.objectives_table(per_image, label=label)
tables.write_table(table, snakemake.output.table)
tables.write_table(per_image, snakemake.output.per_image)
tables.write_table(contrans.cross_table(per_image, label=label), snakemake.output.cross)
notes = [
    "Ours: ContransGAN trained and tested on the same input objective; mean ± std over test tiles against the "
    "TIE label (as the paper), pistons removed, R = the label's range per tile. Paper: Table 1 of ContransGAN "
    "(Cells 2022, 11, 2394; HeLa: 'Hela cells', microspheres: 'PSMs').",
    "SSIM vs exact: the same predictions against the simulation's exact phase (the paper could not score this).",
    "r: correlation with the TIE label; inverted seeds: runs whose r is negative. An in-focus intensity is the same "
    "for a phase and its negative, so an unpaired generator can learn the inverted phase "
    "(benchmarks/README.md, 'The phase's sign in the CycleGANs').",
    "Scale: see config `contrans` (the CPU demo trains a few hundred steps on a few dozen small tiles; the paper "
    "3500 unpaired images per domain for 80 epochs).",
]
markdown = contrans.objectives_markdown(table)
tables.write_markdown(markdown, snakemake.output.markdown, notes)
tables.write_html(contrans.objectives_wide(table), snakemake.output.html, notes)
log.info("\n%s", markdown)
