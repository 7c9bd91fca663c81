"""CPU seconds per output megapixel of each family's proposed network, at the demo's and the paper's
width, as `qpi predict` runs it (`evaluate.tiled_predict`: large tiles for a network whose output
ignores the tile, training-size tiles for one with instance norm; the card's overlap), and tiled
inference against one forward pass over the same field.

Speed only: the networks have their initial weights (the time does not depend on them). Demo
networks on a 1024² output field; paper networks on one training tile (their size makes more
minutes of CPU). Two torch threads (the test machine's cores).

Run: .venv/bin/python benchmarks/inference.py  → prints and writes benchmarks/inference.json
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from parity import build_spec, paper_config  # noqa: E402
from timing import best_of  # noqa: E402

from qpi import models  # noqa: E402
from qpi.training.evaluate import default_overlap, follows_the_tile, tiled_predict  # noqa: E402

FIELD_OUT = 1024  # output pixels across the demo networks' field


def networks(config: dict) -> dict[str, tuple]:
    """family → (arch, kwargs, input channels, tile and overlap on the input grid, output/input scale),
    tiles and overlaps as the model cards give them (`qpi.report.cards`)."""
    s, m, d, c = (config[k] for k in ("srqpi", "mcnn", "despeckle", "contrans"))
    arch, kw = build_spec(s["models"]["unet"], upscale=s["binning"])
    planes = len(m["conditions"][m["convergence"]["condition"]]["z"])
    out = {"srqpi_unet": (arch, kw, 1, s["evaluate"]["tile_lr"], s["evaluate"]["overlap_lr"], s["binning"]),
           "mcnn_mcnn": (*build_spec(m["models"]["mcnn"], in_channels=planes, out_channels=2), planes,
                         m["field_px"], default_overlap(m["field_px"]), 1),
           "despeckle_despecklenet": (*build_spec(d["models"]["despecklenet"]), 1, d["field_px"],
                                      default_overlap(d["field_px"]), 1),
           "contrans_contrans": (*build_spec(c["models"]["contrans"]), 1, c["hr_px"], default_overlap(c["hr_px"]), 1)}
    return out


def measure(arch: str, kwargs: dict, channels: int, tile: int, overlap: int, scale: int, side: int) -> dict:
    """Timings of one network on a field of `side` input pixels (one tile: the tiled pass only)."""
    torch.manual_seed(0)
    model = models.build(arch, **kwargs).eval()
    x = np.random.default_rng(0).random((channels, side, side), dtype=np.float32)
    tiled = best_of(lambda: tiled_predict(model, x, scale, tile, overlap), repeats=1 if side == tile else 3,
                    warm_up=True)
    mpx = (side * scale) ** 2 / 1e6
    row = {"arch": arch, "weights": sum(p.numel() for p in model.parameters()), "tile": tile, "overlap": overlap,
           "output": f"{side * scale}x{side * scale}", "tiled_s_per_mpx": round(tiled / mpx, 3),
           "tiles_follow_training_size": follows_the_tile(model)}
    if side > tile:
        with torch.inference_mode():
            whole = best_of(lambda: model(torch.from_numpy(x)[None]), repeats=3, warm_up=True)
        row.update(whole_s_per_mpx=round(whole / mpx, 3), tiled_over_whole=round(tiled / whole, 2))
    return row


def main() -> dict:
    torch.set_num_threads(2)
    demo = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    result = {"demo": {k: measure(*v, side=FIELD_OUT // v[-1]) for k, v in networks(demo).items()}}
    print(json.dumps(result, indent=1), flush=True)
    result["paper"] = {k: measure(*v, side=v[3]) for k, v in networks(paper_config()).items()}
    result["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, 2 torch threads"
    print(json.dumps(result, indent=1))
    Path(__file__).with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
