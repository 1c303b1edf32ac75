"""Test helpers: a quickly trained chit-chat champion installed in a profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
import yaml

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CORPUS = SHARED_DATA / "chatterbot-corpus" / "english"
SLICE = ("greetings", "conversations")


def chat_pairs(names: tuple[str, ...] = SLICE) -> list[tuple[str, str]]:
    """Return consecutive (prompt, reply) lines of chatterbot conversations."""
    pairs = []
    for name in names:
        data = yaml.safe_load((CORPUS / f"{name}.yml").read_text(encoding="utf-8"))
        for conv in data.get("conversations", []):
            for a, b in zip(conv, conv[1:], strict=False):
                if isinstance(a, str) and isinstance(b, str):
                    pairs.append((a, b))
    return pairs


def train_checkpoint(path: Path, steps: int = 100, seed: int = 0) -> Path:
    """Train a small RNN on the chit-chat slice's turns and save it as a checkpoint."""
    from harness.graph.build import Graph
    from harness.graph.checkpoint import save
    from harness.graph.seeds import seed as make_seed
    from harness.graph.train_step import train_lm
    from harness.vocab import encode_turn

    tokens = [t for p, r in chat_pairs() for t in encode_turn(p, r)]
    graph = Graph(make_seed("rnn", 10_000, context=128), "cpu", torch.Generator().manual_seed(seed))
    train_lm(graph, torch.tensor(tokens), steps, batch=16, context=48, lr=1e-2, seed=seed)
    return save(graph.eval(), path)


def install_champion(profile_name: str, checkpoint: Path) -> str:
    """Create a chat profile whose champion is the checkpoint; return the individual id."""
    from harness.genome import canonical_json, content_hash
    from harness.graph.checkpoint import load
    from harness.profile import Profile
    from harness.store.population import add_individual, put_genome

    with Profile.create(profile_name) as prof:
        shutil.copy(checkpoint, prof.checkpoints_dir / "champion.safetensors")
        graph = load(checkpoint)
        gid = put_genome(prof.store, content_hash(graph.genome), canonical_json(graph.genome),
                         graph.family, graph.num_parameters())  # fmt: skip
        return add_individual(prof.store, gid, checkpoint="champion.safetensors",
                              status="champion")  # fmt: skip


def session_checkpoint(base: Path) -> Path:
    """Return the chit-chat champion trained once per test session (kept under `base`)."""
    path = base / "insitu-champion.safetensors"
    if not path.exists():
        train_checkpoint(path)
    return path
