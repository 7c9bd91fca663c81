"""Model files and training checkpoints.

A model file is {"model", "kwargs", "state_dict", "meta"}: the registered name and constructor
arguments rebuild the network (`load_model`) without the code that trained it. A checkpoint adds
everything a run needs to continue exactly: the optimisers', schedulers' and other networks'
states, the RNG states, the progress counters, the training settings and the run's log and
best-model files as they were when it was written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from qpi import models
from qpi.core.atomic import atomic_path
from qpi.training.config import TrainConfig

log = logging.getLogger("qpi.training.checkpoints")

# Settings a resumed run may change without changing a number it writes: where and on how many
# threads it runs, how often it checkpoints, and where it stops (`max_steps`); `min_steps`, whose effect
# is in the epochs and schedule it sets (compared). `epochs` too, where the lr schedule does not spread
# over the run (`spans_run`): a longer run then continues a shorter one.
RESUMABLE_CHANGES = {"max_steps", "checkpoint_every", "device", "threads", "pin_memory", "min_steps"}


def rng_state() -> dict:
    """The global RNG states of python, numpy and torch, as plain checkpointable values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (kind, keys.tolist(), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what `rng_state` captured."""
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_model(path: str | Path, model: nn.Module, meta: dict | None = None) -> None:
    """Write a registered model as {"model", "kwargs", "state_dict", "meta"} (atomically)."""
    payload = {
        "model": model.registry_name,
        "kwargs": model.config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": meta or {},
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)  # through a Python file: a full disk is an OSError (errno), not RuntimeError


def load_model(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model written by `save_model` (or a training checkpoint), in eval mode on `device`."""
    return model_from(read_model_file(path), device)


def read_model_file(path: str | Path) -> dict:
    """What `save_model` wrote at `path`, or one sentence (ValueError) saying why the file is not that."""
    try:
        return _payload(Path(path), {"model", "kwargs", "state_dict"})
    except ValueError as err:
        raise ValueError(f"{path}: not a deep-qpi model file ({err})") from err


def model_from(payload: dict, device: str | torch.device = "cpu") -> nn.Module:
    """The network of a model file's contents (`read_model_file`), in eval mode on `device`."""
    model = models.build(payload["model"], **payload["kwargs"])
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval()


def code_version() -> str:
    """deep-qpi's version, with the git commit of this checkout when there is one (`+g<sha>`, `.dirty`)."""
    import subprocess

    from qpi import __version__

    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(here), "describe", "--always", "--dirty=.dirty", "--abbrev=10",
                              "--exclude", "*"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+g{sha}" if sha else __version__


def complete_card(card: dict | None, cfg: TrainConfig, data: str, inputs: np.ndarray | None = None) -> dict:
    """A run's model card (`qpi.report.cards.for_run`) with what only the trainer knows: the seed, the digest
    of the training data, the training settings, the code version and a summary of the training inputs
    (`qpi.trust.ood.summarise`), which `qpi predict` compares new inputs with."""
    from qpi.trust.ood import summarise

    training = {"data_digest": data, "settings": dataclasses.asdict(cfg)}
    if inputs is not None and np.ndim(inputs) == 4:
        training["inputs"] = summarise(inputs, cfg.seed)
    return {**(card or {}), "seed": cfg.seed, "code": code_version(), "training": training}


def _payload(path: Path, keys: set[str]) -> dict:
    """The dict torch saved at `path`, holding `keys`; else ValueError saying in a few words why not
    (torch raises RuntimeError, EOFError, UnpicklingError, ... by how a file broke)."""
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; torch.load's own message misleads here
        raise ValueError("not the zip archive torch.save writes: another kind of file, or cut short")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"torch.load: {reason}") from err
    if not isinstance(payload, dict) or not keys <= payload.keys():
        raise ValueError(f"a {type(payload).__name__} without {', '.join(sorted(keys))}")
    return payload


def read_card(path: str | Path) -> dict:
    """The model card of model file `path` with its architecture and weight count, or one sentence
    (ValueError) for a file that is no model or was written before model cards existed."""
    return card_from(read_model_file(path), path)


def card_from(payload: dict, path: str | Path) -> dict:
    """The model card in a model file's contents (`read_model_file`) read from `path`."""
    card = (payload.get("meta") or {}).get("card")
    if not card:
        raise ValueError(f"{path}: was saved without a model card (by deep-qpi before cards); it still loads in "
                         f"the pipeline, and re-running its training job writes one")
    weights = sum(t.numel() for t in payload["state_dict"].values())
    best = {k: v for k, v in payload["meta"].items() if k not in ("card", "train_config")}
    return {**card, "arch": payload["model"], "kwargs": payload["kwargs"], "weights": weights, "saved_at": best}


def data_digest(*arrays: np.ndarray) -> str:
    """A short content hash of the training data: a checkpoint only resumes on the same data."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(str((a.shape, a.dtype)).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def read_checkpoint(path: Path) -> dict | None:
    """The checkpoint at `path`; None, with one log line, when it cannot be read (a node crash during a
    copy, a full disk, a bad transfer): it is moved aside to `<name>.corrupt` so no re-run trips on it."""
    try:
        return _payload(path, {"model", "kwargs", "progress", "state_dict"})
    except ValueError as err:
        aside = path.with_name(path.name + ".corrupt")
        path.replace(aside)
        log.warning("%s cannot be read as a training checkpoint (%s): moved aside to %s; training starts afresh",
                    path, err, aside.name)
        return None


def resumable(path: Path, model: nn.Module, stateful: dict[str, Any], data: str, cfg: TrainConfig) -> dict | None:
    """The checkpoint at `path` when it continues this very run, else None and training starts afresh:
    a re-run after a change of model, data or training settings (Snakemake re-runs a job whose params
    changed) must not continue, or return, the stale run, nor trip on weights of another shape (a
    discriminator's layout, networks rebuilt by a newer deep-qpi)."""
    payload = read_checkpoint(path) if path.exists() else None
    if payload is None:
        return None
    why = stale(payload, model, stateful, data, cfg)
    if why:
        log.warning("%s was written for %s: starting afresh", path, why)
        return None
    return payload


def stale(payload: dict, model: nn.Module, stateful: dict[str, Any], data: str, cfg: TrainConfig) -> str:
    """What keeps checkpoint `payload` from continuing a run of `model` on `data` with settings `cfg`
    ('' when nothing does)."""
    if (payload["model"], payload["kwargs"]) != (model.registry_name, model.config):
        return "another model"
    if payload["progress"].get("data") != data:
        return "other data"
    changed = changed_settings(payload.get("train_config", {}), cfg)
    if changed:
        return f"other training settings ({', '.join(changed)})"
    progress = payload["progress"]
    if progress["epoch"] > cfg.epochs or (cfg.max_steps is not None and progress["step"] > cfg.max_steps):
        return "a longer run"
    states = {"model": payload["state_dict"], **payload.get("states", {})}
    modules = {"model": model, **{k: v for k, v in stateful.items() if isinstance(v, nn.Module)}}
    if any(k not in states or _shapes(states[k]) != _shapes(m.state_dict()) for k, m in modules.items()):
        return "networks of another shape"
    return ""


def changed_settings(saved: dict, cfg: TrainConfig) -> list[str]:
    """The settings in `cfg` that differ from a checkpoint's `saved` ones and change what the run writes."""
    now = dataclasses.asdict(cfg)
    changed = {k for k, v in now.items() if saved.get(k) != v} - RESUMABLE_CHANGES
    if not spans_run(now["lr_schedule"]):
        changed.discard("epochs")
    return sorted(changed)


def spans_run(schedule: dict | None) -> bool:
    """Whether an lr schedule (`qpi.training.optim.make_scheduler`) is spread over the run's epochs, so
    that a run of other length follows other rates from its first epoch."""
    name = (schedule or {}).get("name")
    return name == "linear" or (name == "cosine" and "epochs" not in schedule)


def _shapes(state: dict) -> dict:
    return {k: tuple(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)}


def save_checkpoint(
    path: Path, model: nn.Module, stateful: dict[str, Any], progress: dict, cfg: TrainConfig,
    files: Iterable[Path] = (),
) -> None:
    """Everything needed to continue exactly: the main model (loadable by `load_model`), every
    other object with a state_dict in `stateful` (optimisers, schedulers, discriminators; None
    skipped), the RNG states, the progress counters, the training settings, and the contents of
    the run's `files` beside `path` (logs, best model) that exist, which `load_checkpoint` puts back."""
    payload = {
        "model": model.registry_name,
        "kwargs": model.config,
        "state_dict": model.state_dict(),
        "states": {name: obj.state_dict() for name, obj in stateful.items() if obj is not None},
        "rng": rng_state(),
        "progress": progress,
        "train_config": dataclasses.asdict(cfg),
        "files": {f.name: f.read_bytes() for f in map(Path, files) if f.exists()},
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)  # through a Python file: a full disk is an OSError (errno), not RuntimeError


def load_checkpoint(path: Path, payload: dict, model: nn.Module, stateful: dict[str, Any]) -> dict:
    """Restore a checkpoint `payload` that `resumable` read from `path` into `model`, `stateful`, the
    RNGs and the run's files beside `path`; return the progress.

    The files are rewritten as they were at the checkpoint: Snakemake deletes the outputs of a
    failed job, and whatever a killed run wrote after its last checkpoint is redone on resume.
    """
    model.load_state_dict(payload["state_dict"])
    for name, obj in stateful.items():
        if obj is not None and name in payload["states"]:  # absent: fp16's loss scaler of a run resumed on a GPU
            obj.load_state_dict(payload["states"][name])
    set_rng_state(payload["rng"])
    for name, content in payload.get("files", {}).items():
        with atomic_path(path.parent / name) as tmp:
            tmp.write_bytes(content)
    return payload["progress"]
