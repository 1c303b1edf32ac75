"""`inspect_bundle`: what a bundle holds, read and verified without importing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .verify import read_bundle


def inspect_bundle(path: str | Path) -> dict[str, Any]:
    """Return a verified bundle's manifest facts, file list, gate metrics and lineage."""
    bundle = read_bundle(path)
    m = bundle.manifest
    lineage = bundle.json("profile/lineage.json") if "profile/lineage.json" in bundle.files \
        else []
    return {
        "path": str(bundle.path),
        "format": m.get("format"),
        "version": m.get("version"),
        "app": m.get("app"),
        "created": m.get("created"),
        "profile": m.get("profile"),
        "tasks": m.get("tasks"),
        "license": m.get("license"),
        "includes": m.get("includes"),
        "champion": m.get("champion"),
        "lineage": lineage,
        "files": m.get("files"),
        "verified": True,
    }
