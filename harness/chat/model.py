"""Which graph the chat talks to: the profile's champion, else a seed trained briefly on its data.

A seed is built once per profile (a GRU at a modest budget, warmed up for a few seconds on the
profile's examples when there are any) and kept in `checkpoints/chat/seed.safetensors`, so the
adapters learned online on it stay valid across restarts. Either way, zero-impact adapters
(rank from the online settings) and a control input are added at load.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.errors import DataError
from harness.graph import checkpoint
from harness.graph.adapters import CONTROL_SIZE
from harness.graph.build import Graph
from harness.graph.seeds import seed as seed_genome
from harness.online.adam import Adam
from harness.online.batch import Pair, encode_pair
from harness.online.losses import batch_loss
from harness.online.replay import POSITIVE, Item
from harness.profile import Profile
from harness.store.examples import iter_examples
from harness.vocab import encode_parts

SEED_FAMILY = "gru"
SEED_BUDGET = 60_000
SEED_FILE = "checkpoints/chat/seed.safetensors"
#: how long a new seed trains on the profile's examples before the first reply (seconds)
WARM_SECONDS = 3.0
WARM_BATCH = 16


@dataclass
class ChatModel:
    """A graph ready for chat, with a label for people and a key for its online state."""

    graph: Graph
    label: str
    base_key: str
    individual_id: str | None = None


def text_task(profile: Profile) -> str:
    """Return the name of the profile's first text task (the chat replies for it)."""
    for task in profile.config.tasks:
        if task.kind == "text":
            return task.name
    raise DataError(f"profile '{profile.name}' has no text task to chat with",
                    "create a chat profile: `insitu profile create NAME --from chat`")


def champion_row(profile: Profile) -> dict[str, Any] | None:
    """Return the newest champion individual whose checkpoint file exists, or None."""
    rows = profile.store.query(
        "SELECT i.id, i.checkpoint, g.family FROM individuals i JOIN genomes g "
        "ON g.id = i.genome_id WHERE i.status = 'champion' AND i.checkpoint IS NOT NULL "
        "ORDER BY i.id DESC"
    )
    return next((r for r in rows if profile.checkpoint_file(r["checkpoint"])), None)


def prepare(graph: Graph, rank: int, seed: int = 0, task: str | None = None) -> Graph:
    """Add zero-impact adapters and a control input where the graph lacks them; eval mode.

    With `task`, that task's head answers (a grown graph also has its friend's new task's).
    """
    if task is not None:
        graph.prefer_task(task)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    if graph.adapter_rank == 0:
        graph.to("cpu").add_adapters(rank, gen)
    if graph.control_size == 0:
        graph.add_control(CONTROL_SIZE)
    graph.adapters_enabled = True
    return graph.eval()


def label_for(graph: Graph, individual_id: str | None) -> str:
    """Return e.g. 'gru · 41k params · champion 01J…' or 'seed gru · 58k params (no champion …)'."""
    size = f"{graph.num_parameters() / 1000:.0f}k params"
    if individual_id:
        return f"{graph.family} · {size} · champion {individual_id[:10]}…"
    return f"seed {graph.family} · {size} (no champion yet)"


def _file_key(path: Path) -> str:
    """Return a short content hash of a file (the key of its online state)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_chat_model(
    profile: Profile, device: str | None = None, seed: int = 0, warm_seconds: float = WARM_SECONDS
) -> ChatModel:
    """Load the champion, else the profile's seed (built and warmed up on first use)."""
    rank = profile.config.online.adapter_rank
    dev = device or "cpu"
    row = champion_row(profile)
    if row is not None:
        path = profile.checkpoint_path(row["checkpoint"])
        graph = prepare(checkpoint.load(path, device="cpu"), rank, seed, text_task(profile)).to(dev)
        return ChatModel(graph, label_for(graph, row["id"]), f"champion-{row['id']}", row["id"])
    path = profile.path / SEED_FILE
    if not path.is_file():
        graph = build_seed(profile, seed)
        warm_start(graph, training_pairs(profile), warm_seconds, seed)
        checkpoint.save(graph, path)
    graph = prepare(checkpoint.load(path, device="cpu"), rank, seed, text_task(profile)).to(dev)
    return ChatModel(graph, label_for(graph, None), f"seed-{_file_key(path)}")


def build_seed(profile: Profile, seed: int = 0) -> Graph:
    """Build the profile's seed graph: a GRU (or the first allowed family) at a modest budget."""
    cfg = profile.config.model
    allowed = [f for f in cfg.families if f not in ("random", "cnn")]
    family = SEED_FAMILY if SEED_FAMILY in allowed or not allowed else allowed[0]
    budget = min(max(SEED_BUDGET, cfg.min_params), cfg.max_params)
    genome = seed_genome(family, budget, heads={text_task(profile): {"op": "lm", "args": {}}},
                         context=cfg.context)
    return Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed))


def training_pairs(profile: Profile, limit: int = 20_000) -> list[Pair]:
    """Return the text task's training examples as encoded turns (text-only ones as replies)."""
    context = profile.config.model.context
    pairs = []
    for ex in iter_examples(profile.store, text_task(profile), "train"):
        prompt = bytes(t for t in encode_parts(ex.prompt) if t < 256).decode("utf-8", "replace")
        if ex.answer is None:
            pairs.append(encode_pair("", prompt, context))
        else:
            answer = bytes(t for t in encode_parts(ex.answer) if t < 256)
            pairs.append(encode_pair(prompt, answer.decode("utf-8", "replace"), context))
        if len(pairs) >= limit:
            break
    return pairs


def warm_start(graph: Graph, pairs: list[Pair], seconds: float, seed: int = 0) -> int:
    """Train all of a new seed's weights on pairs for at most `seconds`; return the steps.

    1. Draw a batch of pairs with a seeded generator.
    2. Take an AdamW step on the replies' likelihood (the genome's learning rate, clipping).
    """
    if not pairs or seconds <= 0:
        return 0
    hp = graph.genome["train"]
    opt = Adam(list(graph.parameters()), lr=float(hp["lr"]),
               betas=(float(hp.get("beta1", 0.9)), float(hp.get("beta2", 0.99))),
               weight_decay=float(hp.get("weight_decay", 0.0)))
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    steps = 0
    graph.train()
    while time.monotonic() < deadline:
        batch = [Item("", p, POSITIVE, 1.0, 0.0) for p in rng.choices(pairs, k=WARM_BATCH)]
        loss, _ = batch_loss(graph, batch, None, [1.0] * len(batch))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(graph.parameters(), float(hp.get("clip") or 1.0))
        opt.step()
        steps += 1
    graph.eval()
    return steps
