"""`insitu doctor` reports every line without a traceback, audio as this machine has it."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys


def test_doctor_runs_cleanly() -> None:
    """Doctor prints torch, threads, audio, data dir, profiles and teachers, exit code 0."""
    result = subprocess.run([sys.executable, "-m", "harness.cli", "doctor"], capture_output=True,
                            text=True, env=os.environ.copy(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = {line.split()[1]: line for line in result.stdout.splitlines()[1:]
             if line.startswith("  ") and len(line.split()) > 1 and line.split()[0] in
             ("OK", "MISSING")}
    for name in ("python", "torch", "threads", "data", "profiles", "teachers", "portaudio",
                 "microphone"):
        assert name in lines, (name, result.stdout)
    has_portaudio = ctypes.util.find_library("portaudio") is not None
    assert lines["portaudio"].split()[0] == ("OK" if has_portaudio else "MISSING")
    # These machines have no microphone: doctor must say so, with the fix.
    assert lines["microphone"].split()[0] == "MISSING"
    assert "fix:" in result.stdout


def test_plugin_counts_read_as_english() -> None:
    """Counts take the noun's number: one check, three modalities, eight benches."""
    from harness.cliutil import counted

    assert counted(1, "check") == "1 check"
    assert counted(12, "unit") == "12 units"
    assert counted(3, "modality") == "3 modalities"
    assert counted(8, "bench") == "8 benches"
    assert counted(1, "task kind") == "1 task kind"
    assert counted(2, "fitness function") == "2 fitness functions"
