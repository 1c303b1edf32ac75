"""What a run reports back: the summary of a call and the leaderboard of the population."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.cliutil import counted
from harness.store.db import Store

from .ledger import Ledger
from .member import Member
from .persist import RunState, latest_run, member_rows
from .reporters import Reporter
from .selection import front
from .settings import Settings, Strategies


def board(members: list[Member], metric: str) -> list[dict[str, Any]]:
    """Return leaderboard rows, best first: later phase, then held-out quality, then size."""
    on_front = {m.id for m in front(members)}
    ranked = sorted(
        members,
        key=lambda m: (-m.phase_rank, -(m.final_quality if m.final_quality is not None
                                        else float("-inf")), m.params, m.birth),
    )  # fmt: skip
    rows = []
    for rank, m in enumerate(ranked, 1):
        row = m.row()
        row.update(rank=rank, front=m.id in on_front, metric=metric)
        rows.append(row)
    return rows


#: how `Summary.line` says why a run stopped
STOPPED = {"goal": "done", "deadline": "time is up",
           "interrupted": "interrupted; `insitu evolve` resumes where it stopped"}  # fmt: skip


@dataclass
class Summary:
    """The outcome of one `run` call."""

    run_id: str
    tasks: list[str]
    generation: int  # the last generation completed (0: the seeds; -1: seeding unfinished)
    evaluations: int  # evaluations finished during this call
    seconds: float
    stopped: str  # goal | deadline | interrupted
    metric: str  # the held-out quality metric (higher score is better; bpb is negated)
    champion: dict[str, Any] | None
    leaderboard: list[dict[str, Any]] = field(default_factory=list)

    @property
    def front(self) -> list[str]:
        """Return the ids of the Pareto front."""
        return [r["id"] for r in self.leaderboard if r["front"]]

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-able data."""
        return {**asdict(self), "front": self.front}

    def line(self) -> str:
        """Return the one-line account `insitu evolve` prints above its leaderboard."""
        done = (f"generation {self.generation}" if self.generation >= 0
                else "the seeds not all measured yet")  # fmt: skip
        why = STOPPED.get(self.stopped, self.stopped)
        return (f"run {self.run_id}: {done}, {counted(self.evaluations, 'evaluation')} in "
                f"{self.seconds:.0f} s ({why})")  # fmt: skip


def stored_board(
    store: Store, run_id: str | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Return (run row, leaderboard rows) of a run (default: the profile's latest run)."""
    if run_id is None:
        run = latest_run(store)
    else:
        found = store.query("SELECT * FROM evolution_runs WHERE id = ?", [run_id])
        run = found[0] if found else None
    if run is None:
        return None, []
    data = json.loads(run["settings"] or "{}")
    settings = Settings.from_dict(data)
    kinds = data.get("task_kinds") or {t: "text" for t in run["tasks"].split(",")}
    strategies = Strategies.default(kinds, settings, breeding=False)
    ledger = Ledger(store, store.path.parent, run["id"], RunState.from_json(run["state"]),
                    strategies, Reporter())  # fmt: skip
    metric = strategies.phases.phases[-1].quality.label()
    return run, board(ledger.members, metric)


def current_champion(store: Store, task: str | None = None) -> dict[str, Any] | None:
    """Return the champion of the latest active run (evolving `task`, if given), or None.

    The row has the individual's columns, `genome` (JSON text) and `checkpoint` relative to the
    profile folder (`profile.path / row["checkpoint"]` is the safetensors file).
    """
    for run in store.query("SELECT id, tasks FROM evolution_runs WHERE status = 'active' "
                           "ORDER BY updated_at DESC, id DESC"):  # fmt: skip
        if task is not None and task not in run["tasks"].split(","):
            continue
        rows = store.query(
            "SELECT i.*, g.family, g.json AS genome FROM individuals i JOIN genomes g "
            "ON g.id = i.genome_id WHERE i.run_id = ? AND i.status = 'champion'", [run["id"]])
        if rows:
            row = dict(rows[0])
            row["metrics"] = json.loads(row["metrics"] or "{}")
            return row
    return None


def lineage_rows(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Return every evaluated individual of a run in birth order (for plots and trees)."""
    return member_rows(store, run_id, ("alive", "champion", "dead", "refused", "failed",
                                       "evaluated"))  # fmt: skip
