"""What the population screen shows, read from the profile's store (never invented)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.store.db import Store
from harness.store.population import individuals

LEADERBOARD_SIZE = 12
RECENT_EVENTS = 15


@dataclass
class PopulationState:
    """The champion, a leaderboard, recent events and the fitness of individuals by birth."""

    champion: dict[str, Any] | None = None
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    fitness: list[float] = field(default_factory=list)
    total: int = 0
    alive: int = 0

    @property
    def empty(self) -> bool:
        """Return True when no evolution has run in this profile (online learning may have)."""
        return self.total == 0


def load_population(store: Store) -> PopulationState:
    """Read individuals and events from the store."""
    rows = individuals(store)
    state = PopulationState(total=len(rows))
    state.alive = sum(r["status"] in ("alive", "champion") for r in rows)
    champions = [r for r in rows if r["status"] == "champion"]
    if champions:
        state.champion = max(champions, key=lambda r: r.get("born_at") or 0.0)
    ranked = [r for r in rows if r.get("fitness") is not None]
    ranked.sort(key=lambda r: (-float(r["fitness"]), r["id"]))
    state.leaderboard = ranked[:LEADERBOARD_SIZE]
    born = sorted(ranked, key=lambda r: (r.get("born_at") or 0.0, r["id"]))
    state.fitness = [float(r["fitness"]) for r in born]
    state.events = [_event(e) for e in store.query(
        "SELECT * FROM events ORDER BY created_at DESC, id DESC LIMIT ?", [RECENT_EVENTS])]
    return state


def _event(row: dict[str, Any]) -> dict[str, Any]:
    """Return an event row with its payload decoded."""
    row = dict(row)
    try:
        row["payload"] = json.loads(row.get("payload") or "{}")
    except json.JSONDecodeError:
        row["payload"] = {"raw": row.get("payload")}
    return row


def payload_summary(payload: Any, width: int = 60) -> str:
    """Return 'key=value ...' of an event payload, cut to `width` characters."""
    if not isinstance(payload, dict):
        text = str(payload)
    else:
        text = " ".join(f"{k}={_short(v)}" for k, v in sorted(payload.items()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(value: Any) -> str:
    """Return a compact form of one payload value."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))[:24]
    return str(value)


def phase_of(row: dict[str, Any]) -> str:
    """Return an individual's phase (a column, or inside its metrics)."""
    return str(row.get("phase") or row.get("metrics", {}).get("phase") or "-")


def task_metrics(metrics: dict[str, Any], per_task: int = 4) -> list[str]:
    """Return one line per task from `task/metric` and `gate/task/metric` keys of a champion.

    A profile grown from a friend's bundle keeps its old task as a gate set: both tasks show,
    e.g. "spoken: accuracy 0.85" and "mnist (gate): accuracy 0.844".
    """
    groups: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        parts = key.split("/")
        if len(parts) == 2:
            groups.setdefault(parts[0], {})[parts[1]] = float(value)
        elif len(parts) == 3 and parts[0] == "gate":
            groups.setdefault(f"{parts[1]} (gate)", {})[parts[2]] = float(value)
    return [f"{task}: " + ", ".join(f"{name} {value:.3g}"
                                    for name, value in sorted(values.items())[:per_task])
            for task, values in sorted(groups.items())]  # fmt: skip
