"""Idle evolution from the app: the `insitu worker` process, started and stopped on request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tui import features


def worker_available() -> bool:
    """Return True if this build has the evolution worker (`insitu worker`)."""
    return features.find(features.WORKER_MODULES) is not None and features.cli_command("worker")


def unavailable_message() -> str:
    """Return what /evolve says while the worker is not built yet."""
    return features.missing("worker", "idle evolution from the chat") + (
        "; meanwhile run `insitu evolve -p PROFILE` in another terminal"
        if features.cli_command("evolve") else "")


def _proc_usage(pid: int) -> tuple[float, float] | None:
    """Return (CPU seconds, resident MB) of a process from /proc, or None where unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks  # utime + stime
    rss = next((int(line.split()[1]) / 1024 for line in status.splitlines()
                if line.startswith("VmRSS:")), 0.0)
    return cpu, rss


class EvolutionControl:
    """Runs `insitu worker -p PROFILE` as a separate low-priority process."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.profile = ""
        self.log: Path | None = None

    @property
    def running(self) -> bool:
        """Return True while the worker process is alive."""
        return self.process is not None and self.process.poll() is None

    def crashed(self) -> int | None:
        """Return the exit code of a worker that ended by itself, else None."""
        if self.process is None or self.process.poll() is None:
            return None
        return self.process.returncode

    def start(self, profile: str, log_dir: Path) -> str:
        """Start the worker for `profile`; return a sentence for the person."""
        if self.running:
            return f"evolution is already running on '{self.profile}' (pid {self.pid})"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / "worker.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harness.cli", "worker", "-p", profile],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:  # low priority, so the chat stays quick (POSIX only)
            os.setpriority(os.PRIO_PROCESS, self.process.pid, 10)
        except (AttributeError, OSError):
            pass
        self.profile = profile
        return f"evolution started on '{profile}' (pid {self.pid}, log {self.log})"

    @property
    def pid(self) -> int | None:
        """Return the worker's process id."""
        return self.process.pid if self.process else None

    def stop(self, timeout: float = 5.0) -> str:
        """Stop the worker (it saves its state on SIGTERM); return a sentence for the person."""
        if not self.running or self.process is None:
            self.process = None
            return "evolution is not running"
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        self.process = None
        return f"evolution stopped on '{self.profile}'"

    def usage(self) -> str:
        """Return the worker's CPU time and memory, or why they are not shown."""
        if not self.running or self.pid is None:
            return "worker: not running"
        found = _proc_usage(self.pid)
        if found is None:
            return f"worker: running (pid {self.pid})"
        cpu, rss = found
        return f"worker: pid {self.pid} · CPU {cpu:.1f} s · memory {rss:.0f} MB"
