"""Fixtures for the chat app tests: a fresh profile (helpers live in tui_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness.profile import Profile  # noqa: E402


@pytest.fixture
def profile_name(insitu_home: Path) -> str:
    """Create an empty profile `ui` and return its name."""
    Profile.create("ui").close()
    return "ui"
