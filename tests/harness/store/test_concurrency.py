"""Two processes writing one profile at once never surface 'database is locked'."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.profile import Profile

WRITER = Path(__file__).with_name("conc_writer.py")


@pytest.mark.slow
def test_two_writers_share_a_profile() -> None:
    """A chat-like and a worker-like process write for seconds; both finish cleanly."""
    Profile.create("shared", "chat").close()
    procs = [
        subprocess.Popen([sys.executable, str(WRITER), "shared", who, "6"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=os.environ.copy())
        for who in ("chat", "worker")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower()
    written = [int(out.strip()) for out, _ in outs]
    assert all(n > 10 for n in written), written
    with Profile.open("shared", create_default=False) as prof:
        assert prof.store.count("messages") == sum(written)
        assert prof.store.count("ratings") == sum(written)
        assert prof.store.integrity_check() == ["ok"]
