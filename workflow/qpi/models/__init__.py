"""The networks of the four families, by name: `build(name, **kwargs)`, `available()`.

Each built-in name is listed here with the module that defines it, so `available()` imports no
torch: every `snakemake` call checks the config's networks with it while planning, and importing
torch was 2.5 s of a 5.7 s dry run. `build` imports a network's module on first use; the module
registers its classes (`qpi.models.registry`), and a test pins this table to what they register.
The shared blocks are in `qpi.models.layers`, the losses in `qpi.training.losses`.
"""

import importlib
import sys

BUILTIN = {  # name → its module in qpi.models
    "srqpi_unet": "srqpi", "srcnn": "srqpi",
    "mcnn": "mcnn",
    "despecklenet": "despeckle", "despeckle_twin": "despeckle", "patchgan": "despeckle", "idiffnet": "despeckle",
    "contrans": "contrans", "contrans_unet": "contrans", "contrans_swin": "contrans",
}


def available() -> list[str]:
    """Built-in and registered model names, sorted; imports no network."""
    registry = sys.modules.get("qpi.models.registry")  # loaded once anything has registered
    return sorted(set(BUILTIN) | set(registry.registered() if registry else ()))


def build(name: str, **kwargs):
    """Construct the model registered as `name` with constructor arguments `kwargs`."""
    if name in BUILTIN:
        importlib.import_module(f"qpi.models.{BUILTIN[name]}")
    from qpi.models import registry

    cls = registry.lookup(name)
    if cls is None:
        raise ValueError(f"unknown model {name!r}; available models: {', '.join(available())}")
    return cls(**kwargs)


def register(name: str):
    """Class decorator registering an `nn.Module` under `name` (`qpi.models.registry.register`)."""
    from qpi.models.registry import register as register_class

    return register_class(name)
