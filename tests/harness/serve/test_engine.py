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
