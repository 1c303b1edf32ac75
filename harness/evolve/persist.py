"""Evolution state in the profile store: runs (RNG state, counters), planned slots and members.

A run is identified by its task set. Its `state` JSON holds what a resumed run needs to continue
exactly: the RNG state after the last planning, the generation, how many slots of it are
integrated, the birth and innovation counters, the champion and the session's goal. Every change
is written inside the caller's transaction (`Store.write()` nests), so a kill loses nothing that
was committed and repeats nothing that was.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.genome import canonical_json
from harness.store.db import Store
from harness.store.population import Parent, add_individual, put_genome

from .member import Member


def rng_state(rng: random.Random) -> list[Any]:
    """Return a random.Random's state as JSON-able data."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_rng_state(rng: random.Random, data: list[Any]) -> None:
    """Restore a random.Random from `rng_state` data."""
    rng.setstate((data[0], tuple(data[1]), data[2]))


@dataclass
class RunState:
    """The resumable counters of a run."""

    generation: int = 0  # the generation being bred (0: the seeds)
    planned: bool = False  # its slots are in the store
    slots: int = 0  # how many slots it has
    integrated: int = 0  # how many of them joined the population (in slot order)
    births: int = 0  # birth counter (age order)
    innovation: int = 1  # next population-wide innovation number
    size: int = 0  # the population size aging keeps
    evaluations: int = 0  # evaluations finished in the run
    champion: str | None = None
    goal: int | None = None  # last generation of an unfinished session (None: no open goal)
    rng: list[Any] = field(default_factory=list)

    def to_json(self) -> str:
        """Return the state as JSON text."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> RunState:
        """Return a state from JSON text."""
        return cls(**json.loads(text))


@dataclass
class Slot:
    """One planned evaluation of a generation."""

    generation: int
    slot: int
    birth: int
    plan: dict[str, Any]
    state: str = "planned"  # planned | done | integrated
    individual_id: str | None = None


def run_key(tasks: list[str]) -> str:
    """Return the key of a run: its sorted task names."""
    return ",".join(sorted(tasks))


def find_run(store: Store, tasks: list[str]) -> dict[str, Any] | None:
    """Return the active run of a task set, or None."""
    rows = store.query(
        "SELECT * FROM evolution_runs WHERE tasks = ? AND status = 'active' ORDER BY id DESC "
        "LIMIT 1",
        [run_key(tasks)],
    )
    return rows[0] if rows else None


def latest_run(store: Store) -> dict[str, Any] | None:
    """Return the most recently updated run of the profile, or None."""
    rows = store.query("SELECT * FROM evolution_runs ORDER BY updated_at DESC, id DESC LIMIT 1")
    return rows[0] if rows else None


def create_run(
    store: Store, run_id: str, tasks: list[str], seed: int, settings: dict[str, Any],
    state: RunState,
) -> None:  # fmt: skip
    """Insert a new active run."""
    now = time.time()
    with store.write() as db:
        db.table("evolution_runs").insert(
            {"id": run_id, "tasks": run_key(tasks), "seed": seed,
             "settings": json.dumps({**settings, "task_kinds": settings.get("task_kinds", {})}),
             "state": state.to_json(), "status": "active", "created_at": now, "updated_at": now}
        )  # fmt: skip


def end_run(store: Store, run_id: str) -> None:
    """Mark a run ended (a new run of the same tasks starts from fresh seeds)."""
    with store.write() as db:
        db.execute("UPDATE evolution_runs SET status = 'ended', updated_at = ? WHERE id = ?",
                   [time.time(), run_id])  # fmt: skip
        db.execute("UPDATE individuals SET status = 'dead', died_at = ? WHERE run_id = ? AND "
                   "status IN ('alive', 'evaluated', 'champion')",
                   [time.time(), run_id])  # fmt: skip


def save_state(store: Store, run_id: str, state: RunState) -> None:
    """Write a run's state (joins the caller's transaction)."""
    with store.write() as db:
        db.execute("UPDATE evolution_runs SET state = ?, updated_at = ? WHERE id = ?",
                   [state.to_json(), time.time(), run_id])  # fmt: skip


def add_slots(store: Store, run_id: str, slots: list[Slot]) -> None:
    """Insert (or replace) the planned slots of a generation."""
    now = time.time()
    with store.write() as db:
        for s in slots:
            db.execute(
                "INSERT OR REPLACE INTO evolution_slots (run_id, generation, slot, birth, plan, "
                "state, individual_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, s.generation, s.slot, s.birth, json.dumps(s.plan), s.state,
                 s.individual_id, now],
            )  # fmt: skip


def load_slots(store: Store, run_id: str, generation: int) -> list[Slot]:
    """Return the slots of a generation, in slot order."""
    rows = store.query(
        "SELECT * FROM evolution_slots WHERE run_id = ? AND generation = ? ORDER BY slot",
        [run_id, generation],
    )
    return [Slot(r["generation"], r["slot"], r["birth"], json.loads(r["plan"]), r["state"],
                 r["individual_id"]) for r in rows]  # fmt: skip


def set_slot(store: Store, run_id: str, slot: Slot) -> None:
    """Write a slot's state and individual."""
    with store.write() as db:
        db.execute(
            "UPDATE evolution_slots SET state = ?, individual_id = ? WHERE run_id = ? AND "
            "generation = ? AND slot = ?",
            [slot.state, slot.individual_id, run_id, slot.generation, slot.slot],
        )


def record_member(store: Store, run_id: str, m: Member, parents: list[Parent]) -> None:
    """Store an evaluated individual: its genome, row and lineage."""
    put_genome(store, m.genome_id, canonical_json(m.genome), m.family, m.params)
    add_individual(
        store, m.genome_id, checkpoint=m.checkpoint or None,
        checkpoint_sha256=m.checkpoint_sha256 or None,
        generation=m.generation, metrics=m.metrics, fitness=m.fitness, parents=parents,
        status=m.status, individual_id=m.id,
        extra={"run_id": run_id, "birth": m.birth, "phase": m.phase, "operator": m.operator},
    )  # fmt: skip


def member_rows(store: Store, run_id: str, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """Return a run's individual rows with their genome JSON, in birth order."""
    marks = ",".join("?" for _ in statuses)
    rows = store.query(
        "SELECT i.*, g.json AS genome_json, g.family FROM individuals i JOIN genomes g "
        f"ON g.id = i.genome_id WHERE i.run_id = ? AND i.status IN ({marks}) ORDER BY i.birth",
        [run_id, *statuses],
    )
    for r in rows:
        r["metrics"] = json.loads(r["metrics"] or "{}")
        r["genome"] = json.loads(r.pop("genome_json"))
    return rows


def parent_ids(store: Store, individual_id: str) -> list[dict[str, Any]]:
    """Return the lineage rows of an individual (parent id, role, operator)."""
    return store.query(
        "SELECT parent_id, role, operator FROM lineage WHERE child_id = ? ORDER BY role DESC, id",
        [individual_id],
    )
