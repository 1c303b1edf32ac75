"""The importer interface and the per-file report of what an import added or rejected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from harness.config import TaskConfig
from harness.types import Example


@dataclass
class Record:
    """One example read from a file; `position` in [0, 1) orders sequential data (corpus chunks)."""

    example: Example
    position: float | None = None
    key: str | None = None


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    added: int = 0
    duplicates: int = 0
    heldout: int = 0
    problems: list[str] = field(default_factory=list)
    rejected: str | None = None

    @property
    def read(self) -> int:
        """Return how many examples were read from the file."""
        return self.added + self.duplicates


class Importer(Protocol):
    """Reads one kind of file (or folder) into examples for a task."""

    name: ClassVar[str]
    #: Task kinds this importer produces examples for.
    kinds: ClassVar[tuple[str, ...]]

    def accepts(self, path: Path) -> bool:
        """Return True if this importer reads `path`."""
        ...

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield records; append recoverable problems to `report.problems`, raise DataError
        for a file that cannot be used at all."""
        ...
