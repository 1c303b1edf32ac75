"""Reading a bundle safely: every check runs on bytes in memory before anything is written.

`read_bundle(path)` returns a `Bundle` (the migrated manifest and every file's bytes) only when
the zip is intact, within the size, count and ratio limits, holds no links, absolute or `..`
paths, pickles or programs, matches the manifest's sha256 and sizes, its safetensors headers
agree with their data, and every unit, stem and head name of every genome is registered.
"""

from __future__ import annotations

import hashlib
import json
import math
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import registry
from harness.errors import InsituError
from harness.genome import load_genome
from harness.words import counted

from . import format as fmt
from .format import BundleError

_DAMAGED = "the bundle is damaged or incomplete; ask for it again (or export it again)"
_UNSAFE = "the bundle is unsafe and was not imported; do not use it"
#: What the zip module raises on a mangled archive (all mean: damaged).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError, OverflowError, UnicodeDecodeError)
#: Bytes per element of each safetensors dtype.
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


@dataclass
class Bundle:
    """A verified bundle in memory: its manifest and the bytes of every listed file."""

    path: Path
    manifest: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    def json(self, name: str) -> Any:
        """Return a JSON entry parsed (verified to parse at read time)."""
        return json.loads(self.files[name])

    def jsonl(self, name: str) -> list[Any]:
        """Return the rows of a JSON-lines entry."""
        text = self.files[name].decode("utf-8")  # split as verified: str line breaks
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    @property
    def tasks(self) -> list[str]:
        """Return the names of the bundle's tasks."""
        return [str(t["name"]) for t in self.manifest.get("tasks", [])]


def _open(path: Path) -> zipfile.ZipFile:
    """Open the zip, turning every way it can fail into a BundleError."""
    if not path.is_file():
        raise BundleError(f"no bundle file at {path}", "check the path (bundles end in .insitu)")
    if path.stat().st_size > fmt.MAX_BUNDLE_BYTES:
        raise BundleError(f"{path.name} is larger than {fmt.MAX_BUNDLE_BYTES >> 20} MiB",
                          "bundles are small; this is not one insitu wrote")
    try:
        return zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise BundleError(f"{path.name} is not a readable bundle (zip): {exc}", _DAMAGED) from None


def _check_entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Check names, links, counts, sizes and ratios of the entries; return them by name."""
    infos = zf.infolist()
    if len(infos) > fmt.MAX_ENTRIES:
        raise BundleError(f"the bundle has {len(infos)} entries (limit {fmt.MAX_ENTRIES})",
                          _UNSAFE)
    out: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        fmt.check_path(name)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode) or info.is_dir():
            raise BundleError(f"the bundle entry {name!r} is a link or folder, not a file",
                              _UNSAFE)
        if name in out:
            raise BundleError(f"the bundle holds {name!r} twice", _UNSAFE)
        if info.file_size > fmt.MAX_FILE_BYTES:
            raise BundleError(f"the bundle entry {name} is {info.file_size >> 20} MiB "
                              f"(limit {fmt.MAX_FILE_BYTES >> 20} MiB)", _UNSAFE)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > fmt.RATIO_FLOOR and ratio > fmt.MAX_RATIO:
            raise BundleError(f"the bundle entry {name} expands {ratio:.0f} times (limit "
                              f"{fmt.MAX_RATIO}): a zip bomb", _UNSAFE)
        total += info.file_size
        if total > fmt.MAX_TOTAL_BYTES:
            raise BundleError(f"the bundle expands past {fmt.MAX_TOTAL_BYTES >> 20} MiB", _UNSAFE)
        out[name] = info
    return out


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read one entry, never more than `limit` bytes (whatever its header claims)."""
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except _ZIP_ERRORS as exc:
        raise BundleError(f"the bundle entry {info.filename} cannot be read: {exc}",
                          _DAMAGED) from None
    if len(data) > limit:
        raise BundleError(f"the bundle entry {info.filename} is larger than it says", _UNSAFE)
    return data


def _manifest(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    """Read, parse and migrate manifest.json."""
    if fmt.MANIFEST not in infos:
        raise BundleError("the bundle has no manifest.json",
                          "it is not an insitu bundle, or it is damaged; ask for it again")
    raw = _read(zf, infos[fmt.MANIFEST], fmt.MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"the bundle's manifest.json is not JSON: {exc}", _DAMAGED) from None
    if not isinstance(manifest, dict) or manifest.get("format") != fmt.FORMAT:
        said = manifest.get("format") if isinstance(manifest, dict) else None
        raise BundleError(f"manifest.json does not describe an insitu bundle (format "
                          f"{str(said)[:40]!r})",
                          "only bundles written by `insitu export` can be imported")
    manifest = fmt.migrate_manifest(manifest)
    _check_fields(manifest)
    files = manifest.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str)
        and isinstance(f.get("sha256"), str) and isinstance(f.get("size"), int)
        for f in files
    ):  # fmt: skip
        raise BundleError("manifest.json has no valid file list", _DAMAGED)
    return manifest


def _check_fields(manifest: dict[str, Any]) -> None:
    """Check the types of the manifest's descriptive fields (they are shown and relied on)."""
    def ok() -> bool:
        """Return whether every field has its type."""
        profile, tasks = manifest.get("profile"), manifest.get("tasks")
        return (isinstance(profile, dict) and isinstance(profile.get("name"), str)
                and isinstance(tasks, list)
                and all(isinstance(t, dict) and all(isinstance(t.get(k), str)
                                                    for k in ("name", "kind", "modality"))
                        for t in tasks)
                and isinstance(manifest.get("champion"), dict)
                and isinstance(manifest["champion"].get("gates", {}), dict)
                and isinstance(manifest.get("includes"), dict)
                and isinstance(manifest.get("app"), dict)
                and isinstance(manifest.get("license"), str)
                and isinstance(manifest.get("created"), str))  # fmt: skip

    if not ok():
        raise BundleError("manifest.json lacks a field or has one of the wrong type "
                          "(profile, tasks, champion, includes, app, license, created)", _DAMAGED)


def _check_files(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo],
                 manifest: dict[str, Any]) -> dict[str, bytes]:  # fmt: skip
    """Match the entries against the manifest's list; read each and check its size and sha256."""
    listed = {f["path"]: f for f in manifest["files"]}
    if len(listed) != len(manifest["files"]):
        raise BundleError("manifest.json lists a file twice", _DAMAGED)
    present = set(infos) - {fmt.MANIFEST}
    if missing := sorted(set(listed) - present):
        raise BundleError(f"the bundle lacks {counted(len(missing), 'listed file')}, e.g. "
                          f"{missing[0]}",
                          _DAMAGED)
    if extra := sorted(present - set(listed)):
        raise BundleError(f"the bundle holds a file its manifest does not list: {extra[0]}",
                          _UNSAFE)
    files: dict[str, bytes] = {}
    for name, entry in sorted(listed.items()):
        fmt.check_path(name)
        size = int(entry["size"])
        if size != infos[name].file_size or size > fmt.MAX_FILE_BYTES:
            raise BundleError(f"{name} is {infos[name].file_size} bytes in the zip but "
                              f"{size} in the manifest", _DAMAGED)
        data = _read(zf, infos[name], size)
        if len(data) != size or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise BundleError(f"checksum mismatch: {name} does not match its sha256 in the "
                              "manifest", _DAMAGED)
        fmt.check_content(name, data)
        files[name] = data
    return files


def check_safetensors(name: str, data: bytes) -> dict[str, Any]:
    """Check a safetensors file's header against its data; return the header.

    1. The 8-byte little-endian header length must fit inside the file (and the header limit).
    2. Every tensor's dtype is known, its shape is a list of non-negative ints and its byte
       range equals prod(shape) * dtype size.
    3. The byte ranges tile the data area exactly: no gaps, overlaps or trailing bytes.
    """
    lying = f"the safetensors header of {name} does not match its data"
    if len(data) < 8:
        raise BundleError(f"{name} is too short to be a safetensors file", _DAMAGED)
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(len(data) - 8, fmt.MAX_SAFETENSORS_HEADER):
        raise BundleError(f"{lying} (header length {size})", _UNSAFE)
    try:
        header = json.loads(data[8 : 8 + size])
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"the safetensors header of {name} is not JSON", _DAMAGED) from None
    if not isinstance(header, dict):
        raise BundleError(f"the safetensors header of {name} is not an object", _DAMAGED)
    spans = []
    for key, t in header.items():
        if key == "__metadata__":
            continue
        try:
            dsize = DTYPE_SIZES[t["dtype"]]
            shape = [int(d) for d in t["shape"]]
            lo, hi = (int(x) for x in t["data_offsets"])
            if any(d < 0 for d in shape) or not isinstance(t["shape"], list):
                raise ValueError("negative dimension")
        except (KeyError, TypeError, ValueError):
            raise BundleError(f"{lying} (tensor {str(key)[:60]})", _UNSAFE) from None
        if hi - lo != math.prod(shape) * dsize or lo < 0:
            raise BundleError(f"{lying} (tensor {str(key)[:60]} claims {hi - lo} bytes)", _UNSAFE)
        spans.append((lo, hi))
    end = 0
    for lo, hi in sorted(spans):
        if lo != end:
            raise BundleError(f"{lying} (tensors overlap or leave gaps)", _UNSAFE)
        end = hi
    if end != len(data) - 8 - size:
        raise BundleError(f"{lying} ({len(data) - 8 - size} data bytes, tensors cover {end})",
                          _UNSAFE)
    return header


def check_genome(name: str, genome: Any) -> dict[str, Any]:
    """Check that every unit, stem and head of a genome is registered; return it validated."""
    if not isinstance(genome, dict):
        raise BundleError(f"{name} is not a genome", _DAMAGED)
    def pick(value: Any, key: str) -> list[Any]:
        """Return `key` of every dict in a list (or a dict's values); [] for anything else."""
        items = value.values() if isinstance(value, dict) else value
        return [x.get(key) for x in items if isinstance(x, dict)] \
            if isinstance(items, list | type({}.values())) else []

    nodes = genome.get("nodes")
    groups = (("unit", registry.units, pick(nodes, "op")),
              ("stem", registry.stems, pick(genome.get("stems"), "op")),
              ("head", registry.heads, pick(genome.get("heads"), "op")),
              ("unit", registry.units, ["norm" if p else None for p in pick(nodes, "prenorm")]))
    for kind, reg, ops in groups:
        for op in ops:
            if op and (not isinstance(op, str) or op not in reg.declared_names()):
                raise BundleError(
                    f"{name} uses the {kind} '{str(op)[:60]}', which this insitu does not know",
                    f"install the plugin that provides '{str(op)[:60]}', then import again",
                )
    try:
        return load_genome(genome)
    except InsituError as exc:
        raise BundleError(f"{name} is not a valid genome: {exc.message}", _DAMAGED) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise BundleError(f"{name} is not a valid genome ({type(exc).__name__}: {exc})",
                          _DAMAGED) from None


def _check_models(files: dict[str, bytes]) -> None:
    """Check every genome and checkpoint; a checkpoint's genome must equal its genome.json."""
    for name, data in files.items():
        if name.endswith(".json") or name.endswith(".jsonl") or name.endswith(".md"):
            try:
                text = data.decode("utf-8")
                if name.endswith(".json"):
                    json.loads(text)
                elif name.endswith(".jsonl"):
                    for line in text.splitlines():
                        if line.strip():
                            json.loads(line)
            except (ValueError, UnicodeDecodeError) as exc:
                raise BundleError(f"{name} is not valid UTF-8 JSON/text: {exc}", _DAMAGED) from None
        if name.endswith("genome.json"):
            check_genome(name, json.loads(data))
        if name.endswith(".safetensors"):
            header = check_safetensors(name, data)
            meta = header.get("__metadata__") or {}
            if name.endswith("adapters.safetensors"):
                if not isinstance(meta, dict) or meta.get("format") != "insitu.adapters":
                    raise BundleError(f"{name} is not an insitu adapter file", _DAMAGED)
                continue
            if not isinstance(meta, dict) or meta.get("format") != "insitu.checkpoint":
                raise BundleError(f"{name} is not an insitu checkpoint (no insitu metadata)",
                                  _DAMAGED)
            try:
                genome = json.loads(meta.get("genome", ""))
            except (ValueError, TypeError):
                raise BundleError(f"{name} holds no readable genome", _DAMAGED) from None
            check_genome(name, genome)
    for name in files:
        if name.endswith("model.safetensors") and name.replace(
            "model.safetensors", "genome.json") not in files:  # fmt: skip
            raise BundleError(f"{name} has no genome.json beside it", _DAMAGED)
    if "champion/model.safetensors" not in files:
        raise BundleError("the bundle has no champion model", _DAMAGED)


def read_bundle(path: str | Path) -> Bundle:
    """Open and verify a bundle entirely in memory; raise BundleError on the first problem."""
    path = Path(path)
    try:
        with _open(path) as zf:
            infos = _check_entries(zf)
            manifest = _manifest(zf, infos)
            files = _check_files(zf, infos, manifest)
    except BundleError:
        raise
    except (*_ZIP_ERRORS, KeyError) as exc:
        raise BundleError(f"{path.name} cannot be read: {exc}", _DAMAGED) from None
    _check_models(files)
    return Bundle(path, manifest, files)
