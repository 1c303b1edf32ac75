"""Add files to a task: pick an importer per file, assign splits, dedupe, summarise."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.config import TaskConfig
from harness.data.importer import FileReport, Importer, Record
from harness.errors import DataError
from harness.profile import Profile
from harness.registry import importers
from harness.store.examples import add_examples, hash_split
from harness.types import Example

BATCH = 500


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
    """Held out: the tail of sequential data, or a stable hash bucket for independent samples."""
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
) -> list[FileReport]:
    """Run `work` on every file with its importer; return one report per file.

    A file that cannot be used is reported as rejected; the others still go through.
    """
    reports: list[FileReport] = []
    for path, imp in _expand(paths, task):
        report = FileReport(str(path), imp.name if imp else "?")
        if not path.exists():
            report.rejected = "no such file or folder"
        elif imp is None:
            report.rejected = (f"no importer for this file in a {task.kind} task "
                               f"(text tasks take .txt .md .jsonl .yml)")
        else:
            try:
                work(imp, path, report)
            except DataError as exc:
                report.rejected = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
            except OSError as exc:
                report.rejected = f"cannot read: {exc.strerror or exc}"
        reports.append(report)
        if on_file:
            on_file(report)
    if not reports:
        raise DataError("no files to add", "give files or folders, e.g. `insitu data add notes.md`")
    return reports


def add_paths(
    profile: Profile,
    paths: list[Path],
    task_name: str | None = None,
    on_file: Callable[[FileReport], Any] | None = None,
) -> list[FileReport]:
    """Import files into a task of the profile; return one report per file.

    1. Resolve the task (the profile's first task by default).
    2. For each file, pick an importer by task kind and file type; folders are walked.
    3. Read records, assign each a split, insert in batches (duplicates are skipped).
    4. A file that cannot be used is reported as rejected; the others still land.
    """
    task = profile.config.task(task_name) if task_name else profile.config.tasks[0]

    def ingest(imp: Importer, path: Path, report: FileReport) -> None:
        _ingest(profile, imp, path, task, report)

    return _each_file(paths, task, ingest, on_file)


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
    batch: list[tuple[Any, str]] = []
    prov = {"file": str(path.resolve()), "importer": imp.name}

    def flush() -> None:
        added, dupes = add_examples(profile.store, batch, provenance=prov)
        report.added += added
        report.duplicates += dupes
        batch.clear()

    for rec in imp.read(path, task, report):
        split = _split(rec, task)
        report.heldout += split == "heldout"
        batch.append((rec.example, split))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if report.read == 0 and not report.problems:
        raise DataError(f"{path} held no examples", "check that the file is not empty")
