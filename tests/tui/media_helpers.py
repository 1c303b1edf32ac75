"""Helpers for the media chat tests: a small MNIST label profile from real digits saved as PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from harness.data.idx import read_idx
from harness.data.ingest import add_paths
from harness.profile import Profile
from tui.app import InsituApp

DIGITS = [str(d) for d in range(10)]
#: Deterministic warm-up of the chat's seed classifier (steps, not seconds: same model each run).
WARM_STEPS = 40


def digit_pngs(shared: Path, folder: Path, count: int, start: int = 0) -> list[tuple[Path, int]]:
    """Save `count` real MNIST test digits as PNGs in class folders; return (path, label)."""
    src = shared / "mnist"
    images = read_idx(src / "t10k-images-idx3-ubyte.gz")[start:start + count]
    labels = read_idx(src / "t10k-labels-idx1-ubyte.gz")[start:start + count]
    out = []
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        path = folder / str(int(label)) / f"{start + i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(image), "L").save(path)
        out.append((path, int(label)))
    return out


def mnist_profile(shared: Path, tmp: Path, name: str = "m", count: int = 300) -> None:
    """Create an `mnist` profile holding `count` real digits (added from PNG class folders)."""
    digit_pngs(shared, tmp / "train", count, start=1000)
    with Profile.create(name, "mnist") as prof:
        add_paths(prof, [tmp / "train"])


def label_factory(warm_steps: int = WARM_STEPS) -> Callable[..., Any]:
    """Return a session factory for the real ChatSession with a deterministic warm-up."""
    from harness.chat.session import ChatSession

    def factory(profile: Profile, **kwargs: Any) -> ChatSession:
        """Open the session with the fixed warm-up."""
        return ChatSession(profile, warm_steps=warm_steps, **kwargs)

    return factory


def label_app(name: str, sentiment: Callable[[str], float] | None = None) -> InsituApp:
    """Return the app on the real ChatSession of label profile `name` (no evolution worker)."""
    return InsituApp(name, session_factory=label_factory(), sentiment=sentiment,
                     use_default_sentiment=False, evolve=False, seed=0)


def notes(app: Any) -> list[str]:
    """Return the texts of the app's notifications."""
    return [n.message for n in app._notifications]
