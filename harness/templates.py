"""Starter profile templates: TOML files shipped in the `profiles` folder."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from harness.config import ProfileConfig, parse_config
from harness.errors import ConfigError

DEFAULT_TEMPLATE = "chat"


def _template_files() -> dict[str, str]:
    """Return {template name: TOML text} for the templates shipped with insitu."""
    out: dict[str, str] = {}
    for entry in resources.files("profiles").iterdir():
        if entry.name.endswith(".toml"):
            out[entry.name[: -len(".toml")]] = entry.read_text(encoding="utf-8")
    return out


def template_names() -> list[str]:
    """Return the names of the shipped templates, sorted."""
    return sorted(_template_files())


def load_template_text(name_or_path: str) -> tuple[str, str]:
    """Return (template name, TOML text) for a shipped template name or a .toml path."""
    files = _template_files()
    if name_or_path in files:
        return name_or_path, files[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return path.stem, path.read_text(encoding="utf-8")
    raise ConfigError(
        f"no template '{name_or_path}'",
        f"use one of: {', '.join(sorted(files))}, or a path to a .toml file",
    )


def parse_template(text: str, source: str) -> ProfileConfig:
    """Parse and validate template TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        hint = "fix the syntax at that line"
        raise ConfigError(f"{source} is not valid TOML: {exc}", hint) from None
    return parse_config(data, source)


def load_template(name_or_path: str) -> tuple[str, ProfileConfig]:
    """Return (template name, validated config) for a template name or path."""
    name, text = load_template_text(name_or_path)
    return name, parse_template(text, f"template '{name}'")
