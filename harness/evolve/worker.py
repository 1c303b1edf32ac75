"""`insitu worker`: idle evolution in a low-priority process, paused while the person is active.

The chat app touches `<profile>/ui-active` while the person types or a reply streams. The worker
evolves in short chunks; while that file is fresh it stops (SIGSTOP) its evaluation processes
within a fraction of a second and continues them (SIGCONT) once the person is idle again, so a
running training job pauses mid-step instead of competing with the chat for the CPU.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import click

from harness.cliutil import profile_option
from harness.errors import InsituError
from harness.profile import Profile, profile_flag
from harness.words import counted

ACTIVE_FILE = "ui-active"
POLL_S = 0.2


def ui_active(profile_path: Path, idle_seconds: float) -> bool:
    """Return True if the chat app marked the person active within `idle_seconds`."""
    try:
        return time.time() - (profile_path / ACTIVE_FILE).stat().st_mtime < idle_seconds
    except OSError:
        return False


def evaluation_children(parent: int | None = None) -> list[int]:
    """Return the pids of this process's evaluation workers (spawned pool processes)."""
    parent = os.getpid() if parent is None else parent
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


class Pauser(threading.Thread):
    """Stops the evaluation workers while the person is active and continues them after."""

    def __init__(self, profile_path: Path, idle_seconds: float) -> None:
        super().__init__(daemon=True, name="insitu-pauser")
        self.profile_path = profile_path
        self.idle_seconds = idle_seconds
        self.paused: list[int] = []
        self.done = threading.Event()

    def _signal(self, pids: list[int], sig: signal.Signals) -> list[int]:
        """Send `sig` to each pid that still exists; return those reached."""
        reached = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                reached.append(pid)
            except ProcessLookupError:
                pass
        return reached

    def run(self) -> None:
        """Poll the activity file and pause/continue the workers accordingly."""
        while not self.done.wait(POLL_S):
            if ui_active(self.profile_path, self.idle_seconds):
                fresh = [p for p in evaluation_children() if p not in self.paused]
                if fresh:
                    if not self.paused:
                        click.echo(f"{time.strftime('%H:%M:%S')} person active: pausing")
                    self.paused += self._signal(fresh, signal.SIGSTOP)
            elif self.paused:
                self._signal(self.paused, signal.SIGCONT)
                self.paused = []
                click.echo(f"{time.strftime('%H:%M:%S')} idle again: resuming")

    def stop(self) -> None:
        """Continue any paused workers and end the thread."""
        self.done.set()
        self._signal(self.paused, signal.SIGCONT)
        self.paused = []


_stopping = threading.Event()


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Mark the worker as stopping and raise KeyboardInterrupt, which saves the run's state.

    Ctrl-C (SIGINT) comes here too: a run stopped by it returns normally, and the mark is what
    keeps the worker from starting the next chunk.
    """
    _stopping.set()
    raise KeyboardInterrupt


def _has_training_data(prof: Profile) -> bool:
    """Return True if any task of the profile has training examples."""
    rows = prof.store.query("SELECT count(*) AS n FROM examples WHERE split = 'train'")
    return bool(rows and rows[0]["n"])


@click.command()
@profile_option
@click.option("--chunk-minutes", type=float, default=2.0, show_default=True,
              help="Evolve in chunks of this length (state is saved after every evaluation).")
@click.option("--idle-seconds", type=float, default=None,
              help="Pause while the chat was active this recently (default: the profile's).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: profile's).")
def worker(profile: str, chunk_minutes: float, idle_seconds: float | None,
           workers: int | None) -> None:
    """Run idle evolution for a profile until stopped (Ctrl-C or SIGTERM); pauses for the chat.

    1. Wait until the profile has training data and the person is idle.
    2. Evolve for one chunk (resuming the stored run); evaluations pause while the person types.
    3. Repeat until stopped; on SIGTERM or Ctrl-C the run's state is saved and the worker exits.
    """
    from harness.evolve import run
    from harness.evolve.reporters import ConsoleReporter

    if chunk_minutes <= 0:
        raise InsituError("--chunk-minutes must be above 0", "use e.g. --chunk-minutes 2")
    _stopping.clear()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    with Profile.open(profile) as prof:
        idle = prof.config.evolution.idle_seconds if idle_seconds is None else idle_seconds
        count = workers or prof.config.evolution.workers
        pauser = Pauser(prof.path, idle)
        pauser.start()
        click.echo(f"worker for '{prof.name}': {counted(count, 'evaluation process')}, pausing "
                   f"while the chat was active in the last {idle:g} s")
        waiting = False
        try:
            while not _stopping.is_set():
                if not _has_training_data(prof):
                    if not waiting:
                        click.echo("no training data yet: add some with "
                                   f"`insitu data add{profile_flag(prof.name)} PATH` or chat")
                        waiting = True
                    time.sleep(5)
                    continue
                waiting = False
                if ui_active(prof.path, idle):
                    time.sleep(POLL_S)
                    continue
                try:
                    done = run(prof, seconds=chunk_minutes * 60, workers=count,
                               reporters=[ConsoleReporter(click.echo, live=False)])
                    if done.stopped == "interrupted":  # a signal the run turned into its end
                        break
                except InsituError as exc:
                    click.echo(f"evolution stopped: {exc}", err=True)
                    _stopping.wait(30)
        except KeyboardInterrupt:
            pass
        finally:
            click.echo("worker stopping; the run is saved and resumes next time")
            pauser.stop()
            sys.stdout.flush()
