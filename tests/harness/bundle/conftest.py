"""A real evolved profile exported once per test session; each test imports its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bundle import export_bundle

from .helpers import evolved_profile


@pytest.fixture(scope="session")
def source_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Export a tiny evolved profile (with population and data) and return the bundle path."""
    tmp = tmp_path_factory.mktemp("source")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSITU_HOME", str(tmp / "home"))
        with evolved_profile(tmp) as prof:
            export_bundle(prof, tmp / "friend.insitu", population=True, include_data=True,
                          license="MIT")
    return tmp / "friend.insitu"


@pytest.fixture
def bundle_copy(source_bundle: Path, tmp_path: Path) -> Path:
    """Return a private copy of the session's bundle."""
    dst = tmp_path / "copy.insitu"
    dst.write_bytes(source_bundle.read_bytes())
    return dst
