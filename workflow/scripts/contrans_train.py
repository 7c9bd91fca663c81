"""Train one ContransGAN-family CycleGAN: input tiles of one objective (A) ↔ HR phases (B), unpaired."""

from qpi import io
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import contrans
from qpi.families.contrans.family import user_card
from qpi.training.cycle_gan import CycleConfig, train_cycle
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
train_a, train_b = load_dataset(snakemake.input.train_a), load_dataset(snakemake.input.train_b)
domain_a = contrans.network_input(train_a[f"lr_{w.objective}"], p.hr_px)
card = p.card
if "grids" in snakemake.input.keys():  # a lab's files: the card says their objective and the label's grid
    card = user_card(card, io.read_json(snakemake.input.grids), w.objective)
kwargs = dict(p.arch)
cfg = CycleConfig.from_dict({**p.train, "seed": int(w.seed), "device": p.device, "threads": snakemake.threads})
with gpu_lease(p.device, log=log):
    summary = train_cycle(kwargs.pop("arch"), kwargs, domain_a, train_b[p.label], train_a["fov"], train_b["fov"],
                          cfg, p.workdir, card=card)
log.info("done: %s", summary)
