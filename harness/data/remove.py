"""Take examples back out of a profile: by the file or folder they came from, or by source."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.profile import Profile
from harness.store.db import Store

#: How a stored example names an attachment in its prompt or answer JSON.
ATTACHMENT_REF = re.compile(r'"attachment": "([0-9a-f]{64})"')
#: What an example's origin is when no file is recorded: its source (chat, teacher, ...).
ORIGIN_SQL = "coalesce(json_extract(provenance, '$.file'), source)"


@dataclass
class Removal:
    """What `remove_examples` took out (or, on a dry run, would take out)."""

    #: {task: {origin: {split: count}}} of the matched examples.
    matched: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    removed: int = 0
    #: Attachment files no example or message refers to any more, deleted with the rows.
    attachments: int = 0
    dry_run: bool = False

    @property
    def total(self) -> int:
        """Return how many examples matched."""
        return sum(n for origins in self.matched.values() for splits in origins.values()
                   for n in splits.values())  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Return the removal as plain JSON data."""
        return {"matched": self.matched, "total": self.total, "removed": self.removed,
                "attachments": self.attachments, "dry_run": self.dry_run}


def origins(store: Store, task: str | None = None) -> list[dict[str, Any]]:
    """Return where a profile's examples came from: task, origin, train and held-out counts.

    The origin is the file or folder given to `insitu data add`, or the source (chat,
    teacher, correction, ...) of examples that came from no file.
    """
    sql = (f"SELECT task, {ORIGIN_SQL} AS origin, split, count(*) AS n, max(created_at) AS last "
           "FROM examples")
    params: list[Any] = []
    if task:
        sql += " WHERE task = ?"
        params.append(task)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in store.query(sql + " GROUP BY task, origin, split", params):
        row = rows.setdefault((r["task"], r["origin"]), {
            "task": r["task"], "origin": r["origin"], "train": 0, "heldout": 0, "last": 0.0})
        row[r["split"]] = row.get(r["split"], 0) + r["n"]
        row["last"] = max(row["last"], r["last"] or 0.0)
    return sorted(rows.values(), key=lambda r: (r["task"], r["last"]))


def remove_examples(profile: Profile, paths: list[Path], task: str | None = None,
                    source: str | None = None, dry_run: bool = False) -> Removal:  # fmt: skip
    """Delete the examples added from `paths` (a folder covers what came from inside it) or
    with `source`, in one transaction; then delete attachment files nothing refers to.

    1. Match rows: the recorded file equals a path or lies under it; or the source matches.
    2. Count them per task, origin and split (a dry run stops here).
    3. Delete the rows and the attachment rows no remaining example or message names.
    4. After the commit, delete those attachments' files (a kill before this leaves only
       unreferenced files behind, never a row without its file).
    """
    if not paths and source is None:
        raise DataError("nothing to remove was named",
                        "give the files or folders you added, or --source (see `insitu data "
                        "sources`)")
    where, params = _where(paths, task, source)
    removal = Removal(dry_run=dry_run)
    for r in profile.store.query(f"SELECT task, {ORIGIN_SQL} AS origin, split, count(*) AS n "
                    f"FROM examples WHERE {where} GROUP BY task, origin, split", params):
        splits = removal.matched.setdefault(r["task"], {}).setdefault(r["origin"], {})
        splits[r["split"]] = r["n"]
    if not removal.matched:
        named = ", ".join(str(p) for p in paths) or f"source {source!r}"
        raise DataError(f"no examples came from {named}" + (f" in task {task!r}" if task else ""),
                        "run `insitu data sources` to see where the examples came from")
    if dry_run:
        return removal
    with profile.store.write() as db:
        shas: set[str] = set()
        for row in db.execute(f"SELECT prompt, answer FROM examples WHERE {where}", params):
            shas.update(ATTACHMENT_REF.findall(f"{row[0]}{row[1] or ''}"))
        removal.removed = db.execute(f"DELETE FROM examples WHERE {where}", params).rowcount
        unused = shas - _referenced(db, shas)
        files = [r[0] for sha in sorted(unused) for r in db.execute(
            "SELECT path FROM attachments WHERE sha256 = ?", [sha])]
        for sha in unused:
            db.execute("DELETE FROM attachments WHERE sha256 = ?", [sha])
    for rel in files:
        target = profile.attachments_dir / rel
        if target.exists():
            target.unlink()
            removal.attachments += 1
    return removal


def _where(paths: list[Path], task: str | None, source: str | None) -> tuple[str, list[Any]]:
    """Return the WHERE clause and parameters matching the named examples."""
    clauses, params = [], []
    for path in paths:
        full = str(Path(path).expanduser().resolve())
        clauses.append("(json_extract(provenance, '$.file') = ? OR "
                       "substr(json_extract(provenance, '$.file'), 1, ?) = ?)")
        prefix = full.rstrip(os.sep) + os.sep
        params += [full, len(prefix), prefix]
    if source is not None:
        clauses.append("source = ?")
        params.append(source)
    where = "(" + " OR ".join(clauses) + ")"
    if task:
        where += " AND task = ?"
        params.append(task)
    return where, params


def _referenced(db: Any, shas: set[str]) -> set[str]:
    """Return which of `shas` a remaining example or a chat message still names."""
    if not shas:
        return set()
    used: set[str] = set()
    for row in db.execute("SELECT prompt, answer FROM examples WHERE prompt LIKE "
                          "'%\"attachment\"%' OR answer LIKE '%\"attachment\"%'"):
        used.update(s for s in ATTACHMENT_REF.findall(f"{row[0]}{row[1] or ''}") if s in shas)
    for (parts,) in db.execute("SELECT parts FROM messages WHERE parts LIKE '%\"attachment\"%'"):
        used.update(s for s in ATTACHMENT_REF.findall(parts) if s in shas)
    for (sha,) in db.execute("SELECT DISTINCT sha256 FROM message_attachments"):
        if sha in shas:
            used.add(sha)
    return used

