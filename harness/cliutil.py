"""Options and helpers shared by every `insitu` command, built-in or plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from harness.profile import DEFAULT_PROFILE, Profile
from harness.words import counted

__all__ = ["counted"]  # re-exported: CLI modules import it from here

F = TypeVar("F", bound=Callable[..., Any])


def profile_option(fn: F) -> F:
    """Add `-p/--profile NAME` (default `default`, also from $INSITU_PROFILE)."""
    return click.option(
        "-p",
        "--profile",
        default=DEFAULT_PROFILE,
        envvar="INSITU_PROFILE",
        show_default=True,
        help="Profile to use; `default` is created on first use from the chat template.",
    )(fn)


def json_option(fn: F) -> F:
    """Add `--json` for machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        fn
    )


def open_profile(name: str) -> Profile:
    """Open a profile by name for a command (creating `default` on first use)."""
    return Profile.open(name)


def table(rows: list[list[str]], header: list[str]) -> str:
    """Return rows as an aligned plain-text table."""
    cells = [header, *rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


