"""Model selection: the champion when there is one, else a seed warmed up on the profile's data."""

from __future__ import annotations

import torch

from harness.chat.model import SEED_FILE, load_chat_model, training_pairs
from harness.genome import canonical_json, content_hash
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.online.batch import collate, mean_logprob, token_logprobs
from harness.profile import Profile
from harness.store.examples import add_examples
from harness.store.population import add_individual, put_genome
from harness.types import Example, Part


def test_seed_is_warmed_on_examples_and_kept(profile: Profile) -> None:
    """With examples, the seed trains briefly; it is saved once and reloaded with the same key."""
    pairs = [(f"say {w}", w) for w in ("yes", "no", "maybe", "hello")]
    add_examples(profile.store, [(Example([Part.of_text(p)], [Part.of_text(a)]), "train")
                                 for p, a in pairs])
    encoded = training_pairs(profile)
    assert len(encoded) == 4
    first = load_chat_model(profile, warm_seconds=1.0)
    assert (profile.path / SEED_FILE).is_file() and first.label.startswith("seed gru")
    with torch.no_grad(), first.graph.frozen_reference():
        inputs, targets, mask = collate(encoded, first.graph.device)
        warmed = mean_logprob(token_logprobs(first.graph, inputs, targets), mask).mean()
    assert float(warmed) > -3.0  # far above an untrained model's log(1/264) = -5.6
    again = load_chat_model(profile, warm_seconds=1.0)
    assert again.base_key == first.base_key and again.graph.adapter_rank == 4


def test_champion_is_preferred(profile: Profile) -> None:
    """A champion individual with a checkpoint is loaded instead of the seed."""
    genome = seed("rnn", 8_000, heads={"chat": {"op": "lm", "args": {}}}, context=128)
    graph = Graph(genome, generator=torch.Generator().manual_seed(0))
    checkpoint.save(graph, profile.path / "checkpoints" / "champ.safetensors")
    gid = put_genome(profile.store, content_hash(genome), canonical_json(genome), "rnn", 8_000)
    iid = add_individual(profile.store, gid, checkpoint="checkpoints/champ.safetensors",
                         status="champion")
    model = load_chat_model(profile)
    assert model.individual_id == iid and model.base_key == f"champion-{iid}"
    assert model.label.startswith("rnn") and f"champion {iid[:10]}" in model.label
    assert model.graph.control_size == 8 and not (profile.path / SEED_FILE).exists()


def test_session_switches_to_a_new_champion_between_replies(profile: Profile) -> None:
    """A champion stored by the worker is picked up by refresh_champion, once, with its label."""
    from harness.chat.session import ChatSession

    session = ChatSession(profile, seed=0)
    try:
        assert session.individual_id is None and not session.refresh_champion()
        genome = seed("gru", 8_000, heads={"chat": {"op": "lm", "args": {}}}, context=128)
        graph = Graph(genome, generator=torch.Generator().manual_seed(1))
        checkpoint.save(graph, profile.path / "checkpoints" / "new.safetensors")
        gid = put_genome(profile.store, content_hash(genome), canonical_json(genome), "gru", 8_000)
        iid = add_individual(profile.store, gid, checkpoint="checkpoints/new.safetensors",
                             status="champion")
        assert session.refresh_champion()
        assert session.individual_id == iid and "champion" in session.model_label
        assert not session.refresh_champion()
        session.send("hello")
        assert isinstance("".join(session.reply()), str)
    finally:
        session.close()
