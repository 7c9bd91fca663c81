"""The sheet's low-NA images and stack labels as ContransGAN data: domain A (each objective's low-NA
tiles of its training fields), domain B (the label tiles of the others), and test fields registered
onto their stacks' grid, cut into the same tiles as their labels."""

import numpy as np

from qpi import io
from qpi.core.logs import log_to
from qpi.families import contrans
from qpi.families.contrans import user
from qpi.optics.binning import bin_pixels
from qpi.tie.noise import plane_noise
from qpi.training.patches import save_dataset
from qpi.training.tiles import whole_tiles

log = log_to(snakemake.log[0])
p, i, out = snakemake.params, snakemake.input, snakemake.output
fields = {f: k for k, f in enumerate(sorted(p.parts))}  # fov ids: field index × 10⁴ + tile
stacks = {p.stacks[f]["field"]: (s, l) for f, s, l in zip(sorted(p.stacks), i.stacks, i.labels)}
hr_pixel = None
label_tiles = {}  # field: (HR label tiles, which hold a specimen, its stack, the crop to whole tiles)
for field, (stack_path, label_path) in sorted(stacks.items()):  # every stack's label on the HR grid, as tiles
    stack = io.read_stack(stack_path)
    pixel = stack.pixel_um * p.hr_binning
    if hr_pixel is not None and abs(pixel / hr_pixel - 1) > 0.02:
        raise io.StackError(f"{stack_path}: pixels of {stack.pixel_um:g} µm, but the other stacks' are "
                            f"{hr_pixel / p.hr_binning:g} µm; ContransGAN's label domain is one high-NA grid, so "
                            "list stacks of one objective and camera.")
    hr_pixel = pixel
    label = io.read_image(label_path)[0]
    side = p.hr_px * p.hr_binning  # an HR tile in stack pixels
    crop = np.s_[: label.shape[0] // side * side, : label.shape[1] // side * side]
    tiles = whole_tiles(bin_pixels(label[crop], p.hr_binning), p.hr_px)[:, None]
    keep = np.isfinite(tiles).all(axis=(1, 2, 3)) & (np.ptp(np.nan_to_num(tiles), axis=(1, 2, 3)) >= p.min_phase_rad)
    label_tiles[field] = (tiles, keep, stack, crop)
    log.info("%s: %d label tiles of %d HR px (%g µm), %d hold a specimen inside the label", field, len(tiles),
             p.hr_px, pixel, keep.sum())
domain_b = [(label_tiles[f][0][label_tiles[f][1]], fields[f] * 10_000 + np.flatnonzero(label_tiles[f][1]))
            for f, part in p.parts.items() if part == "b"]
label_key = p.label
save_dataset(out.train_b, {label_key: np.concatenate([t for t, _ in domain_b]),
                           "fov": np.concatenate([f for _, f in domain_b])},
             {"fields": [f for f, part in p.parts.items() if part == "b"], "label": p.label, "hr_pixel_um": hr_pixel})
grids = {"hr_pixel_um": hr_pixel, "hr_px": p.hr_px, "label": p.label, "objectives": {}}
for objective, names in p.objectives.items():
    train, test, registrations = {"lr": [], "fov": []}, {"lr": [], label_key: [], "fov": []}, {}
    for name, path in zip(names, getattr(i, f"lowres_{objective}")):
        row = p.rows[name]
        image, pixel = io.read_single_image(path, row["pixel_um"])
        image = image / float(image.mean())  # relative to the empty field's level, as the simulated inputs
        factor = contrans.ratio(pixel, hr_pixel / p.hr_binning, f"{path}: low-NA pixel over the stack's pixel")
        tile = contrans.ratio(p.hr_px * hr_pixel, pixel, f"{path}: an HR tile in low-NA pixels")
        grids["objectives"][objective] = {"pixel_um": pixel, "na": row["na"], "magnification": row["magnification"],
                                          "wavelength_um": row["wavelength_um"]}
        part = p.parts[row["field"]]
        if part == "a":  # the whole frame, but tiles that hold more than camera noise
            tiles = whole_tiles(image, tile)[:, None]
            keep = user.holds_specimen(tiles, plane_noise(image))
            train["lr"].append(tiles[keep])
            train["fov"].append(fields[row["field"]] * 10_000 + np.flatnonzero(keep))
            log.info("%s (%s, domain A): %d of %d tiles of %d px hold more than noise", name, objective, keep.sum(),
                     len(tiles), tile)
        elif part == "test":
            tiles_b, keep, stack, crop = label_tiles[row["field"]]
            crop_lr, found = user.register(image, factor, stack.data[(slice(None), *crop)], path, row["field"])
            registrations[name] = found
            log.info("%s registered onto %s: %s", name, row["field"], found)
            tiles_a = whole_tiles(crop_lr, tile)[:, None]
            test["lr"].append(tiles_a[keep])
            test[label_key].append(tiles_b[keep])
            test["fov"].append(fields[row["field"]] * 10_000 + np.flatnonzero(keep))
    provenance = {"objective": objective, "rows": names, "parts": p.parts, "registrations": registrations,
                  "fov": "index of the field in `fields` × 10⁴ + its tile, row-major on the HR grid",
                  "fields": list(fields), "hr_pixel_um": hr_pixel}
    for data, path in ((train, getattr(out, f"train_a_{objective}")), (test, getattr(out, f"test_{objective}"))):
        if not data["lr"] or not sum(len(x) for x in data["lr"]):
            which = "training (domain A)" if data is train else "test"
            raise io.StackError(f"ContransGAN, objective {objective}: no {which} field gives a tile; give its low-NA "
                                "rows more fields (the sheet's field and split columns).")
        arrays = {f"lr_{objective}" if k == "lr" else k: np.concatenate(v) for k, v in data.items()}
        save_dataset(path, arrays, provenance)
        log.info("%s %s: %d tiles", objective, "train_a" if data is train else "test", len(arrays["fov"]))
io.write_json(out.grids, grids)
