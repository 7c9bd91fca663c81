"""Train one DespeckleNet-family network (adversarially for the GAN generators) on one condition."""

from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import despeckle
from qpi.training.paired_gan import PairedConfig, train_paired
from qpi.training.patches import load_dataset

log = log_to(snakemake.log[0])
p, i = snakemake.params, snakemake.input
train, val = (despeckle.network_pairs(load_dataset(s)["speckle"], load_dataset(t), p.label, p.input_power)
              for s, t in ((i.train, i.train_specimens), (i.val, i.val_specimens)))
kwargs = dict(p.spec)
arch, adversarial, loss = kwargs.pop("arch"), kwargs.pop("adversarial", False), kwargs.pop("loss", "l1")
cfg = PairedConfig.from_dict({**p.train, "adversarial": adversarial, "loss": loss,
                              "seed": int(snakemake.wildcards.seed), "device": p.device, "threads": snakemake.threads})
with gpu_lease(p.device, log=log):
    summary = train_paired(arch, kwargs, train, val, cfg, p.workdir, card=p.card)
log.info("done: %s", summary)
