"""Paired LR-intensity / HR-phase patches of the train and val fields of view (or blocks of each field)."""

import numpy as np

from qpi import io
from qpi.core.logs import log_to
from qpi.families.srqpi import plan
from qpi.training import patches

log = log_to(snakemake.log[0])
p, i = snakemake.params, snakemake.input
stops = dict(zip(p.stacks, i.tie)) if i.tie else {}  # by blocks: a field stop's TIE label tells the blocks
fields, split = {}, {}
for name, lr, label in zip(p.stacks, i.lr, i.label):
    if p.split["by"] == "blocks":
        region = plan.regions(p.split, name, io.read_image(stops[name])[0], p.binning)[0]
        split[name] = np.where(region == patches.SPLITS.index("test"), patches.NO_SPLIT, region)  # test stays whole
    elif p.split["fields"][name] == "test":
        continue
    else:
        split[name] = p.split["fields"][name]
    fields[name] = (io.read_image(lr)[0], io.read_image(label)[0])
if p.split["by"] == "blocks":  # one line: which split, and why
    log.info("split by blocks: %s; guard band %d LR px", p.split["why"], p.split["guard_lr"])
arrays, provenance = patches.paired_dataset(fields, split, p.binning, **p.patches)
blocks = p.split["by"] == "blocks"
for part in ("train", "val"):
    if not len(arrays[f"x_{part}"]):
        raise io.StackError(f"{', '.join(fields)}: no {part} patch of {p.patches['lr_size']} LR px with phase "
                            f"structure fits the {part} {'blocks' if blocks else 'fields'}; record larger or more "
                            f"fields, or lower srqpi.patches.lr_size{' (or srqpi.split.guard_lr)' if blocks else ''}.")
provenance.update(condition=snakemake.wildcards.condition, labels=dict(zip(p.stacks, i.label)), split_by=p.split["by"])
patches.save_dataset(snakemake.output.data, arrays, provenance)
for part, info in provenance["splits"].items():
    log.info("%s: %d patches from %d fields (%d empty dropped)", part, info["patches"], len(info["fields"]),
             info["dropped"])
