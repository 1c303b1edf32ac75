"""API keys: read from environment variables or the keys file, never stored in a profile.

The keys file (`harness.paths.keys_file()`, outside every profile folder) is a JSON object
mapping names to values, mode 0600, rewritten atomically. A key is looked up by NAME: the
environment variable NAME first, then the file. Values are never printed or logged; `redact`
masks them in any text that could reach a person.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from harness.errors import TeacherError
from harness.paths import keys_file
from harness.store.files import atomic_path

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
MASK = "****"


def check_key_name(name: str) -> str:
    """Return `name` if it is a key NAME (not a key value), else raise TeacherError."""
    if not NAME.match(name) or name.startswith(("sk-", "sk_")):
        raise TeacherError(
            "a key name is 1-64 letters, digits, '_', '.' or '-' starting with a letter "
            "(it names an environment variable or a keys-file entry; it is not the key itself)",
            "pick a name like OPENAI_API_KEY and set its value with `insitu keys set NAME`",
        )
    return name


def _read_file(path: Path) -> dict[str, str]:
    """Return the keys file's entries ({} when there is no file)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TeacherError(f"cannot read the keys file {path} ({exc.strerror})",
                           "check its permissions (it should be yours, mode 0600)") from None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)  # tighten a file someone loosened
    try:
        data = json.loads(raw)
    except ValueError:
        raise TeacherError(f"the keys file {path} is not valid JSON",
                           "fix it by hand, or delete it and set the keys again") from None
    if not isinstance(data, dict):
        raise TeacherError(f"the keys file {path} must hold a JSON object",
                           "delete it and set the keys again with `insitu keys set NAME`")
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _write_file(path: Path, data: dict[str, str]) -> None:
    """Rewrite the keys file atomically, created with mode 0600 from the first byte."""
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
    os.chmod(path, 0o600)


def get_key(name: str) -> str | None:
    """Return the key called `name` (environment first, then the keys file), or None."""
    value = os.environ.get(name)
    if value:
        return value
    return _read_file(keys_file()).get(name) or None


def require_key(name: str) -> str:
    """Return the key called `name`, or raise TeacherError saying how to set it."""
    value = get_key(check_key_name(name))
    if not value:
        raise TeacherError(f"the key {name} is not set",
                           f"set it with `insitu keys set {name}` (or export {name}=...)")
    return value


def set_key(name: str, value: str) -> Path:
    """Store a key in the keys file (mode 0600); return the file's path."""
    check_key_name(name)
    value = value.strip()
    if not value:
        raise TeacherError("the key is empty; nothing was stored", "paste the key again")
    if any(c in value for c in "\r\n\0"):
        raise TeacherError("the key holds a line break; nothing was stored",
                           "paste only the key itself")
    path = keys_file()
    data = _read_file(path)
    data[name] = value
    _write_file(path, data)
    return path


def remove_key(name: str) -> bool:
    """Remove a key from the keys file; return True if it was there."""
    path = keys_file()
    data = _read_file(path)
    if name not in data:
        return False
    del data[name]
    _write_file(path, data)
    return True


def list_keys() -> list[tuple[str, str]]:
    """Return (name, where) for the keys in the keys file; values are never returned."""
    return [(name, str(keys_file())) for name in sorted(_read_file(keys_file()))]


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return `text` with every secret value (and any 8+ character slice of it) masked."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        text = text.replace(secret, MASK)
        if len(secret) >= 16:  # servers echo keys partly masked: hide long slices too
            for size in (12, 8):
                for i in range(0, len(secret) - size + 1):
                    text = text.replace(secret[i : i + size], MASK)
    return text
