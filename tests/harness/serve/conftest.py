"""Fixtures: a trained chit-chat champion served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.teachers.helpers import install_champion, session_checkpoint


@pytest.fixture(scope="session")
def champion_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the chit-chat champion once per session."""
    return session_checkpoint(tmp_path_factory.getbasetemp())


@pytest.fixture
def mentor(champion_ckpt: Path) -> Iterator[object]:
    """Profile 'mentor' whose champion is the trained checkpoint."""
    from harness.profile import Profile

    install_champion("mentor", champion_ckpt)
    prof = Profile.open("mentor")
    yield prof
    prof.close()


@pytest.fixture
def served(mentor: object) -> Iterator[object]:
    """Serve 'mentor' on a free loopback port in a thread."""
    from harness.serve.server import make_server, serve_in_thread

    server = make_server(mentor, "127.0.0.1", 0)  # type: ignore[arg-type]
    serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()
