"""`insitu doctor`: what this machine has, each line OK or missing with the fix."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness import __version__, paths
from harness.cliutil import counted
from harness.registry import checks


@dataclass
class Check:
    """One doctor line: what was checked, its state, what was found and the fix if missing."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = False


def check_python() -> Iterable[Check]:
    """Report the Python version (3.11 or newer is required)."""
    ok = sys.version_info >= (3, 11)
    yield Check("python", ok, platform.python_version(), "install Python 3.11 or newer", True)


def check_torch() -> Iterable[Check]:
    """Report torch's version, the device it will use and its intra-op threads."""
    try:
        import torch
    except Exception as exc:  # an install problem, reported rather than raised
        yield Check("torch", False, f"cannot import torch ({exc})",
                    "run `make setup` (installs the CPU build of torch)", True)
        return
    if torch.cuda.is_available():
        device = f"cuda ({torch.cuda.get_device_name(0)})"
    else:
        device = "cpu (no CUDA device; that is fine for micro-models)"
    yield Check("torch", True, f"{torch.__version__}, device {device}")
    cores = os.cpu_count() or 1
    yield Check(
        "threads", True,
        f"{cores} cores; micro-graphs train with 1 intra-op thread per process "
        f"(torch default here: {torch.get_num_threads()})",
    )


def check_native() -> Iterable[Check]:
    """Report the native step engine (compiled with the system C compiler on first use)."""
    from harness.graph.native.compile import status

    line = status()
    ok = not line.startswith("unavailable")
    yield Check("native step engine", ok, line,
                "install a C compiler (Debian: `apt-get install gcc`); generation still works, "
                "only slower")  # fmt: skip


def check_data_dir() -> Iterable[Check]:
    """Report the data folder and whether it can be written."""
    home = paths.home()
    where = "INSITU_HOME" if os.environ.get("INSITU_HOME") else "per-user data dir"
    probe = home if home.exists() else next((p for p in home.parents if p.exists()), Path("/"))
    ok = os.access(probe, os.W_OK)
    yield Check("data dir", ok, f"{home} ({where}{'' if ok else ', not writable'})",
                "set INSITU_HOME to a folder you can write", True)


def _quick_check(db: Path) -> str:
    """Return 'ok' or the problem of a profile database, opened read-only."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return str(conn.execute("PRAGMA quick_check").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)


def check_profiles() -> Iterable[Check]:
    """Report the profiles and whether each database passes a quick check."""
    from harness.profile import DB_NAME, list_profiles

    names = list_profiles()
    if not names:
        yield Check("profiles", True, "none yet (`default` is created on first use)")
        return
    bad = []
    for name in names:
        state = _quick_check(paths.profile_dir(name) / DB_NAME)
        if state != "ok":
            bad.append(f"{name}: {state}")
    detail = f"{len(names)}: {', '.join(names)}"
    yield Check("profiles", not bad, detail + ("" if not bad else f"; damaged: {'; '.join(bad)}"),
                "move a damaged profile folder aside and import it from a bundle")


def check_teachers() -> Iterable[Check]:
    """Report how many teachers the profiles have configured."""
    from harness.profile import DB_NAME, list_profiles

    found = []
    for name in list_profiles():
        try:
            conn = sqlite3.connect(f"file:{paths.profile_dir(name) / DB_NAME}?mode=ro", uri=True)
            row = conn.execute("SELECT value FROM settings WHERE key = 'teachers'").fetchone()
            conn.close()
        except sqlite3.DatabaseError:
            continue
        if row and row[0] not in ("[]", "{}", "null"):
            found.append(name)
    detail = f"configured in: {', '.join(found)}" if found else "none configured (optional)"
    yield Check("teachers", True, detail)


def check_plugins() -> Iterable[Check]:
    """Report plugins that failed to load, from every registry."""
    from harness import registry

    broken = {}
    for reg in registry.ALL:
        for name, why in reg.errors().items():
            broken[f"{reg.kind} {name}"] = why
    if broken:
        yield Check("plugins", False, "; ".join(f"{k}: {v}" for k, v in broken.items()),
                    "reinstall insitu (`make setup`) or the plugin named")
    else:
        counts = ", ".join(counted(len(r.names()), r.kind) for r in registry.ALL if r.names())
        yield Check("plugins", True, counts)


BUILTIN: list[Callable[[], Iterable[Check]]] = [
    check_python, check_torch, check_native, check_data_dir, check_profiles, check_teachers,
    check_plugins,
]


def run_checks() -> list[Check]:
    """Run the built-in checks and those registered by plugins (e.g. audio devices)."""
    out: list[Check] = []
    for fn in [*BUILTIN, *(fn for _, fn in checks.items())]:
        try:
            out.extend(fn())
        except Exception as exc:  # one broken check must not hide the others
            out.append(Check(getattr(fn, "__name__", "check"), False, f"check failed: {exc}",
                             "report this as a bug"))
    return out


def header() -> str:
    """Return the first line of the doctor report."""
    return f"insitu {__version__} on {platform.system()} {platform.machine()}"
