"""End to end as a person would: tmux runs `insitu chat`, keys are typed, the screen is read."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

INSITU = Path(sys.executable).parent / "insitu"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """One tmux server of our own (its own socket), holding one session."""

    def __init__(self, name: str) -> None:
        self.socket = f"insitu-test-{os.getpid()}-{name}"
        self.name = name

    def run(self, *args: str) -> str:
        """Run a tmux command on our server and return its output."""
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, check=False)
        return done.stdout

    def start(self, command: str) -> None:
        """Start the session running `command` in a 120x40 terminal."""
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", self.name,
                        "-x", "120", "-y", "40", command], check=True, timeout=30)

    def keys(self, *keys: str) -> None:
        """Send keys (tmux key names such as Enter, Tab, C-q, or literal text)."""
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        """Return what the pane shows now."""
        return self.run("capture-pane", "-t", self.name, "-p")

    def wait_for(self, check: Callable[[str], bool], timeout: float, what: str) -> str:
        """Poll the screen until `check(screen)` holds; fail showing the screen otherwise."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")

    def alive(self) -> bool:
        """Return True while the session exists."""
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.name],
                              capture_output=True, timeout=30, check=False).returncode == 0

    def kill(self) -> None:
        """Stop our tmux server."""
        self.run("kill-server")


def test_chat_in_tmux_types_rates_and_stores(insitu_home: Path) -> None:
    """A fresh profile: type a message, rate the reply 👍, see it saved, find it in SQLite."""
    env = {**os.environ, "INSITU_HOME": str(insitu_home)}
    subprocess.run([str(INSITU), "profile", "create", "e2e"], env=env, check=True,
                   capture_output=True, timeout=120)
    tmux = Tmux("e2e")
    # COLUMNS/LINES (set under pytest) would override the pane's size in Textual
    tmux.start(f"env -u COLUMNS -u LINES INSITU_HOME={insitu_home} {INSITU} chat -p e2e")
    try:
        tmux.wait_for(lambda s: "type a message" in s, 180, "the model to load")
        tmux.keys("-l", "Hello [b]there[/b], who are you?")
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "replied" in s, 60, "the reply")
        assert "Hello [b]there[/b], who are you?" in screen  # shown literally
        tmux.keys("Tab")
        tmux.keys("+")
        tmux.wait_for(lambda s: "saved 👍" in s, 30, "the rating to be saved")
        db = sqlite3.connect(insitu_home / "profiles" / "e2e" / "profile.db")
        try:
            found = db.execute("SELECT r.value, m.role FROM ratings r JOIN messages m "
                               "ON m.id = r.message_id").fetchall()
        finally:
            db.close()
        assert found == [(1, "assistant")]
        tmux.keys("C-q")
        deadline = time.monotonic() + 30
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not tmux.alive(), "the app did not quit on Ctrl+Q"
    finally:
        tmux.kill()
