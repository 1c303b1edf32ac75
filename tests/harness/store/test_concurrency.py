"""Two processes writing one profile at once never surface 'database is locked'."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.profile import Profile

WRITER = Path(__file__).with_name("conc_writer.py")
ROUNDS = 150


@pytest.mark.slow
def test_two_writers_share_a_profile(tmp_path: Path) -> None:
    """A chat-like and a worker-like process write at the same time; both finish cleanly."""
    Profile.create("shared", "chat").close()
    gate = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, str(WRITER), "shared", who, str(ROUNDS), str(gate)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=os.environ.copy())
        for who in ("chat", "worker")
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{w}").exists() for w in ("chat", "worker")):
        assert time.monotonic() < deadline, "writers never became ready"
        assert all(p.poll() is None for p in procs), "a writer exited before starting"
        time.sleep(0.02)
    gate.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower()
    written = [int(out.strip()) for out, _ in outs]
    assert written == [ROUNDS, ROUNDS]
    with Profile.open("shared", create_default=False) as prof:
        assert prof.store.count("messages") == sum(written)
        assert prof.store.count("ratings") == sum(written)
        assert prof.store.integrity_check() == ["ok"]
        spans = prof.store.query(
            "SELECT min(m.created_at) AS a, max(m.created_at) AS b FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id GROUP BY c.title ORDER BY c.title")
        assert spans[0]["a"] < spans[1]["b"] and spans[1]["a"] < spans[0]["b"], "no overlap"
