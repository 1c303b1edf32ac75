"""Reporters: where the engine's progress goes (console line, store events, JSON lines, a TUI).

A reporter implements any of four callbacks; the base class ignores them all. The engine calls
them after (or inside) the store transaction that makes a change durable, in a fixed order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.store.db import Store
from harness.store.records import add_event

from .member import Member


@dataclass
class Progress:
    """Where a run stands: the generation, the evaluations done and to do, fitness and ETA."""

    run_id: str
    generation: int
    goal: int | None  # last generation of this session (None: a time budget)
    evaluations: int  # evaluations finished in this session
    pending: int  # evaluations left in the current generation
    best: float | None  # the held-out metric of the best member (bpb, accuracy ...)
    median: float | None
    metric: str
    candidate: str = ""  # what is being evaluated now
    eta_s: float | None = None
    stage: str = ""  # grow | prune
    higher_is_better: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class Reporter:
    """Receives the engine's progress; override the callbacks you need."""

    def on_generation(self, progress: Progress) -> None:
        """Called when a generation is planned and after every evaluation."""

    def on_individual(self, member: Member) -> None:
        """Called when an evaluated individual is recorded."""

    def on_event(self, kind: str, payload: dict[str, Any], individual_id: str | None) -> None:
        """Called for every event (mutation, merge, merge_refused, phase change, death ...)."""

    def on_champion(self, member: Member) -> None:
        """Called when a new champion is crowned."""

    def close(self) -> None:
        """Called once when the run ends."""


class Fanout(Reporter):
    """Forward every callback to several reporters, in order."""

    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self.reporters = list(reporters)

    def on_generation(self, progress: Progress) -> None:
        """Forward to every reporter."""
        for r in self.reporters:
            r.on_generation(progress)

    def on_individual(self, member: Member) -> None:
        """Forward to every reporter."""
        for r in self.reporters:
            r.on_individual(member)

    def on_event(self, kind: str, payload: dict[str, Any], individual_id: str | None) -> None:
        """Forward to every reporter."""
        for r in self.reporters:
            r.on_event(kind, payload, individual_id)

    def on_champion(self, member: Member) -> None:
        """Forward to every reporter."""
        for r in self.reporters:
            r.on_champion(member)

    def close(self) -> None:
        """Close every reporter."""
        for r in self.reporters:
            r.close()


class StoreReporter(Reporter):
    """Write every event to the profile's events table (inside the engine's transaction)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_event(self, kind: str, payload: dict[str, Any], individual_id: str | None) -> None:
        """Insert the event row."""
        add_event(self.store, kind, payload, individual_id)


class JsonlReporter(Reporter):
    """Append one JSON object per callback to a file (for scripts and dashboards)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = self.path.open("a", encoding="utf-8")

    def _write(self, kind: str, data: dict[str, Any]) -> None:
        self._fh.write(json.dumps({"type": kind, "time": time.time(), **data}, default=str) + "\n")
        self._fh.flush()

    def on_generation(self, progress: Progress) -> None:
        """Write the progress."""
        self._write("progress", progress.__dict__)

    def on_individual(self, member: Member) -> None:
        """Write the individual's summary."""
        self._write("individual", member.row())

    def on_event(self, kind: str, payload: dict[str, Any], individual_id: str | None) -> None:
        """Write the event."""
        self._write("event", {"kind": kind, "individual_id": individual_id, "payload": payload})

    def on_champion(self, member: Member) -> None:
        """Write the new champion."""
        self._write("champion", member.row())

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


def _duration(seconds: float | None) -> str:
    """Return a short duration like 1h02m, 3m20s or 45s."""
    if seconds is None:
        return "?"
    s = int(max(0.0, seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _short(v: str | int | float) -> str:
    """Return a value for a console line: floats with 4 significant digits, ids shortened."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str) and len(v) == 26 and v.isalnum():
        return v[-6:]
    return str(v)


def _num(v: float | None) -> str:
    """Return a fitness value with 3 decimals, or '-'."""
    return "-" if v is None else f"{v:.3f}"


class ConsoleReporter(Reporter):
    """A live status line plus one line per notable event, written through `write`."""

    NOTABLE = frozenset({"merge", "merge_refused", "phase_advanced", "gate_failed",
                         "evaluation_failed", "candidate_skipped", "resumed"})  # fmt: skip

    def __init__(self, write: Callable[[str], None], live: bool = True) -> None:
        self.write = write
        self.live = live
        self._last = 0
        self._metric, self._sign = "quality", 1.0

    def _line(self, text: str) -> None:
        """Write a normal line (clearing the live line first)."""
        if self.live and self._last:
            self.write("\r" + " " * self._last + "\r")
            self._last = 0
        self.write(text + "\n")

    def on_generation(self, progress: Progress) -> None:
        """Show generation, best/median fitness, the current candidate and the ETA."""
        self._metric, self._sign = progress.metric, 1.0 if progress.higher_is_better else -1.0
        gen = f"gen {progress.generation}" + (f"/{progress.goal}" if progress.goal else "")
        text = (
            f"{gen} [{progress.stage or 'seed'}]  {progress.metric} best {_num(progress.best)}  "
            f"median {_num(progress.median)}  evals {progress.evaluations} "
            f"(+{progress.pending} queued)  {progress.candidate}  ETA {_duration(progress.eta_s)}"
        )
        if self.live:
            pad = max(0, self._last - len(text))
            self.write("\r" + text + " " * pad)
            self._last = len(text)
        else:
            self._line(text)

    def on_event(self, kind: str, payload: dict[str, Any], individual_id: str | None) -> None:
        """Print notable events on their own line."""
        if kind not in self.NOTABLE or (kind == "phase_advanced" and payload.get("value") is None):
            return  # (a corpus without pairs has no recall to gate on: not worth a line)
        who = f" {individual_id[-6:]}" if individual_id else ""
        brief = payload.get("message") or ", ".join(
            f"{k}={_short(v)}" for k, v in payload.items() if isinstance(v, str | int | float)
        )
        self._line(f"  {kind}{who}: {brief}"[:200])

    def on_champion(self, member: Member) -> None:
        """Announce the champion."""
        q = None if member.final_quality is None else self._sign * member.final_quality
        self._line(
            f"  champion {member.id[-6:]}: {member.family}, {member.params:,} params, "
            f"{self._metric} {_num(q)}"
        )

    def close(self) -> None:
        """End the live line."""
        if self.live and self._last:
            self.write("\n")
            self._last = 0
