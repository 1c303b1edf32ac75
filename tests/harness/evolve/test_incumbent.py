"""A champion from outside the runs (shipped or imported) seeds a new run with its weights."""

from __future__ import annotations

import json

import torch

from harness.evolve import InlineEvaluator, run
from harness.evolve.incumbent import find_incumbent, fits
from harness.evolve.seeding import plan_tasks
from harness.genome import canonical_json, content_hash
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.graph.train_step import train_lm
from harness.store.population import add_individual, put_genome
from harness.vocab import encode_text

from .helpers import make_profile


def test_the_incumbent_joins_the_seeds_with_its_trained_weights(tmp_path):
    """The first seed is the incumbent (lineage kept) and, trained before, it scores best."""
    prof = make_profile(tmp_path, population=4, steps=5)
    text = (tmp_path / "evo.txt").read_text()
    genome = seed("gru", 4_000, heads={"chat": {"op": "lm", "args": {}}}, context=32)
    graph = Graph(genome, device="cpu", generator=torch.Generator().manual_seed(0))
    train_lm(graph, torch.tensor(encode_text(text)), 150, batch=16, context=32, lr=1e-2, seed=0)
    checkpoint.save(graph.eval(), prof.checkpoints_dir / "friend.safetensors")
    gid = put_genome(prof.store, content_hash(genome), canonical_json(genome), "gru",
                     graph.num_parameters())
    friend = add_individual(prof.store, gid, checkpoint="friend.safetensors", status="champion")
    assert find_incumbent(prof.store, prof.path, plan_tasks(prof.config, prof.store, None))

    run(prof, generations=1, evaluator=InlineEvaluator())
    rows = prof.store.query("SELECT id, operator, metrics FROM individuals WHERE run_id IS NOT "
                            "NULL AND operator IN ('seed', 'incumbent') ORDER BY birth")
    assert rows[0]["operator"] == "incumbent" and len(rows) >= 2
    link = prof.store.query("SELECT parent_id FROM lineage WHERE child_id = ?", [rows[0]["id"]])
    assert [r["parent_id"] for r in link] == [friend]
    metrics = [json.loads(r["metrics"]) for r in rows]
    bpb = [m["train_bpb"] for m in metrics]  # the first phase measures the training split
    assert bpb[0] < min(bpb[1:]), bpb  # 150 steps before plus 5 beat 5 steps from scratch
    kinds = {r["kind"] for r in prof.store.query("SELECT DISTINCT kind FROM events")}
    assert "incumbent" in kinds


def test_an_incumbent_without_the_tasks_head_is_not_used(tmp_path):
    """A graph with another task's head (a friend's MNIST classifier) does not seed a text run."""
    prof = make_profile(tmp_path, population=2, steps=5)
    plan = plan_tasks(prof.config, prof.store, None)
    other = seed("mlp", 4_000, heads={"digits": {"op": "classify", "args": {"classes": 10}}},
                 context=32)
    assert not fits(other, plan)
    assert fits(seed("mlp", 4_000, heads={"chat": {"op": "lm", "args": {}}}, context=32), plan)
