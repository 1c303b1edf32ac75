"""The plugin registry finds built-ins through entry points and names unknown plugins."""

from __future__ import annotations

import pytest

from harness import registry
from harness.errors import PluginError


def test_builtin_checks_register_through_entry_points() -> None:
    """The audio doctor check (in `modalities`) is found like a third-party plugin."""
    assert "audio" in registry.checks


def test_unknown_name_lists_known_ones() -> None:
    """Asking for an unknown plugin raises PluginError naming the known ones."""
    reg: registry.Registry[int] = registry.Registry("thing", "insitu.test-nothing")
    reg.register("one", 1)
    assert reg.get("one") == 1
    with pytest.raises(PluginError, match="unknown thing 'two' .known: one."):
        reg.get("two")
