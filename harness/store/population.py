"""Genomes, individuals and lineage in the store: the population survives any crash."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from harness.ids import new_id
from harness.store.db import Store


@dataclass
class Parent:
    """One parent link of a new individual: who, in what role, by which operator."""

    id: str
    role: str = "parent"  # parent | merge_partner | import
    operator: str = ""


def put_genome(store: Store, genome_id: str, genome_json: str, family: str, params: int) -> str:
    """Store a genome by its content hash (idempotent); return the id."""
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO genomes (id, family, params, json, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [genome_id, family, params, genome_json, time.time()],
        )
    return genome_id


def add_individual(
    store: Store,
    genome_id: str,
    *,
    checkpoint: str | None = None,
    checkpoint_sha256: str | None = None,
    generation: int = 0,
    metrics: dict[str, Any] | None = None,
    fitness: float | None = None,
    parents: list[Parent] | None = None,
    status: str = "alive",
    individual_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """Record an evaluated individual and its lineage in one transaction; return its id.

    `extra` fills further columns (run_id, birth, phase, operator from migration 0002).
    """
    iid = individual_id or new_id()
    now = time.time()
    with store.write() as db:
        db.table("individuals").insert(
            {
                "id": iid,
                "genome_id": genome_id,
                "status": status,
                "generation": generation,
                "checkpoint": checkpoint,
                "checkpoint_sha256": checkpoint_sha256,
                "metrics": json.dumps(metrics or {}, sort_keys=True),
                "fitness": fitness,
                "born_at": now,
                "died_at": None,
                **(extra or {}),
            }
        )
        for p in parents or []:
            db.table("lineage").insert(
                {
                    "id": new_id(),
                    "child_id": iid,
                    "parent_id": p.id,
                    "role": p.role,
                    "operator": p.operator,
                    "created_at": now,
                }
            )
    return iid


def set_status(store: Store, individual_id: str, status: str) -> None:
    """Change an individual's status (alive, dead, champion); dead ones get a death time."""
    died = time.time() if status == "dead" else None
    with store.write() as db:
        db.execute(
            "UPDATE individuals SET status = ?, died_at = COALESCE(?, died_at) WHERE id = ?",
            [status, died, individual_id],
        )


def update_metrics(
    store: Store, individual_id: str, metrics: dict[str, Any], fitness: float | None
) -> None:
    """Replace an individual's metrics and fitness."""
    with store.write() as db:
        db.execute(
            "UPDATE individuals SET metrics = ?, fitness = ? WHERE id = ?",
            [json.dumps(metrics, sort_keys=True), fitness, individual_id],
        )


def _row(r: dict[str, Any]) -> dict[str, Any]:
    r = dict(r)
    r["metrics"] = json.loads(r.get("metrics") or "{}")
    return r


def individuals(store: Store, status: str | None = None) -> list[dict[str, Any]]:
    """Return individuals (with family and params), oldest first, optionally by status."""
    sql = (
        "SELECT i.*, g.family, g.params FROM individuals i JOIN genomes g ON g.id = i.genome_id"
    )
    params: list[Any] = []
    if status:
        sql += " WHERE i.status = ?"
        params.append(status)
    return [_row(r) for r in store.query(sql + " ORDER BY i.id", params)]


def get_individual(store: Store, individual_id: str) -> dict[str, Any] | None:
    """Return one individual with its genome JSON, or None (ids may be given by prefix)."""
    rows = store.query(
        "SELECT i.*, g.family, g.params, g.json AS genome FROM individuals i "
        "JOIN genomes g ON g.id = i.genome_id WHERE i.id LIKE ? ORDER BY i.id LIMIT 2",
        [individual_id + "%"],
    )
    return _row(rows[0]) if len(rows) == 1 else None


def parents_of(store: Store, individual_id: str) -> list[dict[str, Any]]:
    """Return the lineage rows whose child is `individual_id`."""
    return store.query("SELECT * FROM lineage WHERE child_id = ? ORDER BY id", [individual_id])
