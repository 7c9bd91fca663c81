"""A sheet diffuser's speckle images of one split, and their targets cut alike from their fields' stacks:
in-focus intensity and phase label (TIE or measured), tiles inside the label only."""

import numpy as np

from qpi import io
from qpi.core.logs import log_to
from qpi.families.despeckle import user
from qpi.tie.solvers import in_focus
from qpi.training import tiles
from qpi.training.patches import save_dataset

log = log_to(snakemake.log[0])
p, w, i = snakemake.params, snakemake.wildcards, snakemake.input
# the label: the TIE or the measured phase; origin and row: where each tile lies (which row, which pixel)
parts = {key: [] for key in ("speckle", "intensity", p.label, "origin", "row")}
for index, (row, speckle_path, stack_path, label_path) in enumerate(zip(p.rows, i.speckle, i.stacks, i.labels)):
    stack = io.read_stack(stack_path)
    image, pixel = io.read_single_image(speckle_path, row["pixel_um"])
    if abs(pixel / stack.pixel_um - 1) > 0.02:
        raise io.StackError(f"{speckle_path}: pixels of {pixel:g} µm, but the stack of its field {row['field']} has "
                            f"{stack.pixel_um:g} µm; record both on the same camera (or fix pixel_um in the sheet).")
    intensity = in_focus(stack, list(range(len(stack.z_um))))
    grid = tiles.tile_parts(p.split, row["field"], (image.shape[0] // p.tile_px, image.shape[1] // p.tile_px))
    cut = user.cut(speckle_path, image, intensity, {p.label: io.read_image(label_path)[0]}, grid, w.split, p.tile_px)
    log.info("%s (field %s, diffuser %s): %d tiles of %d px in %s", row["name"], row["field"], row["diffuser"],
             len(cut["speckle"]), p.tile_px, w.split)
    cut["row"] = np.full(len(cut["speckle"]), index, np.float32)
    for key in parts:
        parts[key].append(cut[key])
data = {key: np.concatenate(v) for key, v in parts.items()}
if not len(data["speckle"]):
    raise io.StackError(f"DespeckleNet, diffuser {w.condition}: no {p.tile_px}-pixel tile of its fields lies wholly in "
                        f"the {w.split} split ({p.split['why']}); record more or larger fields, or lower "
                        "despeckle.field_px.")
provenance = {"condition": w.condition, "split": w.split, "rows": [r["name"] for r in p.rows], "tile_px": p.tile_px,
              "how_split": p.split["why"], "label": [str(x) for x in i.labels]}
save_dataset(snakemake.output.data, {"speckle": data.pop("speckle")}, provenance)
save_dataset(snakemake.output.specimens, data, provenance)
log.info("%s/%s: %d tiles; %s", w.condition, w.split, len(data["intensity"]), p.split["why"])
