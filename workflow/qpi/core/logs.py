"""Logging for pipeline scripts: one log file per rule; an error ends in it as one sentence (the
user's input) or with its traceback (anything else)."""

from __future__ import annotations

import errno
import logging
import sys
from pathlib import Path

from qpi.core.errors import StackError

FULL = (errno.ENOSPC, errno.EDQUOT)  # a full disk, or a quota reached


def log_to(path: str | Path | None, name: str = "qpi") -> logging.Logger:
    """Send the `qpi` loggers (and warnings) to `path` (and stderr); return the named logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    root = logging.getLogger("qpi")
    root.handlers.clear()
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(logging.INFO)
    root.propagate = False
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    return logging.getLogger(name if name.startswith("qpi") else f"qpi.{name}")


def _log_uncaught(kind, error, traceback) -> None:
    """How every pipeline script ends on an error: a problem with the user's input (`StackError`)
    or a full disk as one sentence, anything else with its traceback — in the rule's log and on the
    terminal; the exit status is 1 either way."""

    log = logging.getLogger("qpi")
    if issubclass(kind, StackError):
        log.error("%s", error)
    elif issubclass(kind, OSError) and error.errno in FULL:
        where = Path(error.filename).parent if error.filename else Path.cwd()
        log.error("%s while writing %s: free space under %s and re-run (no partial output was kept).",
                  error.strerror or "no space left on device", error.filename or "an output", where)
    elif issubclass(kind, KeyboardInterrupt):
        log.error("interrupted")
    else:
        log.error("%s: %s", kind.__name__, error, exc_info=(kind, error, traceback))


def progress_stream(log: logging.Logger):
    """A file-like object for tqdm that writes progress lines into the rule's log handlers."""
    return _LogStream(log)


class _LogStream:
    def __init__(self, log: logging.Logger):
        self.log = log

    def write(self, text: str) -> None:
        text = text.strip("\r\n ")
        if text:
            self.log.info(text)

    def flush(self) -> None:
        pass
