"""Chat messages map onto the byte-level turn encoding; long chats keep their newest turns."""

from __future__ import annotations

import pytest

from harness.errors import DataError
from harness.serve.engine import Message, encode_chat, parse_messages
from harness.vocab import ASSISTANT, BOS, EOS, USER, encode_turn


def test_turns_map_to_the_vocab_encoding():
    msgs = parse_messages([{"role": "system", "content": "ignored"},
                           {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hello"},
                           {"role": "user", "content": [{"type": "text", "text": "How are"},
                                                        {"type": "text", "text": " you?"}]}])
    assert encode_chat(msgs, 1000) == encode_turn("Hi", "Hello") + encode_turn("How are you?")
    cont = [Message("user", "Hi"), Message("assistant", "Hel")]
    assert encode_chat(cont, 1000) == encode_turn("Hi", "Hel")[:-1]  # continue the reply


def test_long_chats_keep_the_newest_turns():
    msgs = [Message("user", "a" * 50), Message("assistant", "b" * 50), Message("user", "last")]
    assert encode_chat(msgs, 20) == encode_turn("last")
    tokens = encode_chat([Message("user", "x" * 100)], 20)
    assert tokens[:2] == [BOS, USER] and tokens[-1] == ASSISTANT and len(tokens) <= 20
    assert EOS not in tokens


@pytest.mark.parametrize("raw", [[], "hi", [{"role": "tool", "content": "x"}],
                                 [{"role": "system", "content": "only system"}],
                                 [{"role": "user", "content": [{"type": "image_url"}]}]])
def test_bad_messages(raw):
    with pytest.raises(DataError):
        parse_messages(raw)


@pytest.mark.parametrize("temperature", [0.0, 0.9])
def test_served_replies_are_the_same_on_the_native_and_torch_paths(monkeypatch, temperature):
    """One seed gives the same reply, counts and finish reason natively and on PyTorch."""
    import torch

    from harness.graph.build import Graph
    from harness.graph.generate import Sampling
    from harness.graph.seeds import seed
    from harness.serve.engine import ChampionModel

    graph = Graph(seed("lstm", 8_000), device="cpu", generator=torch.Generator().manual_seed(0))
    model = ChampionModel(graph, "x", context=128)
    sampling = Sampling(temperature=temperature, max_tokens=30)
    out = []
    for native in ("1", "0"):
        monkeypatch.setenv("INSITU_NATIVE", native)
        res = model.generate(encode_turn("Hi there"), sampling, seed=3, stop=["zz"])
        out.append((res.text, res.completion_tokens, res.finish_reason))
    assert out[0] == out[1]
    assert out[0][1] > 0
