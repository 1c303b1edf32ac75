"""Build and load the native step engine (engine.c) with the system C compiler, once per machine.

The shared library is cached under `$INSITU_CACHE` (default: the platform's per-user cache
folder) by a hash of the source, the compiler flags and the CPU, and written atomically, so
concurrent processes share one build. Without a C compiler (or with `INSITU_NATIVE=0`) the
engine is unavailable and generation runs on the PyTorch step path; `status()` says why.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("engine.c")
_BASE = ["-O3", "-fno-trapping-math", "-fPIC", "-shared", "-std=c99"]
FLAG_SETS = (  # tried in order: 256-bit vectors, this CPU's instructions, plain
    [*_BASE, "-march=native", "-mprefer-vector-width=256"],
    [*_BASE, "-march=native"],
    _BASE,
)
OFF_VALUES = {"0", "off", "false", "no"}

_lib: ctypes.CDLL | None = None
_reason: str | None = None


def cache_dir() -> Path:
    """Return the folder of compiled engines: $INSITU_CACHE, else the per-user cache dir."""
    env = os.environ.get("INSITU_CACHE")
    base = Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("insitu"))
    return base / "native"


def _cpu() -> str:
    """Return a description of this CPU's instruction sets (builds use -march=native)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    flags = next((ln for ln in text.splitlines() if ln.startswith(("flags", "Features"))), "")
    return platform.machine() + flags


def _compile(target: Path) -> str | None:
    """Compile engine.c into `target`; return None on success, else the reason it failed."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        return "no C compiler found (install gcc or set CC)"
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for flags in FLAG_SETS:
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
        cmd = [cc, *flags, "-o", tmp, str(SOURCE), "-lm"]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            Path(tmp).unlink(missing_ok=True)
            return f"{cc} failed to run: {exc}"
        if run.returncode == 0:
            os.replace(tmp, target)  # atomic: a concurrent build writes the same bytes
            return None
        Path(tmp).unlink(missing_ok=True)
        errors.append(run.stderr.strip().splitlines()[-1:] or ["(no message)"])
    return f"{cc} could not build the engine: {errors[-1][0]}"


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the argument and result types of the engine's two entry points."""
    p, i, d = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    lib.insitu_feed.argtypes = [p, i]
    lib.insitu_draw.argtypes = [p, d]
    lib.insitu_next.argtypes = [p, i, d]
    for fn in (lib.insitu_feed, lib.insitu_draw, lib.insitu_next):
        fn.restype = i
    return lib


def library() -> ctypes.CDLL | None:
    """Return the loaded engine, building it on first use; None when it is unavailable.

    1. Build the library into the cache unless a build for this source, flags and CPU is there.
    2. Load it; a cached build that does not load (damaged, truncated) is deleted and rebuilt
       once before the engine is reported unavailable.
    """
    global _lib, _reason
    if os.environ.get("INSITU_NATIVE", "1").strip().lower() in OFF_VALUES:
        _reason = "switched off by INSITU_NATIVE"
        return None
    if _lib is not None:
        return _lib
    if _reason is not None and not _reason.startswith("switched off"):
        return None  # failed before in this process: do not retry on every generation
    key = hashlib.sha256(SOURCE.read_bytes() + repr(FLAG_SETS).encode() + _cpu().encode())
    target = cache_dir() / f"engine-{key.hexdigest()[:16]}.so"
    for attempt in range(2):  # a damaged cached build is rebuilt once
        if not target.is_file():
            failure = _compile(target)
            if failure:
                _reason = failure
                log.warning("native step engine unavailable: %s; using the PyTorch step path",
                            failure)  # fmt: skip
                return None
        try:
            _lib = _bind(ctypes.CDLL(str(target)))
            break
        except (OSError, AttributeError) as exc:
            _reason = f"could not load {target}: {exc}"
            if attempt == 0:
                target.unlink(missing_ok=True)
                continue
            log.warning("native step engine unavailable: %s", _reason)
            return None
    _reason = None
    return _lib


def status() -> str:
    """Return a one-line account of the engine: where it is loaded from, or why it is not."""
    lib = library()
    if lib is None:
        return f"unavailable ({_reason}); generation uses the PyTorch step path"
    return f"loaded from {lib._name}"
