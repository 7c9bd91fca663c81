"""Paired LR-intensity / HR-phase patches of the train and val fields of view."""

from qpi import io
from qpi.core.logs import log_to
from qpi.training import patches

log = log_to(snakemake.log[0])
p = snakemake.params
fields = {
    name: (io.read_image(lr)[0], io.read_image(label)[0])
    for name, lr, label in zip(p.stacks, snakemake.input.lr, snakemake.input.label)
    if p.split[name] != "test"
}
arrays, provenance = patches.paired_dataset(fields, p.split, p.binning, **p.patches)
provenance.update(condition=snakemake.wildcards.condition, labels=dict(zip(p.stacks, snakemake.input.label)))
patches.save_dataset(snakemake.output.data, arrays, provenance)
for part, info in provenance["splits"].items():
    log.info("%s: %d patches from %d fields (%d empty dropped)", part, info["patches"], len(info["fields"]),
             info["dropped"])
