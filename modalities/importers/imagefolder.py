"""Image folders with one sub-folder per class (`digits/7/a.png` is a 7), or single images.

A single image file is labelled by the folder it is in. Every image is decoded and checked
(truncated files, decompression bombs, non-images named .png) before anything is stored; files
that cannot be used are reported by name and reason, the others land.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from harness.config import TaskConfig
from harness.data.importer import FileReport, Record
from harness.errors import DataError
from harness.types import Example, Part
from modalities.image import SUFFIXES, ImageModality
from modalities.importers.folder import class_folders, has_class_folders, load_each, readable_dir


def check_task(task: TaskConfig, modality: str, what: str) -> None:
    """Raise DataError unless the task takes this modality."""
    if task.modality != modality:
        a = "an" if modality[0] in "aeiou" else "a"
        template = "mnist" if modality == "image" else "spoken-digits"
        raise DataError(f"{what} go to {a} {modality} task; task {task.name} takes "
                        f"{task.modality}", f"pass --task with {a} {modality} task, or use a "
                        f"profile made from the {template} template")


class ImageFolderImporter:
    """A folder of class sub-folders of images, or one image labelled by its folder's name."""

    name: ClassVar[str] = "imagefolder"
    kinds: ClassVar[tuple[str, ...]] = ("label",)

    def accepts(self, path: Path) -> bool:
        """Accept image files, unreadable folders (to explain) and folders of class folders."""
        ok = readable_dir(path)
        if ok is None:
            return True
        if ok:
            return has_class_folders(path, SUFFIXES)
        return path.suffix.lower() in SUFFIXES

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield one image -> label example per good image; list the bad ones in the report."""
        modality = ImageModality()
        if not path.is_dir():
            check_task(task, "image", "images")
            part = modality.load(path)  # a bad single file is rejected whole
            yield _record(part, path.parent.name, path, task)
            return
        items = class_folders(path, SUFFIXES)  # unreadable folders fail here, before any write
        check_task(task, "image", "image folders")
        if not items:
            raise DataError(f"{path} has no images in class sub-folders",
                            "lay it out as FOLDER/<class>/<image>.png")
        for label, file, part in load_each(items, SUFFIXES, modality.load, report, "an image"):
            yield _record(part, label, file, task)


def _record(part: Part, label: str, path: Path, task: TaskConfig) -> Record:
    """Return the record of one labelled image (split by a hash of its class and name)."""
    ex = Example([part], [Part.of_label(label)], task=task.name, source="import")
    return Record(ex, key=f"{label}/{path.name}")
