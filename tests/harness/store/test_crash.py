"""Crash safety: SIGKILL mid-write loses no acknowledged record and corrupts nothing."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from harness.profile import Profile
from harness.store.files import is_temp

WRITER = Path(__file__).with_name("crash_writer.py")


def _run_and_kill(name: str, seed: int, delay: float) -> list[str]:
    """Start a writer, kill -9 it `delay` seconds after it is ready; return its ack lines."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), name, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    acks: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            acks.append(line.strip())
            if line.startswith("ready"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert ready.wait(60), f"writer never became ready: {proc.stderr.read() if proc.stderr else ''}"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    reader.join(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    return acks


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write() -> None:
    """Kill a writer at random moments many times; every ack survives and the db is intact."""
    Profile.create("crash", "chat").close()
    rng = random.Random(1234)
    acked: dict[str, set[str]] = {"msg": set(), "rating": set(), "tag": set()}
    ckpts: dict[str, str] = {}
    for seed in range(20):
        for line in _run_and_kill("crash", seed, rng.uniform(0.0, 0.5)):
            kind, _, rest = line.partition(" ")
            if kind in acked:
                acked[kind].add(rest)
            elif kind == "ckpt":
                fname, sha = rest.split()
                ckpts[fname] = sha
        # Reopen after every kill: the next writer starts from whatever the kill left.
        with Profile.open("crash", create_default=False) as prof:
            assert prof.store.integrity_check() == ["ok"]
    assert sum(len(v) for v in acked.values()) > 50, "the writers acknowledged too little"
    assert ckpts, "no checkpoint was acknowledged"
    with Profile.open("crash", create_default=False) as prof:
        assert prof.store.integrity_check() == ["ok"]
        tables = {"msg": "messages", "rating": "ratings", "tag": "tags"}
        for kind, ids in acked.items():
            present = {r["id"] for r in prof.store.query(f"SELECT id FROM {tables[kind]}")}
            assert ids <= present, f"lost acknowledged {kind}: {sorted(ids - present)[:3]}"
        files = [p for p in prof.checkpoints_dir.iterdir() if not is_temp(p)]
        for path in files:  # every visible checkpoint is whole and loads
            load_file(path)
        for fname, sha in ckpts.items():
            data = (prof.checkpoints_dir / fname).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha
        # Temp files of dead writers are swept when the profile is opened.
        assert not [p for p in prof.checkpoints_dir.iterdir() if is_temp(p)]
