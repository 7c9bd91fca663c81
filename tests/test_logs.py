"""Every pipeline script ends through logs.log_to's hook: a user error as its one sentence, anything
else with its traceback, in the rule's log and on the terminal, exit status 1."""

import subprocess
import sys

import pytest

SCRIPT = """
from qpi.io import StackError
from qpi.core.logs import log_to
log = log_to({log!r})
log.info("started")
raise {error}
"""


@pytest.mark.parametrize(("error", "one_line"), [
    ('StackError("data/a.tif: is saturated; record it again.")', True),
    ('ValueError("an internal slip")', False),
])
def test_an_error_ends_in_the_log_and_on_the_terminal(tmp_path, error, one_line):
    log = tmp_path / "logs" / "rule.log"
    run = subprocess.run([sys.executable, "-c", SCRIPT.format(log=str(log), error=error)], capture_output=True,
                         text=True)
    assert run.returncode == 1
    text = log.read_text()
    assert "started" in text
    if one_line:
        assert text.count("\n") == 2 and "ERROR qpi: data/a.tif: is saturated; record it again." in text
        assert "Traceback" not in text + run.stderr
    else:
        assert "ValueError: an internal slip" in text and "Traceback" in text and "Traceback" in run.stderr


FULL_DISK = """
import errno
from qpi.core.atomic import atomic_path
from qpi.core.logs import log_to
log_to({log!r})
with atomic_path({out!r}) as tmp:
    tmp.write_bytes(b"half a table")
    raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
"""


def test_a_full_disk_leaves_no_partial_output_and_is_one_sentence(tmp_path):
    log, out = tmp_path / "rule.log", tmp_path / "results" / "table.csv"
    run = subprocess.run([sys.executable, "-c", FULL_DISK.format(log=str(log), out=str(out))], capture_output=True,
                         text=True)
    assert run.returncode == 1
    assert not out.exists() and list(out.parent.iterdir()) == []  # neither the output nor its temporary
    (line,) = log.read_text().splitlines()
    assert f"ERROR qpi: No space left on device while writing {out.parent}/.table.csv" in line
    assert line.endswith(f"free space under {out.parent} and re-run (no partial output was kept).")
    assert "Traceback" not in run.stderr


FULL_DISK_MODEL = """
import errno, io
import qpi.training.checkpoints as checkpoints
from qpi import models
from qpi.core.logs import log_to


class Full(io.FileIO):  # a disk that fills on the first write
    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", self.name)


checkpoints.open = lambda path, mode: Full(path, mode)  # the module's open, as torch.save writes through it
log_to({log!r})
checkpoints.save_model({out!r}, models.build("srcnn", channels=[4, 2]))
"""


def test_a_model_file_on_a_full_disk_is_one_sentence_and_leaves_nothing(tmp_path):
    """torch.save writing to a path fails as RuntimeError; through a Python file it is the OSError."""
    log, out = tmp_path / "rule.log", tmp_path / "models" / "best.pt"
    run = subprocess.run([sys.executable, "-c", FULL_DISK_MODEL.format(log=str(log), out=str(out))],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    (line,) = log.read_text().splitlines()
    assert f"No space left on device while writing {out.parent}/.best.pt" in line
    assert not out.exists() and list(out.parent.iterdir()) == []
