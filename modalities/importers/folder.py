"""Shared walking of class folders: list the files first (an unreadable folder fails whole), then
decode each, reporting files that cannot be used by name and reason while the others land."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from harness.data.importer import FileReport
from harness.errors import DataError
from harness.types import Part


def _listdir(folder: Path) -> list[Path]:
    """Return a folder's entries (hidden ones left out), or raise DataError if unreadable."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except PermissionError as exc:
        raise DataError(f"the folder {folder} cannot be read: permission denied",
                        f"check its permissions (chmod +rx '{folder}'); nothing was added") from exc
    except OSError as exc:
        raise DataError(f"the folder {folder} cannot be read: {exc.strerror or exc}",
                        "check that the folder and its disk are reachable; nothing was added"
                        ) from exc


def readable_dir(path: Path) -> bool | None:
    """Return None for a folder that cannot be listed, else whether `path` is a folder."""
    if not path.is_dir():
        return False
    try:
        next(iter(path.iterdir()), None)
    except OSError:
        return None
    return True


def class_folders(root: Path, suffixes: tuple[str, ...]) -> list[tuple[str, Path]]:
    """Return (class, file) for every file in root's sub-folders, walking each class folder.

    Raises DataError when root or any class folder cannot be read, so nothing is half-added.
    """
    out: list[tuple[str, Path]] = []
    for sub in _listdir(root):
        if not sub.is_dir():
            continue
        stack = [sub]
        while stack:
            folder = stack.pop()
            for entry in _listdir(folder):
                if entry.is_dir():
                    stack.append(entry)
                elif entry.is_file():
                    out.append((sub.name, entry))
    return out


def has_class_folders(root: Path, suffixes: tuple[str, ...]) -> bool:
    """Return True if some direct sub-folder of root holds a file with one of `suffixes`."""
    try:
        for sub in root.iterdir():
            if sub.is_dir() and any(p.suffix.lower() in suffixes for p in sub.rglob("*")):
                return True
    except OSError:
        return False
    return False


def load_each(
    items: list[tuple[str, Path]],
    suffixes: tuple[str, ...],
    load: Callable[[Path], Part],
    report: FileReport,
    what: str,
) -> Iterator[tuple[str, Path, Part]]:
    """Decode each (label, file); bad or foreign files become `report.problems`, not errors."""
    total = len(items)
    for i, (label, path) in enumerate(items, start=1):
        if path.suffix.lower() not in suffixes:
            report.problems.append(f"{path.name}: skipped, not {what} file "
                                   f"({', '.join(suffixes)})")
        else:
            try:
                part = load(path)
            except DataError as exc:
                msg = exc.message if str(path) in exc.message else f"{path.name}: {exc.message}"
                report.problems.append(msg)
            else:
                yield label, path, part
        if i % 100 == 0 or i == total:
            report.tick(i, total)
