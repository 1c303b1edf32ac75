"""The engine finds structure: on a copy task that needs memory, a memory family wins."""

from __future__ import annotations

import json
import random

import pytest

from harness.evolve import run

from .helpers import make_profile

MEMORY_FAMILIES = {"rnn", "gru", "lstm", "rwkv", "ssm", "transformer"}
MEMORY_OPS = {"rnn", "gru", "lstm", "rwkv", "ssm", "attention"}


def copy_corpus(lines: int = 3000, k: int = 5, alphabet: str = "ab", seed: int = 0) -> str:
    """Return lines `w|w` of random words: the second half is predictable only by memory."""
    rng = random.Random(seed)
    words = ("".join(rng.choice(alphabet) for _ in range(k)) for _ in range(lines))
    return "".join(f"{w}|{w}\n" for w in words)  # a lag of k+1 bytes: beyond a conv's kernel


@pytest.mark.slow
def test_a_memory_family_wins_the_copy_task(tmp_path):
    """From mlp, cnn, gru and transformer seeds, the champion after a short run has memory."""
    prof = make_profile(tmp_path, families=("mlp", "cnn", "gru", "transformer"),
                        text=copy_corpus(), population=4, steps=150, min_params=12_000,
                        max_params=20_000, context=32)
    s = run(prof, generations=1, workers=2, seed=0, settings={"seed_train": {"lr": 0.01}})
    champ = s.champion
    assert champ is not None, s.leaderboard
    ops = {n["op"] for n in prof.store.query(
        "SELECT g.json FROM individuals i JOIN genomes g ON g.id = i.genome_id WHERE i.id = ?",
        [champ["id"]]) for n in json.loads(n["json"])["nodes"]}
    assert champ["family"] in MEMORY_FAMILIES and ops & MEMORY_OPS, (champ["family"], ops)
    rows = prof.store.query("SELECT g.family, i.metrics FROM individuals i JOIN genomes g "
                            "ON g.id = i.genome_id WHERE i.operator = 'seed'")
    mlp = [json.loads(r["metrics"])["heldout_bpb"] for r in rows
           if r["family"] == "mlp"]
    assert mlp and mlp[0] > champ["metrics"]["heldout_bpb"] + 0.2
