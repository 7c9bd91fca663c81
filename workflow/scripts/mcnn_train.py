"""Train one MCNN-family network (multi-scale heads, or the plain U-Net) on one input condition."""

import numpy as np

from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.training.config import TrainConfig
from qpi.training.patches import load_dataset
from qpi.training.supervised import train_supervised

log = log_to(snakemake.log[0])
p = snakemake.params
z = np.asarray(p.planes_um)
train, val = (mcnn.network_pairs(load_dataset(path), z, p.amplitude) for path in (snakemake.input.train,
                                                                                    snakemake.input.val))
arch = dict(p.arch)
kwargs = {"in_channels": len(z), "out_channels": 2 if p.amplitude else 1, "input_std": mcnn.input_std(train[0]), **arch}
cfg = TrainConfig.from_dict({**p.train, "seed": int(snakemake.wildcards.seed), "device": p.device,
                             "threads": snakemake.threads})
with gpu_lease(p.device, log=log):
    summary = train_supervised(kwargs.pop("arch"), kwargs, train, val, cfg, p.workdir, card=p.card)
log.info("done: %s", summary)
