"""Parameter counts of our networks at the paper's size beside the authors' code.

    python benchmarks/parity.py          # writes benchmarks/parity.json

Our networks are built from config/paper.yaml over config/config.yaml (the models and
discriminators the paper-scale run trains); the authors' counts are those of their public code at
its published settings (../shared/REFERENCES.md, "The authors' code"). tests/test_parity.py pins
ours within 2 % of theirs wherever the layout is theirs, and lists the networks still pending.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from snakemake.utils import update_config  # noqa: E402

from qpi import models  # noqa: E402

# network → (the authors' count or None when their code has no such network, input size, note)
OFFICIAL = {
    "despeckle_despecklenet": (61_502_786, "512x512", "hitsh95/DespeckleNet ComplexUnet, ngf 64"),
    "despeckle_twin": (None, "512x512", "the paper's real-valued twin; not in the public code"),
    "despeckle_discriminator": (2_764_737, "512x512", "NLayerDiscriminator, 64 filters, 3 layers, InstanceNorm"),
    "mcnn_mcnn": (19_736_518, "512x512", "fengwang/MCNN, two input planes, amplitude + phase out"),
    "contrans_contrans": (90_232_145, "224x224", "DingHao714/The-ContransGAN, without its unused attention layer"),
    "contrans_discriminator": (6_208_417, "224x224", "1→96→192→384→768→1, InstanceNorm, averaged to one score"),
}


def paper_config() -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load((ROOT / "config" / "paper.yaml").read_text()))
    return config


def count(arch: str, kwargs: dict) -> int:
    return sum(p.numel() for p in models.build(arch, **kwargs).parameters())


def build_spec(spec: dict, **fixed) -> tuple[str, dict]:
    """A model entry of the config → (arch, constructor keys), training-only keys dropped."""
    kwargs = {k: v for k, v in spec.items() if k not in ("arch", "adversarial", "loss", "train")}
    return spec["arch"], {**kwargs, **fixed}


def ours(config: dict) -> dict[str, int]:
    """Our parameter count of every network in OFFICIAL, at the paper config."""
    d, m, c = config["despeckle"], config["mcnn"], config["contrans"]
    disc = lambda spec, **fixed: count(*build_spec({"arch": "patchgan", **spec}, **fixed))  # noqa: E731
    return {
        "despeckle_despecklenet": count(*build_spec(d["models"]["despecklenet"])),
        "despeckle_twin": count(*build_spec(d["models"]["twin"])),
        "despeckle_discriminator": disc(d["train"]["discriminator"], in_channels=3),
        "mcnn_mcnn": count(*build_spec(m["models"]["mcnn"], in_channels=2, out_channels=2)),
        "contrans_contrans": count(*build_spec(c["models"]["contrans"])),
        "contrans_discriminator": disc(c["train"]["discriminator"], in_channels=1),
    }


def table() -> dict[str, dict]:
    counted = ours(paper_config())
    return {name: {"ours": counted[name], "official": official, "input": size, "official_source": note}
            for name, (official, size, note) in OFFICIAL.items()}


if __name__ == "__main__":
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps(table(), indent=1) + "\n")
    print(out.read_text())
