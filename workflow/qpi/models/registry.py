"""Model registry: name → constructor, so configs and checkpoints refer to models by name.

Every registered model records its resolved constructor arguments in `model.config` and its
registry name in `model.registry_name`, so `build(model.registry_name, **model.config)` rebuilds
the same architecture (this is what checkpoints store). It imports none of the models: each model
file registers itself when `qpi.models.build` first imports it.
"""

from __future__ import annotations

import functools
import inspect

from torch import nn

_REGISTRY: dict[str, type[nn.Module]] = {}


def register(name: str):
    """Class decorator: register an `nn.Module` under `name` and make it record its config."""

    def decorate(cls: type[nn.Module]) -> type[nn.Module]:
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise TypeError(f"register({name!r}) expects an nn.Module subclass, got {cls!r}")
        previous = _REGISTRY.get(name)
        # Re-importing a module (reload) registers an equal class again; anything else is a clash.
        if previous is not None and _qualname(previous) != _qualname(cls):
            raise ValueError(f"model name {name!r} is already registered to {_qualname(previous)}")
        init = cls.__init__
        signature = inspect.signature(init)

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            init(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            # Set after init so a registered subclass overrides what its registered parent recorded.
            self.config = dict(list(bound.arguments.items())[1:])
            self.registry_name = name

        cls.__init__ = __init__
        _REGISTRY[name] = cls
        return cls

    return decorate


def lookup(name: str) -> type[nn.Module] | None:
    """The class registered as `name`, or None."""
    return _REGISTRY.get(name)


def registered() -> list[str]:
    """Names registered so far (`qpi.models.available()` adds the built-ins not yet imported)."""
    return sorted(_REGISTRY)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
