"""CPU share and peak memory of a process tree, sampled from /proc (Linux; stdlib only)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _stat(pid: int) -> tuple[int, int, int] | None:
    """Return (parent pid, CPU ticks used, resident bytes) of a process, or None if gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
        rss_pages = int((PROC / str(pid) / "statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    fields = raw[raw.rfind(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[11]) + int(fields[12]), rss_pages * PAGE


def tree(root: int) -> dict[int, tuple[int, int]]:
    """Return {pid: (CPU ticks, resident bytes)} for `root` and all its descendants."""
    stats: dict[int, tuple[int, int, int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (s := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = s
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, tuple[int, int]] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in out:
            out[pid] = stats[pid][1:]
            todo.extend(children.get(pid, []))
    return out


@dataclass
class TreeUsage:
    """What a sampled process tree used: CPU in cores (mean over the window), peak memory."""

    seconds: float
    cpu_cores: float
    peak_rss_mb: float
    processes: int


class TreeSampler(threading.Thread):
    """Samples a process tree every `interval` seconds until stopped; `usage()` sums it up.

    CPU time of processes that exited between samples is lost, so the share is a lower bound
    for short-lived children (evaluation processes here live for many seconds).
    """

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(name="insitu-tree-sampler", daemon=True)
        self.root = root
        self.interval = interval
        self._stop_event = threading.Event()
        self._ticks: dict[int, int] = {}
        self._first: dict[int, int] = {}
        self._peak = 0
        self._seen: set[int] = set()
        self._start = time.monotonic()
        self._end: float | None = None

    def run(self) -> None:
        """Sample until stopped: per-process CPU ticks (first and last) and the peak RSS sum."""
        while not self._stop_event.is_set():
            snap = tree(self.root)
            first_round = not self._seen
            for pid, (ticks, _) in snap.items():
                # processes alive at the start count from then; later ones from their birth
                self._first.setdefault(pid, ticks if first_round else 0)
                self._ticks[pid] = ticks
                self._seen.add(pid)
            self._peak = max(self._peak, sum(rss for _, rss in snap.values()))
            self._stop_event.wait(self.interval)

    def stop(self) -> TreeUsage:
        """Stop sampling and return the usage over the window."""
        self._stop_event.set()
        self.join()
        self._end = time.monotonic()
        return self.usage()

    def usage(self) -> TreeUsage:
        """Return the usage so far."""
        seconds = (self._end or time.monotonic()) - self._start
        used = sum(self._ticks[p] - self._first.get(p, 0) for p in self._ticks) / TICKS
        return TreeUsage(seconds=seconds, cpu_cores=used / seconds if seconds else 0.0,
                         peak_rss_mb=self._peak / 2**20, processes=len(self._seen))  # fmt: skip
