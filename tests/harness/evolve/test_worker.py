"""`insitu worker` evolves in the background and pauses its evaluations while the chat is active."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.data.ingest import add_paths
from harness.evolve.worker import ACTIVE_FILE, evaluation_children
from harness.profile import Profile

TEMPLATE = """
description = "worker test"
[[tasks]]
name = "text"
kind = "text"
heldout_fraction = 0.1
[model]
max_params = 20000
min_params = 2000
width = 32
context = 64
families = ["gru", "mlp"]
[evolution]
population = 2
train_seconds = 30.0
workers = 1
"""


def _state(pid: int) -> str:
    """Return a process's state letter from /proc (T = stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait(pred, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    """Poll `pred` until it is true or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_worker_pauses_while_active_and_stops_on_a_signal(tmp_path: Path, shared_data: Path,
                                                          stop: signal.Signals) -> None:
    """Evaluations pause within a second of chat activity, resume when idle; the worker exits
    on TERM and on Ctrl-C (INT) in the middle of a chunk instead of starting the next one."""
    template = tmp_path / "small.toml"
    template.write_text(TEMPLATE)
    corpus = tmp_path / "slice.txt"
    corpus.write_text((shared_data / "tinyshakespeare" / "input.txt").read_text()[:40_000])
    with Profile.create("w", str(template)) as prof:
        add_paths(prof, [corpus])
        path = prof.path
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "worker", "-p", "w", "--idle-seconds", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    try:
        assert _wait(lambda: evaluation_children(proc.pid), 90), "no evaluation process started"
        children = evaluation_children(proc.pid)
        time.sleep(2)  # let a job start training
        (path / ACTIVE_FILE).touch()
        assert _wait(lambda: all(_state(p) == "T" for p in children if Path(f"/proc/{p}").exists()),
                     1.5), "evaluations did not pause"
        assert _wait(lambda: all(_state(p) != "T" for p in children if Path(f"/proc/{p}").exists()),
                     6), "evaluations did not resume when idle"
    finally:
        proc.send_signal(stop)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # still evolving: stop it, then fail
            proc.kill()
            out, _ = proc.communicate()
            pytest.fail(f"the worker did not stop on {stop.name}:\n{out[-2000:]}")
    assert proc.returncode == 0, out
    assert "pausing" in out and "resuming" in out and "run is saved" in out
    assert "1 evaluation process," in out
    assert "Traceback" not in out
