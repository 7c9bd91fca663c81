"""Snakemake locks left behind by a killed run, recognised by that run's own record and cleared.

Snakemake locks the files a run reads and writes (`.snakemake/locks/<i>.input.lock`, `<i>.output.lock`)
for the length of the run; SIGKILL, an out-of-memory kill or a power loss leaves them, and every later
run over those files stops at "Directory cannot be locked" until the user runs `--unlock`. Each run of
this workflow therefore notes the lock files there before it locks (`held_locks`, when the Snakefile
is read) and, once it holds its lock, records which of them are its own with its process id and host
(`record`, from `onstart`, in `.snakemake/qpi_runs/`, each with its inode and mtime, as Snakemake reuses
lock file names); a run that ends removes its record (`forget`).
At the next start the locks of every recorded run that is no longer alive on this host are removed
(`clear_stale`). Locks of a live run (two runs on disjoint targets may share a directory), of a run on
another host, or of a run without a record are left to Snakemake's own refusal.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

RUNS = Path(".snakemake") / "qpi_runs"
LOCKS = Path(".snakemake") / "locks"


def held_locks(workdir: str | Path = ".") -> set[str]:
    """The names of the lock files in the working directory now (read before this run locks: others')."""
    return {p.name for p in (Path(workdir) / LOCKS).glob("*.lock")}


def _identity(lock: Path) -> list[int] | None:
    """What tells this lock file from a later one of the same name (Snakemake reuses the numbers)."""
    try:
        st = lock.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_mtime_ns]


def _record_path(workdir: str | Path, pid: int) -> Path:
    return Path(workdir) / RUNS / f"{socket.gethostname()}-{pid}.json"


def record(before: set[str], workdir: str | Path = ".") -> None:
    """Note that this process, on this host, holds the lock files that appeared since `before`."""
    path = _record_path(workdir, os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = {name: _identity(Path(workdir) / LOCKS / name) for name in sorted(held_locks(workdir) - before)}
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "locks": mine}))


def forget(workdir: str | Path = ".") -> None:
    """This run has ended and Snakemake has released its locks: drop its record."""
    _record_path(workdir, os.getpid()).unlink(missing_ok=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clear_stale(workdir: str | Path = ".") -> str | None:
    """Remove the locks of the recorded runs that have died on this host; a one-line note if any did."""
    host, dead, removed = socket.gethostname(), [], 0
    for path in sorted((Path(workdir) / RUNS).glob("*.json")):
        try:
            owner = json.loads(path.read_text())
            pid, locks = int(owner["pid"]), dict(owner["locks"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or foreign: not ours to judge
        if owner.get("host") != host or pid <= 0 or alive(pid):
            continue
        for name, identity in locks.items():
            lock = Path(workdir) / LOCKS / Path(name).name
            if identity is not None and _identity(lock) == identity:  # not a later run's of the same name
                lock.unlink()
                removed += 1
        path.unlink(missing_ok=True)
        dead.append(str(pid))
    if not removed:
        return None
    return (f"removed the locks of an earlier run (process {', '.join(dead)}, no longer alive: killed or "
            "crashed); its unfinished jobs rerun")
