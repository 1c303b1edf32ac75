"""Where insitu keeps its data: a per-user folder, overridable with INSITU_HOME."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from harness.errors import ProfileError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def home() -> Path:
    """Return the data folder: $INSITU_HOME, else the platform's per-user data dir."""
    env = os.environ.get("INSITU_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("insitu", appauthor=False))


def profiles_dir() -> Path:
    """Return the folder that holds one sub-folder per profile."""
    return home() / "profiles"


def keys_file() -> Path:
    """Return the path of the keys file (mode 0600, never inside a profile)."""
    return home() / "keys.json"


def check_profile_name(name: str) -> str:
    """Return `name` if it is a safe profile name, else raise ProfileError saying why."""
    if not _NAME.match(name) or ".." in name:
        raise ProfileError(
            f"'{name}' is not a valid profile name",
            "use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit "
            "(no '/', no '..')",
        )
    return name


def profile_dir(name: str) -> Path:
    """Return the folder of profile `name` (validated; it may not exist yet)."""
    return profiles_dir() / check_profile_name(name)


@contextlib.contextmanager
def scratch_home(prefix: str = "insitu-scratch-") -> Iterator[Path]:
    """Point INSITU_HOME at a temporary folder for the block (benchmarks), then restore it."""
    old = os.environ.get("INSITU_HOME")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        os.environ["INSITU_HOME"] = tmp
        try:
            yield Path(tmp)
        finally:
            if old is None:
                os.environ.pop("INSITU_HOME", None)
            else:
                os.environ["INSITU_HOME"] = old


def stored_checkpoint(root: Path, rel: str | None) -> Path | None:
    """Return the file a stored checkpoint path names in profile folder `root`, or None.

    Paths are stored relative to the profile folder (`checkpoints/evolve/...`); profiles made
    before that stored the shipped champion relative to `checkpoints/`, so that is tried next.
    """
    if not rel:
        return None
    for path in (root / rel, root / "checkpoints" / rel):
        if path.is_file():
            return path
    return None
