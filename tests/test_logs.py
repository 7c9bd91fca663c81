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
