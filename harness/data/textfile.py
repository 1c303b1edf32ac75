"""Plain text and Markdown files as corpus continuation examples, chunked on line breaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from harness.config import TaskConfig
from harness.data.importer import FileReport, Record
from harness.errors import DataError
from harness.types import Example, Part

CHUNK_BYTES = 2048
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".rst")


def read_text_file(path: Path) -> str:
    """Return a file's text, or raise DataError if it is empty or binary."""
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path} is empty", "give a file with some text in it")
    if b"\x00" in raw[:65536]:
        raise DataError(f"{path} looks binary (it contains NUL bytes), not text",
                        "give text, Markdown, JSONL or YAML files")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw.decode("utf-8", errors="replace").count("\ufffd")
        if bad > max(8, len(raw) // 100):
            raise DataError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
                            "convert it to UTF-8 (e.g. `iconv -t utf-8`)") from exc
        return raw.decode("utf-8", errors="replace")


def chunk_text(text: str, size: int = CHUNK_BYTES) -> list[str]:
    """Cut text into pieces of about `size` bytes, on line breaks where possible."""
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if current and length + n > size:
            chunks.append("".join(current))
            current, length = [], 0
        while n > size:  # a single very long line
            chunks.append(line[:size])
            line = line[size:]
            n = len(line.encode("utf-8"))
        current.append(line)
        length += n
    if current:
        chunks.append("".join(current))
    return [c for c in chunks if c]


class TextFileImporter:
    """Text/Markdown corpus: chunks in file order, so the held-out split is the file's tail."""

    name: ClassVar[str] = "text"
    kinds: ClassVar[tuple[str, ...]] = ("text",)

    def accepts(self, path: Path) -> bool:
        """Accept text-like files by suffix."""
        return path.is_file() and path.suffix.lower() in TEXT_SUFFIXES

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield one continuation example per chunk, positioned by its place in the file."""
        chunks = chunk_text(read_text_file(path))
        if len(chunks) == 1 and task.heldout_fraction > 0:
            report.problems.append("only one chunk of text: all of it is training data; "
                                   "add more text to get a held-out split")
        for i, chunk in enumerate(chunks):
            ex = Example(prompt=[Part.of_text(chunk)], task=task.name, source="corpus")
            yield Record(ex, position=i / len(chunks) if len(chunks) > 1 else 0.0)
