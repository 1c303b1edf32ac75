"""Slash commands: one table shared by the message box and the command palette."""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass

from harness.errors import InsituError


@dataclass(frozen=True)
class Command:
    """One slash command: its name, usage, what it does and whether it needs an argument."""

    name: str
    usage: str
    help: str
    needs_arg: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("new", "/new", "Start a new conversation"),
    Command("history", "/history", "Past conversations: search and reopen"),
    Command("profile", "/profile [NAME]", "Switch to profile NAME (no name: list profiles)"),
    Command("add", "/add PATH...", "Add data files or folders to the profile's task", True),
    Command("image", "/image PATH [TEXT]", "Attach a picture (PNG, JPEG, GIF, WebP, BMP)", True),
    Command("audio", "/audio PATH [TEXT]", "Attach a recording (wav)", True),
    Command("record", "/record [SECONDS]", "Record with a level meter (default 5 s; Esc ends it)"),
    Command("evolve", "/evolve [start|stop]", "Start or stop idle evolution"),
    Command("population", "/population", "Champion, leaderboard and recent evolution events"),
    Command("export", "/export [PATH]", "Export the profile as a bundle"),
    Command("import", "/import PATH", "Import a bundle as a new profile", True),
    Command("teach", "/teach [N] [TOPIC]", "Have a teacher write N training pairs"),
    Command("help", "/help", "Commands and keys"),
    Command("quit", "/quit", "Leave insitu"),
)
BY_NAME = {c.name: c for c in COMMANDS}


class SlashError(InsituError):
    """A slash command was mistyped."""


def is_command(text: str) -> bool:
    """Return True if `text` is a slash command ('//' escapes a leading slash)."""
    stripped = text.lstrip()
    return stripped.startswith("/") and not stripped.startswith("//")


def unescape(text: str) -> str:
    """Return the message with a '//' escape turned back into one '/'."""
    stripped = text.lstrip()
    return stripped[1:] if stripped.startswith("//") else text


def parse(text: str) -> tuple[Command, list[str]]:
    """Split '/name args...' into its command and arguments (quotes group words)."""
    head, _, rest = text.strip()[1:].partition(" ")
    name = head.lower()
    if name not in BY_NAME:
        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f"did you mean /{close[0]}? " if close else ""
        raise SlashError(f"unknown command /{head}",
                         f"{hint}type /help for the commands; start with // to send a '/'")
    try:
        args = shlex.split(rest)
    except ValueError as exc:
        raise SlashError(f"cannot read the arguments of /{name}: {exc}",
                         "close the quotes, or drop them") from exc
    command = BY_NAME[name]
    if command.needs_arg and not args:
        raise SlashError(f"/{name} needs an argument", f"usage: {command.usage}")
    return command, args
