"""Fixtures: a trained chit-chat champion, served on loopback, and a student profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import chat_pairs, install_champion, session_checkpoint


@pytest.fixture(scope="session")
def champion_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the chit-chat champion once per session."""
    return session_checkpoint(tmp_path_factory.getbasetemp())


@pytest.fixture
def served(champion_ckpt: Path) -> Iterator[object]:
    """Serve profile 'mentor' (the champion) on a free loopback port in a thread."""
    from harness.profile import Profile
    from harness.serve.server import make_server, serve_in_thread

    install_champion("mentor", champion_ckpt)
    prof = Profile.open("mentor")
    server = make_server(prof, "127.0.0.1", 0)
    serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()
    prof.close()


@pytest.fixture
def student() -> Iterator[object]:
    """A chat profile 'student' holding 20 chit-chat pairs (its own data)."""
    from harness.profile import Profile
    from harness.store.examples import add_examples
    from harness.types import Example, Part

    prof = Profile.create("student")
    rows = [(Example([Part.of_text(p)], [Part.of_text(a)], source="corpus"), "train")
            for p, a in chat_pairs()[:20]]  # fmt: skip
    add_examples(prof.store, rows)
    yield prof
    prof.close()
