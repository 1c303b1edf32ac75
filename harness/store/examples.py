"""Examples of a task in the store: deduplicated inserts, splits and reads."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from harness.ids import new_id
from harness.store.db import Store
from harness.types import Example

SPLITS = ("train", "heldout")


def example_hash(ex: Example) -> str:
    """Return the content hash used to deduplicate examples within a task."""
    body = {
        "prompt": [p.to_dict() for p in ex.prompt],
        "answer": None if ex.answer is None else [p.to_dict() for p in ex.answer],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def hash_split(key: str, heldout_fraction: float) -> str:
    """Return a stable split for an independent sample: held out when its hash falls below f."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "heldout" if bucket < heldout_fraction else "train"


def add_examples(
    store: Store,
    rows: Iterable[tuple[Example, str]],
    provenance: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> tuple[int, int]:
    """Insert (example, split) pairs in one transaction; return (added, duplicates)."""
    added = dupes = 0
    prov = json.dumps(provenance, sort_keys=True) if provenance else None
    with store.write() as db:
        for ex, split in rows:
            h = example_hash(ex)
            cur = db.execute(
                "INSERT OR IGNORE INTO examples (id, task, prompt, answer, source, split, weight, "
                "hash, message_id, provenance, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    new_id(),
                    ex.task,
                    json.dumps([p.to_dict(inline=False) for p in ex.prompt]),
                    None if ex.answer is None
                    else json.dumps([p.to_dict(inline=False) for p in ex.answer]),
                    ex.source,
                    split,
                    ex.weight,
                    h,
                    message_id,
                    prov,
                    ex.created_at or time.time(),
                ],
            )
            if cur.rowcount:
                added += 1
            else:
                dupes += 1
    return added, dupes


def iter_examples(store: Store, task: str, split: str | None = None) -> Iterator[Example]:
    """Yield a task's examples in insertion order, optionally of one split."""
    sql = "SELECT prompt, answer, task, source, weight, created_at FROM examples WHERE task = ?"
    params: list[Any] = [task]
    if split:
        sql += " AND split = ?"
        params.append(split)
    for row in store.query(sql + " ORDER BY id", params):
        yield Example.from_dict(
            {
                "prompt": json.loads(row["prompt"]),
                "answer": None if row["answer"] is None else json.loads(row["answer"]),
                "task": row["task"],
                "source": row["source"],
                "weight": row["weight"],
                "created_at": row["created_at"],
            }
        )


def split_counts(store: Store, task: str | None = None) -> dict[str, dict[str, int]]:
    """Return {task: {split: count}} for one task or all."""
    sql = "SELECT task, split, count(*) AS n FROM examples"
    params: list[Any] = []
    if task:
        sql += " WHERE task = ?"
        params.append(task)
    out: dict[str, dict[str, int]] = {}
    for row in store.query(sql + " GROUP BY task, split", params):
        out.setdefault(row["task"], {})[row["split"]] = row["n"]
    return out
