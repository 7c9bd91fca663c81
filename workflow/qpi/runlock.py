"""A Snakemake lock left behind by a killed run, recognised by that run's own record and cleared.

Snakemake locks the working directory (`.snakemake/locks`) for the length of a run; SIGKILL, an
out-of-memory kill or a power loss leaves the lock, and every later run stops at "Directory cannot
be locked" until the user runs `--unlock`. Each run of this workflow therefore records its process
id and host once it holds the lock (`record`, from `onstart`); at the next start a lock whose
recorded run is no longer alive on this host is removed (`clear_stale`). A lock whose owner is
alive, on another host, or unknown is left to Snakemake's own refusal, so two live runs still
never share a directory.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

RECORD = Path(".snakemake") / "qpi_run.json"
LOCKS = Path(".snakemake") / "locks"


def record(workdir: str | Path = ".") -> None:
    """Note that this process, on this host, holds the working directory's lock."""
    path = Path(workdir) / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clear_stale(workdir: str | Path = ".") -> str | None:
    """Remove the locks of a recorded run that has died on this host; a one-line note if it did."""
    locks = sorted((Path(workdir) / LOCKS).glob("*.lock"))
    try:
        owner = json.loads((Path(workdir) / RECORD).read_text())
    except (OSError, ValueError):
        return None
    pid = owner.get("pid")
    if not locks or not isinstance(pid, int) or pid <= 0 or owner.get("host") != socket.gethostname() or alive(pid):
        return None
    for lock in locks:
        lock.unlink(missing_ok=True)
    return (f"removed the lock of an earlier run (process {owner['pid']}, no longer alive: killed or crashed); "
            "its unfinished jobs rerun")
