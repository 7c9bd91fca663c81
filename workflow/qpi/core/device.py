"""Compute device, CPU threads and numeric precision for training and inference."""

from __future__ import annotations

import logging

import torch

log = logging.getLogger("qpi.core.device")

AMP_DTYPES: dict[str, torch.dtype | None] = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class DeviceError(RuntimeError):
    """A requested device is not usable on this machine (user-facing)."""


def select_device(requested: str = "auto") -> torch.device:
    """`"auto"` → CUDA when available, else CPU; an explicit `"cuda[:i]"` must exist."""
    if requested == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        log.info("device auto → %s", device)
        return device
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"device {requested!r} requested but CUDA is not available on this machine; "
            "set the device to 'auto' or 'cpu'"
        )
    log.info("device %s", device)
    return device


def set_threads(n: int | None) -> None:
    """Limit torch's intra-op CPU threads to `n` (the rule's `threads:`; None leaves the default) and
    flush denormal floats to zero: weights and activations decaying towards zero make denormals,
    which ran CPU training up to 10× slower (MCNN heads), for no difference in the results."""
    torch.set_flush_denormal(True)
    if n is None:
        return
    if n < 1:
        raise ValueError(f"thread count must be ≥ 1, got {n}")
    torch.set_num_threads(n)


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast precision of `amp` ("off", "bf16", "fp16") on `device`; None (float32) off CUDA."""
    amp = "off" if amp is False else amp  # YAML 1.1 reads a bare `off` as false
    if amp not in AMP_DTYPES:
        raise ValueError(f"unknown amp {amp!r}; available: {', '.join(AMP_DTYPES)}")
    return AMP_DTYPES[amp] if device.type == "cuda" else None


def autocast(device_type: str, dtype: torch.dtype | None) -> torch.autocast:
    """Autocast to `dtype` on `device_type`; a no-op context for None (float32)."""
    return torch.autocast(device_type, dtype=dtype, enabled=dtype is not None)


def grad_scaler(dtype: torch.dtype | None) -> torch.amp.GradScaler:
    """A CUDA loss scaler, enabled for float16 only: its narrow exponent range lets small gradients
    underflow to zero unless the loss is scaled up (bfloat16 has float32's range and needs none)."""
    return torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
