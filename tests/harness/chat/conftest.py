"""Fixtures of the chat tests: a fresh chat profile and a session on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.chat.session import ChatSession
from harness.graph.generate import Sampling
from harness.profile import Profile

GREEDY = Sampling(temperature=0.0, max_tokens=24)


@pytest.fixture
def profile() -> Iterator[Profile]:
    """Return a new profile from the chat template."""
    prof = Profile.create("p", "chat")
    yield prof
    prof.close()


@pytest.fixture
def session(profile: Profile) -> Iterator[ChatSession]:
    """Return a session on the fresh profile (seed model, no warm-up data)."""
    s = ChatSession(profile, seed=0)
    s.sampling = GREEDY
    yield s
    s.close()
