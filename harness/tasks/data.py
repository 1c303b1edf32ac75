"""A task's examples, read from the profile store once per process (or given in memory).

`TaskData` holds the examples of each split; the task kinds turn them into tensors once. The
cache key includes the task's example count and newest id, so data added since (a chat, an
import) is read again, while repeated evaluations in one worker process reuse the tensors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import ModelConfig, TaskConfig, parse_config
from harness.errors import ProfileError
from harness.profile import DB_NAME, Profile
from harness.store.db import Store
from harness.store.examples import iter_examples
from harness.store.records import get_setting
from harness.types import Example

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, int, str], Any] = {}
MAX_CACHED = 16


@dataclass
class TaskData:
    """A task's examples by split, plus where their attachments live."""

    train: list[Example] = field(default_factory=list)
    heldout: list[Example] = field(default_factory=list)
    attachments: Path | None = None
    profile: Path | None = None  # the profile's folder (plugin task kinds read settings there)

    def split(self, name: str) -> list[Example]:
        """Return the examples of a split ("train" or "heldout")."""
        return self.train if name == "train" else self.heldout


def profile_at(path: str | Path) -> Profile:
    """Open the profile stored in folder `path` (whatever INSITU_HOME says)."""
    folder = Path(path)
    if not (folder / DB_NAME).is_file():
        raise ProfileError(f"no profile database at {folder / DB_NAME}",
                           "pass the folder of an existing profile")
    store = Store(folder / DB_NAME)
    data = get_setting(store, "config")
    if data is None:
        store.close()
        raise ProfileError(f"the profile at {folder} has no configuration",
                           "create the profile again or import a bundle")
    return Profile(folder.name, folder, store, parse_config(data, f"profile at {folder}"))


def data_version(store: Store, task: str) -> tuple[int, str]:
    """Return (example count, newest example id) of a task: changes whenever examples are added."""
    row = store.query("SELECT count(*) AS n, max(id) AS last FROM examples WHERE task = ?", [task])
    return int(row[0]["n"]), str(row[0]["last"] or "")


def load_data(profile: Profile, task: str) -> TaskData:
    """Return a task's examples from the store (both splits)."""
    return TaskData(
        train=list(iter_examples(profile.store, task, "train")),
        heldout=list(iter_examples(profile.store, task, "heldout")),
        attachments=profile.attachments_dir,
        profile=profile.path,
    )


def cached(profile: Profile, task: str, kind: str, build: Any) -> Any:
    """Return build() for this profile's task and data version, computed once per process."""
    n, last = data_version(profile.store, task)
    key = (str(profile.path.resolve()), task, n, f"{last}:{kind}")
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    value = build()
    with _LOCK:
        if len(_CACHE) >= MAX_CACHED:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = value
    return value


def clear_cache() -> None:
    """Forget every cached task (tests; a worker that wants to free memory)."""
    with _LOCK:
        _CACHE.clear()


def model_config(profile: Profile | None) -> ModelConfig:
    """Return the profile's [model] settings (defaults without a profile)."""
    return profile.config.model if profile is not None else ModelConfig()


def task_config(profile: Profile, name: str | None) -> TaskConfig:
    """Return a task's config by name (the profile's first task for None)."""
    return profile.config.task(name) if name else profile.config.tasks[0]
