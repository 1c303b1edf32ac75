"""The chat takes a new champion only when it is as good on held-out data and rated replies."""

from __future__ import annotations

import copy

import torch

from harness.chat.session import ChatSession
from harness.chat.switch import Scores, decide
from harness.genome import canonical_json, content_hash
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.graph.train_step import train_lm
from harness.profile import Profile
from harness.store.examples import add_examples
from harness.store.population import add_individual, put_genome
from harness.types import Example, Part
from harness.vocab import encode_turn

PAIRS = [(f"what is {a} plus {b}?", f"{a} plus {b} is {a + b}.")
         for a in range(6) for b in range(6)]


def _champion(profile: Profile, graph: Graph, name: str) -> str:
    """Store `graph` as the profile's newest champion; return its individual id."""
    checkpoint.save(graph, profile.checkpoints_dir / f"{name}.safetensors")
    gid = put_genome(profile.store, content_hash(graph.genome), canonical_json(graph.genome),
                     graph.family, graph.num_parameters())  # fmt: skip
    return add_individual(profile.store, gid, checkpoint=f"{name}.safetensors", status="champion")


def test_decide_needs_both_kinds_of_evidence_to_hold() -> None:
    """Worse held-out bpb or rated score keeps the current model; missing evidence does not."""
    now = Scores(heldout_bpb=2.0, rated=-1.0, rated_count=4)
    assert decide(now, Scores(1.9, -0.9, 4)).switch
    assert not decide(now, Scores(2.5, -0.5, 4)).switch
    worse = decide(now, Scores(1.5, -2.0, 4))
    assert not worse.switch and "rated replies" in worse.reason
    assert decide(Scores(None, None, 0), Scores(9.0, -9.0, 0)).switch
    assert decide(now, Scores(None, None, 0)).switch


def test_an_untrained_champion_is_kept_out_and_a_better_one_taken(profile: Profile) -> None:
    """A random-weight champion loses on held-out data; a well-trained one is switched to."""
    rows = [(Example([Part.of_text(p)], [Part.of_text(a)], task="chat"),
             "heldout" if i % 6 == 0 else "train") for i, (p, a) in enumerate(PAIRS)]
    add_examples(profile.store, rows)
    with ChatSession(profile, seed=0, warm_seconds=2.0) as session:
        genome = seed("gru", 20_000, heads={"chat": {"op": "lm", "args": {}}}, context=128)
        raw = Graph(genome, generator=torch.Generator().manual_seed(3))
        bad = _champion(profile, raw, "raw")
        assert not session.refresh_champion()
        assert session.individual_id is None and "kept the current model" in (
            session.last_notice or "")
        kept = profile.store.query("SELECT individual_id FROM events WHERE kind = 'champion_kept'")
        assert [r["individual_id"] for r in kept] == [bad]
        assert not session.refresh_champion()  # not scored again
        good = copy.deepcopy(raw)
        tokens = torch.tensor([t for p, a in PAIRS for t in encode_turn(p, a)])
        train_lm(good, tokens, 300, batch=16, context=48, lr=1e-2, seed=0)
        better = _champion(profile, good.eval(), "good")
        assert session.refresh_champion()
        assert session.individual_id == better
        switched = profile.store.query("SELECT id FROM events WHERE kind = 'champion_switch'")
        assert len(switched) == 1
