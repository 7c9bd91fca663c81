"""Every pipeline script ends through logs.log_to's hook: a user error as its one sentence, anything
else with its traceback, in the rule's log and on the terminal, exit status 1."""

import subprocess
import sys

import pytest

SCRIPT = """
from qpi.io import StackError
from qpi.logs import log_to
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
from qpi.atomic import atomic_path
from qpi.logs import log_to
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
