"""`import_bundle`: a verified bundle becomes a NEW profile (built aside, then renamed).

Nothing is written until `read_bundle` has checked every byte. The profile is built in a
staging folder beside the profiles and renamed into place in one step, so a failure at any
point leaves no profile (and never touches an existing one). The bundle's manifest, card and
gate sets are kept in the profile's `bundle/` folder; the lineage history in the setting
`bundle:lineage`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import ProfileConfig, parse_config
from harness.errors import InsituError, ProfileError
from harness.genome import canonical_json, content_hash
from harness.ids import new_id
from harness.paths import check_profile_name, profile_dir, profiles_dir
from harness.profile import DB_NAME, Profile
from harness.store.db import Store
from harness.store.files import _fsync_dir
from harness.store.population import Parent, add_individual, put_genome
from harness.store.records import add_event, set_setting

from . import format as fmt
from .format import BundleError
from .gate import loads_examples
from .verify import Bundle, read_bundle

Progress = Callable[[float, str], None]
#: The folder inside an imported profile that keeps the bundle's manifest, card and gate sets.
BUNDLE_DIR = "bundle"
_DAMAGED = "the bundle is damaged; ask for it again"
_SHA = re.compile(r"[0-9a-f]{64}")


def _config(bundle: Bundle) -> tuple[ProfileConfig, str]:
    """Return the bundle's validated profile config and template name."""
    try:
        data = bundle.json("profile/config.json")
        return parse_config(data["config"], "the bundle's profile/config.json"), str(
            data.get("template", "bundle"))
    except InsituError as exc:
        raise BundleError(f"the bundle's profile config is invalid: {exc.message}",
                          _DAMAGED) from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BundleError(f"the bundle's profile config is unreadable ({exc})",
                          _DAMAGED) from None


def _data_rows(bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """Return the data tables' rows, checked to hold only known columns and plain values."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table, columns in fmt.DATA_TABLES.items():
        name = f"data/{table}.jsonl"
        if name not in bundle.files:
            continue
        rows = bundle.jsonl(name)
        for row in rows:
            if not isinstance(row, dict) or set(row) - set(columns) or not all(
                v is None or isinstance(v, str | int | float) for v in row.values()
            ):  # fmt: skip
                raise BundleError(f"{name} holds a row this insitu cannot store", _DAMAGED)
        for row in rows:
            _check_refs(name, row)
        out[table] = rows
    return out


def _check_refs(name: str, row: dict[str, Any]) -> None:
    """Refuse attachment references that are not sha256 hex (they become file paths later)."""
    shas = [row["sha256"]] if "sha256" in row else []
    for column in ("prompt", "answer", "parts"):
        if isinstance(row.get(column), str):
            try:
                parts = json.loads(row[column])
            except ValueError:
                raise BundleError(f"{name} holds unreadable {column} JSON", _DAMAGED) from None
            if isinstance(parts, list):
                shas += [p.get("attachment") for p in parts
                         if isinstance(p, dict) and p.get("attachment") is not None]
    for sha in shas:
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise BundleError(f"{name} references the attachment {str(sha)[:80]!r}, which is not "
                              "a sha256", "the bundle is unsafe and was not imported")


def _members(bundle: Bundle) -> list[tuple[str, dict[str, Any], dict[str, Any], bytes]]:
    """Return (folder, genome, individual record, checkpoint bytes): the champion first."""
    out = []
    folders = ["champion"] + sorted({n.split("/")[1] for n in bundle.files
                                     if n.startswith("population/")})  # fmt: skip
    for folder in folders:
        base = folder if folder == "champion" else f"population/{folder}"
        try:
            record = bundle.json(f"{base}/individual.json")
            genome = bundle.json(f"{base}/genome.json")
        except KeyError as exc:
            raise BundleError(f"the bundle lacks {exc}", _DAMAGED) from None
        if not isinstance(record, dict) or not isinstance(record.get("id"), str) \
                or not record["id"].replace("-", "").isalnum() or len(record["id"]) > 64:
            raise BundleError(f"{base}/individual.json has no valid id", _DAMAGED)
        out.append((base, genome, record, bundle.files[f"{base}/model.safetensors"]))
    return out


def _plan(bundle: Bundle) -> dict[str, Any]:
    """Check everything the import will write (parsed in memory) and return it."""
    config, template = _config(bundle)
    gates = {}
    for name in bundle.files:
        if name.startswith("gates/") and name.endswith(".jsonl"):
            gates[name] = loads_examples(bundle.files[name], name)
            for ex in gates[name]:
                _check_refs(name, {"prompt": json.dumps([p.to_dict(inline=False) for p in
                                                         [*ex.prompt, *(ex.answer or [])]])})
    lineage = bundle.json("profile/lineage.json") if "profile/lineage.json" in bundle.files \
        else []
    if not isinstance(lineage, list):
        raise BundleError("profile/lineage.json is not a list", _DAMAGED)
    teachers = bundle.json("profile/teachers.json") if "profile/teachers.json" in bundle.files \
        else None
    return {"config": config, "template": template, "members": _members(bundle),
            "data": _data_rows(bundle), "lineage": lineage, "teachers": teachers}  # fmt: skip


def _write_members(store: Store, root: Path, plan: dict[str, Any], source: str) -> None:
    """Store genomes, individuals (champion first), lineage and checkpoint files."""
    (root / "checkpoints" / "imported").mkdir(parents=True, exist_ok=True)
    for base, genome, record, blob in plan["members"]:
        iid = record["id"]
        rel = f"checkpoints/imported/{iid}.safetensors"
        (root / rel).write_bytes(blob)
        gid = content_hash(genome)
        params = int(record.get("params") or 0)
        put_genome(store, gid, canonical_json(genome), str(genome.get("family", "random")), params)
        parents = [Parent(f"{source}/{iid}", "import", "bundle")]
        for p in record.get("parents") or []:
            if isinstance(p, dict) and isinstance(p.get("parent_id"), str):
                parents.append(Parent(p["parent_id"], str(p.get("role", "parent")),
                                      str(p.get("operator", ""))))
        metrics = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
        fitness = record.get("fitness")
        add_individual(
            store, gid, checkpoint=rel, checkpoint_sha256=hashlib.sha256(blob).hexdigest(),
            generation=int(record.get("generation") or 0), metrics=metrics,
            fitness=float(fitness) if isinstance(fitness, int | float) else None,
            parents=parents, status="champion" if base == "champion" else "alive",
            individual_id=iid, extra={"operator": "import", "phase": "imported"},
        )  # fmt: skip


def _write_data(store: Store, root: Path, bundle: Bundle, rows: dict[str, list[dict[str, Any]]]
                ) -> None:  # fmt: skip
    """Insert the data tables' rows and write the attachments content-addressed."""
    for name, blob in bundle.files.items():
        if name.startswith(("data/attachments/", "gates/attachments/")):
            sha = name.rsplit("/", 1)[1]
            target = root / "attachments" / sha[:2] / sha
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
    with store.write() as db:
        for table, items in rows.items():
            for row in items:
                if table == "attachments":
                    row = {**row, "path": f"{row['sha256'][:2]}/{row['sha256']}"}
                db.table(table).insert(row, ignore=True)


def _write_bundle_dir(root: Path, bundle: Bundle) -> None:
    """Keep the manifest, card and gate sets in the profile's bundle/ folder."""
    folder = root / BUNDLE_DIR
    (folder / "gates").mkdir(parents=True)
    (folder / fmt.MANIFEST).write_text(json.dumps(bundle.manifest, indent=2, sort_keys=True))
    for name, blob in bundle.files.items():
        if name == fmt.CARD or (name.startswith("gates/") and "/attachments/" not in name) \
                or name.startswith("tasks/"):
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)


def _build(staging: Path, name: str, bundle: Bundle, plan: dict[str, Any]) -> None:
    """Write the whole profile into the staging folder."""
    for sub in ("checkpoints", "attachments"):
        (staging / sub).mkdir()
    source = str(bundle.manifest.get("profile", {}).get("name", "bundle"))[:64]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    lineage = [*plan["lineage"], {"action": "imported", "profile": name, "at": now,
                                  "insitu": __version__, "from": bundle.path.name,
                                  "champion": plan["members"][0][2]["id"],
                                  "tasks": bundle.tasks}]  # fmt: skip
    with Store(staging / DB_NAME, create=True) as store:
        set_setting(store, "config", plan["config"].to_dict())
        set_setting(store, "template", plan["template"])
        set_setting(store, "created_at", time.time())
        set_setting(store, "created_with", __version__)
        set_setting(store, "bundle:lineage", lineage)
        if plan["teachers"]:
            set_setting(store, "teachers", plan["teachers"])
        with store.write() as db:
            for task in plan["config"].tasks:
                db.table("tasks").insert({"name": task.name, "kind": task.kind,
                                          "config": json.dumps(task.__dict__),
                                          "created_at": time.time()})  # fmt: skip
        _write_members(store, staging, plan, source)
        champ = plan["members"][0][2]
        online = champ.get("online")
        if "champion/adapters.safetensors" in bundle.files and isinstance(online, dict):
            rel = f"checkpoints/online/champion-{champ['id']}.safetensors"
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_bytes(bundle.files["champion/adapters.safetensors"])
            set_setting(store, f"online:champion-{champ['id']}", {**online, "file": rel})
        _write_data(store, staging, bundle, plan["data"])
        add_event(store, "imported", {"bundle": bundle.path.name, "from": source,
                                      "format": bundle.manifest.get("version"),
                                      "champion": champ["id"]})  # fmt: skip
    _write_bundle_dir(staging, bundle)


def import_bundle(source: str | Path, name: str | None = None,
                  progress: Progress | None = None) -> Profile:  # fmt: skip
    """Verify a bundle, then create a NEW profile from it (never overwriting one); return it."""
    say = progress or (lambda f, m: None)
    say(0.05, "verifying the bundle")
    bundle = read_bundle(source)
    target = name or str(bundle.manifest.get("profile", {}).get("name", ""))
    try:
        check_profile_name(target)
    except InsituError as exc:
        raise ProfileError(f"cannot name the new profile '{target[:64]}': {exc.message}",
                           "give a name with --as NAME") from None
    if profile_dir(target).exists():
        raise ProfileError(f"profile '{target}' already exists; an import never overwrites one",
                           f"import it under another name: `insitu import {Path(source).name} "
                           f"--as {target}-2`")
    plan = _plan(bundle)
    say(0.4, "writing the new profile")
    root = profiles_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".importing-{target}-{new_id()}"
    staging.mkdir()
    try:
        try:
            _build(staging, target, bundle, plan)
        except (sqlite3.DatabaseError, OSError, KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"the bundle cannot be stored as a profile: {exc}",
                              _DAMAGED) from None
        try:
            os.rename(staging, profile_dir(target))
        except OSError as exc:
            raise ProfileError(f"profile '{target}' was created by another process meanwhile "
                               f"({exc})", "import it under another name with --as") from None
        _fsync_dir(root)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    say(1.0, "done")
    return Profile.open(target, create_default=False)
