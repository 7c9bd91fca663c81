"""Train one MCNN-family network (multi-scale heads, or the plain U-Net) on one input condition; on a
lab's stacks, fine-tune the network trained on simulated natural images (`init`)."""

import numpy as np

from qpi import io
from qpi.core.lease import gpu_lease
from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.families.mcnn.family import stacks_card
from qpi.training.checkpoints import read_model_file
from qpi.training.config import TrainConfig
from qpi.training.patches import load_dataset
from qpi.training.supervised import train_supervised

log = log_to(snakemake.log[0])
p, i = snakemake.params, snakemake.input
data = [load_dataset(path) for path in (i.train, i.val)]
z = np.asarray(p.planes_um if p.planes_um is not None else data[0]["z_um"])  # user data: the stacks' planes
train, val = (mcnn.network_pairs(d, z, p.amplitude) for d in data)
card = p.card
if "microscope" in i.keys():  # a lab's stacks: the card says their microscope and planes
    card = stacks_card(card, io.read_json(i.microscope), str(i.init) if "init" in i.keys() else None)
if "init" in i.keys():  # fine-tuning keeps the network, and its input scale, as trained on simulation
    start = read_model_file(i.init)
    name, kwargs, state = start["model"], start["kwargs"], start["state_dict"]
    log.info("fine-tuning %s on %d tiles of your stacks", i.init, len(train[0]))
else:
    kwargs = {"in_channels": len(z), "out_channels": 2 if p.amplitude else 1, "input_std": mcnn.input_std(train[0]),
              **p.arch}
    name, state = kwargs.pop("arch"), None
cfg = TrainConfig.from_dict({**p.train, "seed": int(snakemake.wildcards.seed), "device": p.device,
                             "threads": snakemake.threads})
with gpu_lease(p.device, log=log):
    summary = train_supervised(name, kwargs, train, val, cfg, p.workdir, card=card, init_state=state)
log.info("done: %s", summary)
