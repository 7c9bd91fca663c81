"""The adaptive training set: each patch location once, its input from one member condition at random."""

from qpi.core.logs import log_to
from qpi.families import srqpi
from qpi.training import patches

log = log_to(snakemake.log[0])
p = snakemake.params
arrays, provenance = srqpi.adaptive_dataset([patches.load_dataset(f) for f in snakemake.input.data], p.seed)
provenance.update(condition=snakemake.wildcards.condition, conditions=p.members)
patches.save_dataset(snakemake.output.data, arrays, provenance)
log.info("%s from %s: %s patches", snakemake.wildcards.condition, p.members, provenance["patches"])
