"""Audio folders: one sub-folder per class (`words/yes/a.wav`), or the FSDD flat layout.

The Free Spoken Digit Dataset names its files `<digit>_<speaker>_<n>.wav` in one folder; the
label is the digit, the speaker is kept in the example's provenance (so a speaker-held-out split
can be made) and the data set's standard split holds recordings 0-4 of each digit and speaker
out. A single wav is labelled by its FSDD name, else by the folder it is in. Each file is decoded
and checked before anything is stored; bad files are reported by name and reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from harness.config import TaskConfig
from harness.data.importer import FileReport, Record
from harness.errors import DataError
from harness.types import Example, Part
from modalities.audio import AudioModality
from modalities.importers.folder import (
    _listdir,
    class_folders,
    has_class_folders,
    load_each,
    readable_dir,
)
from modalities.importers.imagefolder import check_task

FSDD_NAME = re.compile(r"^(?P<label>[^_/]+)_(?P<speaker>[^_/]+)_(?P<n>\d+)\.wav$", re.IGNORECASE)
#: FSDD's standard split: recordings 0..4 of each digit and speaker are the test set.
FSDD_TEST_BELOW = 5


def suffixes() -> tuple[str, ...]:
    """Return the audio file suffixes this installation reads."""
    return AudioModality.suffixes


def fsdd_fields(path: Path) -> tuple[str, str, int] | None:
    """Return (label, speaker, index) of an FSDD-style file name, or None."""
    m = FSDD_NAME.match(path.name)
    return (m["label"], m["speaker"], int(m["n"])) if m else None


def _is_flat(path: Path) -> bool:
    """Return True if a folder directly holds FSDD-style named recordings."""
    try:
        return any(fsdd_fields(p) for p in path.iterdir() if p.is_file())
    except OSError:
        return False


class AudioFolderImporter:
    """A folder of class sub-folders of recordings, an FSDD folder, or one recording."""

    name: ClassVar[str] = "audiofolder"
    kinds: ClassVar[tuple[str, ...]] = ("label",)

    def accepts(self, path: Path) -> bool:
        """Accept audio files, unreadable folders (to explain) and class or FSDD folders."""
        ok = readable_dir(path)
        if ok is None:
            return True
        if ok:
            return _is_flat(path) or has_class_folders(path, suffixes())
        return path.suffix.lower() in suffixes()

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield one recording -> label example per good file; list the bad ones in the report."""
        modality = AudioModality()
        if not path.is_dir():
            check_task(task, "audio", "recordings")
            fields = fsdd_fields(path)
            part = modality.load(path)  # a bad single file is rejected whole
            yield _record(part, fields[0] if fields else path.parent.name, path, task)
            return
        if _is_flat(path):
            items = [(f[0], p) for p in _listdir(path)
                     if p.is_file() and (f := fsdd_fields(p))]  # fmt: skip
            others = [p for p in _listdir(path) if p.is_file() and not fsdd_fields(p)]
            for p in others:
                report.problems.append(f"{p.name}: skipped, not named <label>_<speaker>_<n>.wav")
        else:
            items = class_folders(path, suffixes())  # unreadable folders fail before any write
        check_task(task, "audio", "audio folders")
        if not items:
            raise DataError(f"{path} has no recordings",
                            "lay it out as FOLDER/<class>/<clip>.wav or FSDD's "
                            "<digit>_<speaker>_<n>.wav")
        for label, file, part in load_each(items, suffixes(), modality.load, report,
                                           "an audio"):  # fmt: skip
            yield _record(part, label, file, task)


def _record(part: Part, label: str, path: Path, task: TaskConfig) -> Record:
    """Return the record of one labelled clip; FSDD names give the speaker and the split."""
    ex = Example([part], [Part.of_label(label)], task=task.name, source="import")
    fields = fsdd_fields(path)
    if fields is None:
        return Record(ex, key=f"{label}/{path.name}")
    _, speaker, n = fields
    return Record(ex, key=path.name, split="heldout" if n < FSDD_TEST_BELOW else "train",
                  meta={"speaker": speaker})
