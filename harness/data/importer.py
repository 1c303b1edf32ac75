"""The importer interface and the per-file report of what an import added or rejected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from harness.config import TaskConfig
from harness.types import Example


@dataclass
class Record:
    """One example read from a file; `position` in [0, 1) orders sequential data (corpus chunks).

    `split` forces the example's split where the data set defines one (MNIST's test files, FSDD's
    recordings 0-4); otherwise the split comes from `position` or a hash of `key`.
    """

    example: Example
    position: float | None = None
    key: str | None = None
    split: str | None = None
    #: Extra facts kept in the example's provenance (e.g. the FSDD speaker).
    meta: dict[str, str] | None = None


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
    #: Examples added per class (label tasks).
    per_class: dict[str, int] = field(default_factory=dict)
    #: Called with (items done, items in all) by importers that read many files (a folder).
    on_progress: Callable[[int, int], None] | None = field(default=None, repr=False,
                                                           compare=False)

    def tick(self, done: int, total: int) -> None:
        """Report progress through a folder to whoever listens (the CLI's progress bar)."""
        if self.on_progress is not None:
            self.on_progress(done, total)

    def to_dict(self) -> dict[str, object]:
        """Return the report as JSON-able data."""
        out = {k: v for k, v in self.__dict__.items() if k != "on_progress"}
        return out | {"read": self.read}

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
