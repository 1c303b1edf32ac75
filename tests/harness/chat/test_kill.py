"""Killing the chat process right after a signal was acknowledged loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from harness.profile import Profile

RATER = Path(__file__).with_name("kill_rater.py")


def test_sigkill_after_rate_returns_loses_nothing() -> None:
    """SIGKILL right after an ack (learning still in flight): every acked signal is stored."""
    Profile.create("k", "chat").close()
    proc = subprocess.Popen([sys.executable, str(RATER), "k"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    acks: list[list[str]] = []
    enough = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            acks.append(line.split())
            if sum(a[0] == "example" for a in acks) >= 3:
                proc.send_signal(signal.SIGKILL)  # at once, mid-learning
                enough.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    finished = enough.wait(180)
    if not finished:
        proc.kill()
    proc.wait(30)
    err = proc.stderr.read() if proc.stderr else ""
    assert finished, f"the rater never acknowledged three rounds: {err[-2000:]}"
    assert proc.returncode == -signal.SIGKILL, err[-2000:]
    with Profile.open("k", create_default=False) as prof:
        assert prof.store.integrity_check() == ["ok"]
        for ack in acks:
            if ack[0] == "rating":
                assert prof.store.query("SELECT 1 FROM ratings WHERE message_id=?", [ack[1]])
            elif ack[0] == "tag":
                assert prof.store.query("SELECT 1 FROM tags WHERE message_id=? AND tag=?",
                                        [ack[1], ack[2]])
            elif ack[0] == "example":
                assert prof.store.query("SELECT 1 FROM examples WHERE id=?", [ack[1]])
