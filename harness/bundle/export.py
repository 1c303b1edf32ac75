"""`export_bundle`: a profile's champion, tasks, gate sets (and optionally more) as one zip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import InsituError
from harness.ids import new_id
from harness.paths import keys_file
from harness.profile import Profile
from harness.store.examples import split_counts
from harness.store.records import get_setting

from . import format as fmt
from .card import model_card
from .format import BundleError
from .gate import attachments_of, dumps_examples, gate_metrics, loads_examples, pick_gate

Progress = Callable[[float, str], None]
DEFAULT_LICENSE = "other"
_SPDX = re.compile(r"[A-Za-z0-9.+-]{1,64}")


@dataclasses.dataclass
class ExportResult:
    """What an export wrote: the bundle path, its manifest and what the data part held."""

    path: Path
    manifest: dict[str, Any]
    data_counts: dict[str, int]
    #: tasks whose champion lm head carries a count memory of its training text, and its order
    memory: dict[str, int] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.path)


def _json(value: Any) -> bytes:
    """Return indented, sorted JSON bytes."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def find_champion(profile: Profile) -> dict[str, Any]:
    """Return the newest champion whose checkpoint exists (with its genome JSON), or raise."""
    rows = profile.store.query(
        "SELECT i.*, g.family, g.params, g.json AS genome FROM individuals i JOIN genomes g "
        "ON g.id = i.genome_id WHERE i.status = 'champion' AND i.checkpoint IS NOT NULL "
        "ORDER BY i.id DESC")
    for row in rows:
        path = profile.checkpoint_file(row["checkpoint"])
        if path is not None:
            return {**row, "metrics": json.loads(row["metrics"] or "{}"), "path": path}
    raise BundleError(f"profile '{profile.name}' has no champion to export yet",
                      f"evolve one first with `insitu evolve -p {profile.name}`")


def _individual(profile: Profile, row: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON record of an individual: id, metrics, fitness and its parents."""
    parents = profile.store.query(
        "SELECT parent_id, role, operator FROM lineage WHERE child_id = ? ORDER BY id",
        [row["id"]])
    keep = ("id", "generation", "fitness", "family", "params", "operator", "phase", "birth",
            "metrics", "status")
    return {**{k: row.get(k) for k in keep}, "parents": parents}


def _secrets(profile: Profile) -> list[bytes]:
    """Return the key values this machine knows (keys file, env vars the teachers name)."""
    stored: dict[str, Any] = {}
    try:
        data = json.loads(keys_file().read_text())
        stored = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        pass
    values = [str(v) for v in stored.values()]
    names = set(stored)
    teachers = get_setting(profile.store, "teachers", {}) or {}
    for cfg in teachers.values() if isinstance(teachers, dict) else []:
        if isinstance(cfg, dict):
            names |= {str(v) for k, v in cfg.items() if "key" in k and isinstance(v, str) and v}
    values += [os.environ[n] for n in names if os.environ.get(n)]
    return [v.encode() for v in values if len(v) >= 6]


def _data_files(profile: Profile, files: dict[str, bytes]) -> dict[str, int]:
    """Add every data table and attachment to `files`; return the row counts by table."""
    counts: dict[str, int] = {}
    for table, columns in fmt.DATA_TABLES.items():
        rows = profile.store.query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
        files[f"data/{table}.jsonl"] = "".join(
            json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows).encode()
        counts[table] = len(rows)
    for row in profile.store.query("SELECT sha256, path FROM attachments"):
        path = profile.attachments_dir / row["path"]
        if path.is_file():
            files[f"data/attachments/{row['sha256']}"] = path.read_bytes()
    return counts


def collect(profile: Profile, population: bool = False, include_data: bool = False,
            license: str = DEFAULT_LICENSE,
            progress: Progress | None = None,
            ) -> tuple[dict[str, Any], dict[str, bytes], dict[str, int]]:  # fmt: skip
    """Return (manifest without file list, files, data counts) of a profile's bundle.

    1. Find the champion; add its genome, checkpoint, record and online adapters.
    2. Add the tasks, the profile config, teachers (key names only) and the lineage.
    3. Pick each task's gate set and measure the champion on it.
    4. With --population, add the champion's living run mates; with --include-data, the data.
    """
    from harness.graph import checkpoint

    say = progress or (lambda f, m: None)
    if not _SPDX.fullmatch(license):
        raise BundleError(f"'{license[:40]}' is not an SPDX license id",
                          "use e.g. MIT, Apache-2.0, CC-BY-4.0 (or `other`)")
    say(0.05, "finding the champion")
    champ = find_champion(profile)
    genome = json.loads(champ["genome"])
    files: dict[str, bytes] = {
        "champion/genome.json": _json(genome),
        "champion/model.safetensors": champ["path"].read_bytes(),
    }
    individual = _individual(profile, champ)
    online = get_setting(profile.store, f"online:champion-{champ['id']}")
    if isinstance(online, dict) and (profile.path / str(online.get("file", ""))).is_file():
        files["champion/adapters.safetensors"] = (profile.path / online["file"]).read_bytes()
        individual["online"] = {k: v for k, v in online.items() if k != "file"}
    files["champion/individual.json"] = _json(individual)
    tasks = [{"name": t.name, "kind": t.kind, "modality": t.modality} for t in profile.config.tasks]
    for t in profile.config.tasks:
        files[f"tasks/{t.name}.json"] = _json(dataclasses.asdict(t))
    files["profile/config.json"] = _json({"config": profile.config.to_dict(),
                                          "template": profile.template})  # fmt: skip
    teachers = get_setting(profile.store, "teachers")
    if teachers:
        files["profile/teachers.json"] = _json(teachers)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    lineage = list(get_setting(profile.store, "bundle:lineage", []) or [])
    lineage.append({"action": "exported", "profile": profile.name, "at": now,
                    "insitu": __version__, "champion": champ["id"], "family": champ["family"],
                    "tasks": [t["name"] for t in tasks]})  # fmt: skip
    files["profile/lineage.json"] = _json(lineage)
    say(0.2, "measuring the gate sets")
    graph = checkpoint.load(champ["path"], device="cpu")
    gates: dict[str, dict[str, float]] = {}
    for t in profile.config.tasks:
        examples = pick_gate(profile.store, t.name)
        kept = profile.path / "bundle" / "gates" / f"{t.name}.jsonl"
        if not examples and kept.is_file():  # an imported task without data: pass its gate on
            examples = loads_examples(kept.read_bytes(), str(kept))
        if not examples:
            continue
        metrics = gate_metrics(graph, t, examples, profile.attachments_dir, profile.config.model)
        files[f"gates/{t.name}.jsonl"] = dumps_examples(examples)
        files[f"gates/{t.name}.metrics.json"] = _json({"individual": champ["id"],
                                                       "examples": len(examples),
                                                       "metrics": metrics})  # fmt: skip
        gates[t.name] = metrics
        for sha in attachments_of(examples):
            path = profile.attachments_dir / sha[:2] / sha
            if path.is_file():
                files[f"gates/attachments/{sha}"] = path.read_bytes()
    members = 0
    if population and champ.get("run_id"):
        say(0.5, "adding the population")
        rows = profile.store.query(
            "SELECT i.*, g.family, g.params, g.json AS genome FROM individuals i JOIN genomes g "
            "ON g.id = i.genome_id WHERE i.run_id = ? AND i.status = 'alive' "
            "AND i.checkpoint IS NOT NULL ORDER BY i.birth", [champ["run_id"]])
        for row in rows:
            found = profile.checkpoint_file(row["checkpoint"])
            if found is None:
                continue
            row["metrics"] = json.loads(row["metrics"] or "{}")
            base = f"population/{row['id']}"
            files[f"{base}/genome.json"] = _json(json.loads(row["genome"]))
            files[f"{base}/model.safetensors"] = found.read_bytes()
            files[f"{base}/individual.json"] = _json(_individual(profile, row))
            members += 1
    data_counts: dict[str, int] = {}
    if include_data:
        say(0.7, "adding conversations, examples and attachments")
        data_counts = _data_files(profile, files)
    manifest = {
        "format": fmt.FORMAT, "version": fmt.VERSION, "requires_insitu": fmt.REQUIRES_INSITU,
        "app": {"name": "insitu", "version": __version__}, "created": now,
        "profile": {"name": profile.name, "template": profile.template,
                    "description": profile.config.description},
        "tasks": tasks, "license": license,
        "includes": {"champion": True, "population": members, "data": include_data,
                     "data_counts": data_counts, "gates": sorted(gates),
                     "teachers": bool(teachers), "adapters": "champion/adapters.safetensors"
                     in files, "keys": False},
        "champion": {"individual": champ["id"], "family": champ["family"],
                     "params": champ["params"], "metrics": champ["metrics"], "gates": gates},
    }  # fmt: skip
    counts = split_counts(profile.store)
    files[fmt.CARD] = model_card(manifest, genome, individual, gates, lineage, counts).encode()
    return manifest, files, data_counts


def write_zip(target: Path, manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    """Write the manifest (with the file list) and the files to `target` atomically."""
    entries = [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
               for name, data in sorted(files.items())]  # fmt: skip
    full = {**manifest, "files": entries}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{new_id()}.tmp")
    stamp = (1980, 1, 1, 0, 0, 0)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(zipfile.ZipInfo(fmt.MANIFEST, stamp), _json(full), zipfile.ZIP_DEFLATED)
            for name, data in sorted(files.items()):
                method = zipfile.ZIP_STORED if name.endswith(".safetensors") \
                    else zipfile.ZIP_DEFLATED
                info = zipfile.ZipInfo(name, stamp)
                info.external_attr = 0o644 << 16
                zf.writestr(info, data, method)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def export_bundle(profile: Profile, target: str | Path, population: bool = False,
                  include_data: bool = False, license: str = DEFAULT_LICENSE,
                  progress: Progress | None = None) -> ExportResult:  # fmt: skip
    """Export a profile to a bundle file (`.insitu` added to a name without it); refuse keys."""
    say = progress or (lambda f, m: None)
    path = Path(target).expanduser()
    if path.is_dir():
        raise BundleError(f"{path} is a folder", f"give a file name, e.g. {path / profile.name}"
                          f"{fmt.SUFFIX}")
    if not path.name.lower().endswith(fmt.SUFFIX):  # `import` and `inspect` look for .insitu
        path = path.with_name(path.name + fmt.SUFFIX)
    manifest, files, counts = collect(profile, population, include_data, license, say)
    secrets = _secrets(profile)
    for name, data in files.items():
        if any(s in data for s in secrets):
            raise BundleError(f"{name} would carry an API key value; nothing was exported",
                              "remove the key from that text (keys stay in keys.json only)")
    say(0.9, "writing the zip")
    try:
        write_zip(path, manifest, files)
    except OSError as exc:
        raise BundleError(f"cannot write {path}: {exc}", "pick a writable folder") from None
    say(1.0, "done")
    heads = json.loads(files["champion/genome.json"]).get("heads", {})
    memory = {t: int(h["args"]["memory"]) for t, h in heads.items()
              if h.get("op") == "lm" and h.get("args", {}).get("memory")}  # fmt: skip
    return ExportResult(path, manifest, counts, memory)


__all__ = ["ExportResult", "InsituError", "collect", "export_bundle", "find_champion"]
