"""Train one DL-SRQPI network (U-Net or SRCNN) on the patch dataset of one condition."""

from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.training import patches
from qpi.training.config import TrainConfig
from qpi.training.supervised import train_supervised

log = log_to(snakemake.log[0])
p = snakemake.params
data = patches.load_dataset(snakemake.input.data)
arch = dict(p.arch)
cfg = TrainConfig.from_dict({**p.train, "seed": int(snakemake.wildcards.seed), "device": p.device,
                             "threads": snakemake.threads})
with gpu_lease(p.device, log=log):
    summary = train_supervised(
        arch.pop("arch"), {"upscale": p.upscale, **arch},
        (data["x_train"], data["y_train"]), (data["x_val"], data["y_val"]), cfg, p.workdir, card=p.card,
    )
log.info("done: %s", summary)
