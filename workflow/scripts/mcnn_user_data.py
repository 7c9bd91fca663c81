"""The sheet's stacks as MCNN datasets: the microscope and input planes they share (what the simulated
training set is imaged with), and their tiles in train, val and test with the label and the same planes' TIE."""

import numpy as np

from qpi import io, tie
from qpi.core.logs import log_to
from qpi.families import mcnn
from qpi.families.mcnn import user
from qpi.training import tiles
from qpi.training.patches import save_dataset

log = log_to(snakemake.log[0])
p, i, out = snakemake.params, snakemake.input, snakemake.output
stacks = {name: io.read_stack(path) for name, path in zip(p.stacks, i.stacks)}
scope = user.microscope(stacks, p.coherence)
planes = user.input_planes({name: s.z_um for name, s in stacks.items()}, p.planes_um)
baseline = mcnn.tie_possible(planes)
log.info("microscope shared by %d stacks: %s; network planes z = %s µm; %s", len(stacks), scope, planes,
         "TIE of the same planes beside it" if baseline else "no TIE of these planes (not symmetric about focus)")
parts = {part: [] for part in user.SETS}
for index, ((name, stack), label_path) in enumerate(zip(stacks.items(), i.labels)):
    label = io.read_image(label_path)[0]
    same = tie.solve(user.substack(stack, planes), method=p.method, eps=p.eps) if baseline else None
    grid = tiles.tile_parts(p.split, name, (label.shape[0] // p.tile_px, label.shape[1] // p.tile_px))
    for part in parts:
        cut = user.field_tiles(stack, label, planes, same, grid, part, p.tile_px)
        cut["stack"] = np.full(len(cut["phase"]), index, np.float32)
        parts[part].append(cut)
    counts = "/".join(str(len(cuts[-1]["phase"])) for cuts in parts.values())
    log.info("%s: %s tiles of %d px in train/val/test", name, counts, p.tile_px)
for part, cuts in parts.items():
    data = {key: np.concatenate([c[key] for c in cuts]) for key in cuts[0]}
    if not len(data["phase"]):
        raise io.StackError(f"MCNN: no {p.tile_px}-pixel tile of your stacks lies wholly in the {part} split "
                            f"({p.split['why']}) inside the label; record more or larger fields, or lower "
                            "mcnn.field_px.")
    data["z_um"] = np.asarray(planes, np.float32)
    provenance = {"dataset": user.SETS[part], "stacks": list(stacks), "label": p.label, "how_split": p.split["why"],
                  "planes_um": planes, "tile_px": p.tile_px, "microscope": scope}
    save_dataset(getattr(out, part), data, provenance)
    log.info("%s: %d tiles", user.SETS[part], len(data["phase"]))
io.write_json(out.microscope, {"microscope": scope, "planes_um": planes, "stacks": list(stacks)})
