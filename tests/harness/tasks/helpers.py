"""Builders shared by the task and training tests: profiles with data, tiny seeded graphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.profile import Profile
from harness.store.examples import add_examples
from harness.types import Example, Part


def text_profile(name: str = "p", template: str = "shakespeare") -> Profile:
    """Create and open a fresh profile from a template."""
    return Profile.create(name, template)


def add_corpus(prof: Profile, task: str, train: str, heldout: str = "") -> None:
    """Store a training and a held-out corpus chunk for a task."""
    rows = [(Example([Part.of_text(train)], task=task, source="corpus"), "train")]
    if heldout:
        rows.append((Example([Part.of_text(heldout)], task=task, source="corpus"), "heldout"))
    add_examples(prof.store, rows)


def add_pairs(prof: Profile, task: str, pairs: list[tuple[str, str]], split: str = "train") -> None:
    """Store prompt -> answer pairs in one split of a task."""
    rows = [(Example([Part.of_text(p)], [Part.of_text(a)], task=task, source="import"), split)
            for p, a in pairs]
    add_examples(prof.store, rows)


def shakespeare(shared_data: Path, start: int, length: int) -> str:
    """Return a slice of tiny shakespeare."""
    text = (shared_data / "tinyshakespeare" / "input.txt").read_text()
    return text[start : start + length]


def graph_for(heads: dict[str, Any], family: str = "gru", budget: int = 12_000,
              context: int = 32, modalities: tuple[str, ...] = ("text",),
              train: dict[str, Any] | None = None, init_seed: int = 0) -> Graph:
    """Return a small seeded graph of a family with the given heads."""
    genome = seed(family, budget, heads=heads, modalities=modalities, context=context,
                  train=train)
    return Graph(genome, device="cpu", generator=torch.Generator().manual_seed(init_seed))
