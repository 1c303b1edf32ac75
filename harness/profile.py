"""A profile: one folder holding a SQLite database, checkpoints and attachments."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import ProfileConfig, parse_config
from harness.errors import ProfileError
from harness.ids import new_id
from harness.paths import check_profile_name, profile_dir, profiles_dir, stored_checkpoint
from harness.shipped import blank_by_default, install, template_champion
from harness.store.db import Store
from harness.store.files import _fsync_dir, clean_stale_temps
from harness.store.records import get_setting, set_setting
from harness.templates import DEFAULT_TEMPLATE, load_template

DB_NAME = "profile.db"
DEFAULT_PROFILE = "default"


def profile_flag(name: str | None) -> str:
    """Return " -p NAME" for a command in a hint, or "" for the default profile."""
    return f" -p {name}" if name and name != DEFAULT_PROFILE else ""


def _blank(blank: bool | None) -> bool:
    """Return whether a new profile skips its template's shipped champion."""
    return blank_by_default() if blank is None else blank


class Profile:
    """An open profile: its folder, store and validated configuration."""

    def __init__(self, name: str, path: Path, store: Store, config: ProfileConfig) -> None:
        self.name = name
        self.path = path
        self.store = store
        self.config = config

    @property
    def checkpoints_dir(self) -> Path:
        """Return the folder of safetensors checkpoints."""
        return self.path / "checkpoints"

    def checkpoint_file(self, rel: str | None) -> Path | None:
        """Return the file of a checkpoint path stored in this profile's records, or None."""
        return stored_checkpoint(self.path, rel)

    def checkpoint_path(self, rel: str) -> Path:
        """Return the file of a stored checkpoint path, or where it belongs when it is missing
        (so loading it names that place in its error)."""
        return self.checkpoint_file(rel) or self.path / rel

    @property
    def attachments_dir(self) -> Path:
        """Return the folder of content-addressed attachments."""
        return self.path / "attachments"

    @property
    def template(self) -> str:
        """Return the name of the template the profile was created from."""
        return str(get_setting(self.store, "template", ""))

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def create(cls, name: str, template: str = DEFAULT_TEMPLATE,
               blank: bool | None = None) -> Profile:  # fmt: skip
        """Create a new profile from a template; fail if it exists. Built aside, then renamed.

        The template's shipped champion (if any) becomes the profile's first champion unless
        `blank` (default: $INSITU_BLANK_PROFILES) asks for a profile that starts from seeds.
        """
        final = profile_dir(name)
        if final.exists():
            raise ProfileError(
                f"profile '{name}' already exists at {final}",
                f"pick another name, or delete it first with `insitu profile delete {name}`",
            )
        template_name, config = load_template(template)
        root = profiles_dir()
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".creating-{name}-{new_id()}"
        staging.mkdir()
        try:
            (staging / "checkpoints").mkdir()
            (staging / "attachments").mkdir()
            with Store(staging / DB_NAME, create=True) as store:
                set_setting(store, "config", config.to_dict())
                set_setting(store, "template", template_name)
                set_setting(store, "created_at", time.time())
                set_setting(store, "created_with", __version__)
                with store.write() as db:
                    for task in config.tasks:
                        db.table("tasks").insert(
                            {
                                "name": task.name,
                                "kind": task.kind,
                                "config": json.dumps(task.__dict__),
                                "created_at": time.time(),
                            }
                        )
                shipped = None if _blank(blank) else template_champion(template)
                if shipped is not None:
                    install(store, staging, shipped, template_name)
            try:
                os.rename(staging, final)
            except OSError as exc:
                raise ProfileError(
                    f"profile '{name}' was created by another process meanwhile ({exc})",
                    f"open it with `-p {name}`",
                ) from exc
            _fsync_dir(root)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return cls.open(name, create_default=False)

    @classmethod
    def open(cls, name: str = DEFAULT_PROFILE, create_default: bool = True) -> Profile:
        """Open a profile; the `default` profile is created on first use from the chat template."""
        path = profile_dir(name)
        if not (path / DB_NAME).exists():
            if name == DEFAULT_PROFILE and create_default and not path.exists():
                return cls.create(name, DEFAULT_TEMPLATE)
            known = ", ".join(list_profiles()) or "none yet"
            raise ProfileError(
                f"no profile '{name}' (profiles: {known})",
                f"create it with `insitu profile create {name}`",
            )
        store = Store(path / DB_NAME)
        data = get_setting(store, "config")
        if data is None:
            store.close()
            raise ProfileError(
                f"profile '{name}' has no configuration in {path / DB_NAME}",
                "move the folder aside and create the profile again, or import a bundle",
            )
        config = parse_config(data, f"profile '{name}'")
        for sub in ("checkpoints", "attachments"):
            (path / sub).mkdir(exist_ok=True)
            clean_stale_temps(path / sub)
        return cls(name, path, store, config)

    def close(self) -> None:
        """Close the profile's store."""
        self.store.close()

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def summary(self) -> dict[str, Any]:
        """Return what `insitu profile show` prints: config, counts and sizes."""
        tables = ["conversations", "messages", "ratings", "tags", "examples", "attachments",
                  "genomes", "individuals", "events"]
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return {
            "name": self.name,
            "path": str(self.path),
            "template": self.template,
            "description": self.config.description,
            "tasks": [{"name": t.name, "kind": t.kind, "modality": t.modality}
                      for t in self.config.tasks],
            "counts": {t: self.store.count(t) for t in tables},
            "size_bytes": size,
            "config": self.config.to_dict(),
        }


def list_profiles() -> list[str]:
    """Return the names of existing profiles, sorted."""
    root = profiles_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / DB_NAME).exists())


def delete_profile(name: str) -> Path:
    """Delete a profile folder (moved aside first, so a crash never leaves half a profile)."""
    path = profile_dir(check_profile_name(name))
    if not path.exists():
        raise ProfileError(f"no profile '{name}'", "see the profiles with `insitu profile list`")
    trash = profiles_dir() / f".deleting-{name}-{new_id()}"
    os.rename(path, trash)
    shutil.rmtree(trash)
    return path
