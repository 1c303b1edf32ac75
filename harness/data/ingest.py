"""Add files to a task: pick an importer per file, assign splits, dedupe, summarise."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.config import TaskConfig
from harness.data.importer import FileReport, Importer, Record
from harness.errors import DataError
from harness.modality import get_modality
from harness.profile import Profile
from harness.registry import importers
from harness.store.examples import add_examples, example_hash, hash_split
from harness.store.records import put_attachment
from harness.types import Example, Part

BATCH = 500
#: Media parts with more raw bytes than this are stored as content-addressed attachments;
#: smaller ones (a 28x28 digit is 784 bytes) stay inline in the example.
INLINE_MEDIA_BYTES = 4096


def _importer_for(path: Path, task: TaskConfig) -> Importer | None:
    """Return the first registered importer that reads `path` for this task's kind."""
    for _, cls in importers.items():
        imp = cls()
        if task.kind in imp.kinds and imp.accepts(path):
            return imp
    return None


def _expand(paths: Iterable[Path], task: TaskConfig) -> Iterator[tuple[Path, Importer | None]]:
    """Yield (path, importer) for each input, walking folders no importer takes whole."""
    for path in paths:
        imp = _importer_for(path, task)
        if imp is not None or not path.is_dir():
            yield path, imp
            continue
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                yield child, _importer_for(child, task)


def _split(rec: Record, task: TaskConfig) -> str:
    """Held out: the data set's own split, the tail of sequential data, or a hash bucket."""
    if rec.split is not None:
        return rec.split
    if task.heldout_fraction <= 0:
        return "train"
    if rec.position is not None:
        return "heldout" if rec.position >= 1 - task.heldout_fraction else "train"
    return hash_split(rec.key or repr(rec.example.prompt), task.heldout_fraction)


def _each_file(
    paths: list[Path],
    task: TaskConfig,
    work: Callable[[Importer, Path, FileReport], None],
    on_file: Callable[[FileReport], Any] | None = None,
    on_progress: Callable[[str, int, int], Any] | None = None,
) -> list[FileReport]:
    """Run `work` on every file with its importer; return one report per file.

    A file that cannot be used is reported as rejected; the others still go through.
    """
    reports: list[FileReport] = []
    for path, imp in _expand(paths, task):
        report = FileReport(str(path), imp.name if imp else "?")
        if on_progress is not None:
            report.on_progress = (lambda done, total, p=str(path):  # noqa: E731
                                  on_progress(p, done, total))
        if not path.exists():
            report.rejected = "no such file or folder"
        elif imp is None:
            takes = ("text tasks take .txt .md .jsonl .yml" if task.kind == "text" else
                     "label tasks take images or recordings, folders of class sub-folders, "
                     "FSDD recordings and MNIST IDX files")
            report.rejected = f"no importer for this file in a {task.kind} task ({takes})"
        else:
            try:
                work(imp, path, report)
            except DataError as exc:
                _nothing_added(report)
                report.rejected = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
            except OSError as exc:
                _nothing_added(report)
                report.rejected = f"cannot read: {exc.strerror or exc}"
        reports.append(report)
        if on_file:
            on_file(report)
    if not reports:
        raise DataError("no files to add", "give files or folders, e.g. `insitu data add notes.md`")
    return reports


def _nothing_added(report: FileReport) -> None:
    """Zero a report's counts after its file's transaction was rolled back."""
    report.added = report.duplicates = report.heldout = 0
    report.per_class.clear()


def add_paths(
    profile: Profile,
    paths: list[Path],
    task_name: str | None = None,
    on_file: Callable[[FileReport], Any] | None = None,
    on_progress: Callable[[str, int, int], Any] | None = None,
) -> list[FileReport]:
    """Import files into a task of the profile; return one report per file.

    1. Resolve the task (the profile's first task by default).
    2. For each file, pick an importer by task kind and file type; folders are walked.
    3. Read records, assign each a split, insert them (duplicates are skipped) in one
       transaction per file, so a file that fails half-way adds nothing.
    4. A file that cannot be used is reported as rejected; the others still land.

    `on_progress(path, done, total)` is called by importers that read a whole folder.
    """
    task = profile.config.task(task_name) if task_name else profile.config.tasks[0]

    def ingest(imp: Importer, path: Path, report: FileReport) -> None:
        with profile.store.write():
            _ingest(profile, imp, path, task, report)

    return _each_file(paths, task, ingest, on_file, on_progress)


def read_paths(paths: list[Path], task: TaskConfig) -> tuple[list[Example], list[FileReport]]:
    """Read files through the same importers as `add_paths`, storing nothing.

    Returns the examples (in file order, duplicates kept) and one report per file, whose
    `added` counts the examples read from the file.
    """
    examples: list[Example] = []

    def read(imp: Importer, path: Path, report: FileReport) -> None:
        for rec in imp.read(path, task, report):
            examples.append(rec.example)
            report.added += 1
        if report.added == 0 and not report.problems:
            raise DataError(f"{path} held no examples", "check that the file is not empty")

    return examples, _each_file(paths, task, read)


def _ingest(profile: Profile, imp: Importer, path: Path, task: TaskConfig,
            report: FileReport) -> None:
    """Read one file through its importer and store its examples in batches."""
    batches: dict[str, list[tuple[Example, str]]] = {}
    provs: dict[str, dict[str, Any]] = {}
    base = {"file": str(path.resolve()), "importer": imp.name}

    def flush(key: str) -> None:
        """Insert one provenance group's pending examples; count per class what was new."""
        rows = batches.pop(key)
        for ex, split in rows:
            added, dupes = add_examples(profile.store, [(ex, split)], provenance=provs[key])
            report.added += added
            report.duplicates += dupes
            report.heldout += added and split == "heldout"
            label = _label(ex) if task.kind == "label" else None  # a chat answer is no class
            if added and label is not None:
                report.per_class[label] = report.per_class.get(label, 0) + 1

    for rec in imp.read(path, task, report):
        split = _split(rec, task)
        ex = _attach_media(profile, rec.example)
        key = repr(sorted((rec.meta or {}).items()))
        provs.setdefault(key, base | (rec.meta or {}))
        batches.setdefault(key, []).append((ex, split))
        if len(batches[key]) >= BATCH:
            flush(key)
    for key in list(batches):
        flush(key)
    if report.read == 0 and not report.problems:
        raise DataError(f"{path} held no examples", "check that the file is not empty")


def _label(ex: Example) -> str | None:
    """Return an example's label part (or short text answer), for the per-class summary."""
    for part in ex.answer or []:
        if part.kind == "label" and part.label:
            return part.label
    text = "".join(p.text or "" for p in ex.answer or [] if p.kind == "text").strip()
    return text if text and len(text) <= 40 else None


def _attach_media(profile: Profile, ex: Example) -> Example:
    """Store large image/audio parts as content-addressed attachments (by their modality)."""

    def put(data: bytes, kind: str, mime: str) -> str:
        return put_attachment(profile.store, profile.attachments_dir, data, kind=kind, mime=mime)

    return _as_stored(ex, put)


def stored_hash(ex: Example) -> str:
    """Return the hash `insitu data add` stores `ex` under (large media by content), storing
    nothing: how `insitu eval` finds test files that the profile already holds."""
    return example_hash(_as_stored(ex, lambda data, kind, mime: hashlib.sha256(data).hexdigest()))


def _as_stored(ex: Example, put: Callable[[bytes, str, str], str]) -> Example:
    """Return `ex` with its large image/audio parts replaced by `put(bytes, kind, mime)` refs."""
    prompt = []
    for part in ex.prompt:
        media = part.image if part.kind == "image" else part.audio if part.kind == "audio" \
            else None
        if media is None or media.nbytes <= INLINE_MEDIA_BYTES:
            prompt.append(part)
            continue
        data, mime = get_modality(part.kind).file_bytes(part)  # type: ignore[attr-defined]
        prompt.append(Part(kind=part.kind, attachment=put(data, part.kind, mime)))
    return Example(prompt, ex.answer, ex.task, ex.source, ex.weight, ex.created_at,
                   dict(ex.signals))
