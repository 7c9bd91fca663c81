"""GPU leases: each concurrent GPU job on one machine gets a device of its own.

Snakemake's `--resources gpu=N` only counts running GPU jobs; it tells none of them which device
to use, so without a lease every job would run on GPU 0. A job enters `gpu_lease()` before torch
initialises CUDA: it takes an exclusive, non-blocking `flock` on `gpu<i>.lock` in a directory all
jobs share and restricts itself to that device through `CUDA_VISIBLE_DEVICES`. The kernel drops
the lock when the process ends, crashed or killed, so no lease outlives its job.

This module does not import torch: counting devices through CUDA would initialise it and fix the
visible devices before the lease could choose one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from qpi.core.paths import RESULTS

GPUS_ENV = "QPI_GPUS"  # overrides the device count (tests, machines without nvidia-smi)
LEASE_DIR_ENV = "QPI_LEASE_DIR"  # one directory per machine when several pipelines share its GPUs
DEFAULT_LEASE_DIR = f"{RESULTS}/.gpu_leases"


class LeaseError(RuntimeError):
    """No GPU became free in time (user-facing)."""


def gpu_count() -> int:
    """GPUs on this machine: `$QPI_GPUS` if set, else those `nvidia-smi -L` lists (0 without it)."""
    if os.environ.get(GPUS_ENV):
        return int(os.environ[GPUS_ENV])
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listing.stdout.splitlines())


def try_lease(lease_dir: Path, n: int) -> tuple[int, IO] | None:
    """Lock the first free `gpu<i>.lock`, i < n: (i, the open lock file), or None when all are held."""
    lease_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        lock = open(lease_dir / f"gpu{i}.lock", "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return i, lock
    return None


def wait_for_lease(
    lease_dir: Path, n: int, timeout_s: float, poll_s: float, log: logging.Logger
) -> tuple[int, IO]:
    """`try_lease` every `poll_s` seconds until one succeeds; `LeaseError` after `timeout_s` seconds."""
    deadline = time.monotonic() + timeout_s
    lease = try_lease(lease_dir, n)
    if lease is None:
        log.info("all %d GPUs are leased (%s): waiting up to %.0f s for one", n, lease_dir, timeout_s)
    while lease is None:
        if time.monotonic() >= deadline:
            raise LeaseError(
                f"all {n} GPUs stayed leased by other jobs for {timeout_s:.0f} s (lock files "
                f"{lease_dir}/gpu*.lock); run at most {n} GPU jobs at once (--resources gpu={n}) or wait for them"
            )
        time.sleep(poll_s)
        lease = try_lease(lease_dir, n)
    return lease


@contextlib.contextmanager
def gpu_lease(
    device: str = "auto",
    lease_dir: str | Path | None = None,
    log: logging.Logger | None = None,
    timeout_s: float = 3600.0,
    poll_s: float = 5.0,
) -> Iterator[str | None]:
    """Run the block on a GPU of its own; yield the `CUDA_VISIBLE_DEVICES` in effect (None: CPU).

    No lease is taken for `device="cpu"`, on a machine without GPUs (the job runs on the CPU), or
    when a scheduler (SLURM) already set `CUDA_VISIBLE_DEVICES`, which is honoured. Otherwise the
    first free of the machine's GPUs is leased from `lease_dir` (default `$QPI_LEASE_DIR`, else
    `results/.gpu_leases`), waiting up to `timeout_s` seconds, and released when the block ends.
    """
    log = log or logging.getLogger("qpi.core.lease")
    preset = os.environ.get("CUDA_VISIBLE_DEVICES")
    n = 0 if device == "cpu" or preset is not None else gpu_count()
    if n == 0:
        if preset is not None:
            log.info("CUDA_VISIBLE_DEVICES=%s set by the scheduler: no GPU lease taken", preset)
        elif device != "cpu":
            log.info("no GPU found (nvidia-smi lists none): running on the CPU")
        yield preset
        return
    directory = Path(lease_dir or os.environ.get(LEASE_DIR_ENV) or DEFAULT_LEASE_DIR)
    index, lock = wait_for_lease(directory, n, timeout_s, poll_s, log)
    # Distinct indices are distinct devices whatever CUDA's device order, which is all a lease needs.
    os.environ["CUDA_VISIBLE_DEVICES"] = str(index)
    log.info("leased GPU %d of %d (%s)", index, n, lock.name)
    try:
        yield str(index)
    finally:
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        lock.close()
