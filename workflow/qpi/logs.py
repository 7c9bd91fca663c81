"""Logging for pipeline scripts: one log file per rule, user errors without tracebacks."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path


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
    return logging.getLogger(name if name.startswith("qpi") else f"qpi.{name}")


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


@contextlib.contextmanager
def user_errors(log: logging.Logger):
    """Turn a `StackError` (a problem with the user's input) into one log line and exit status 1."""
    from .io import StackError

    try:
        yield
    except StackError as err:
        log.error("%s", err)
        sys.exit(1)
