"""Tests of the byte-token vocabulary and the incremental UTF-8 decoder."""

from __future__ import annotations

import random

import numpy as np

from harness import vocab
from harness.types import Example, Part


def _stream(ids: list[int]) -> list[str]:
    dec = vocab.IncrementalDecoder()
    return [dec.feed(i) for i in ids] + [dec.flush()]


def test_specials_follow_the_bytes():
    """The eight specials sit right after the 256 byte values."""
    assert vocab.VOCAB_SIZE == 264
    assert sorted(vocab.SPECIALS.values()) == list(range(256, 264))


def test_emoji_split_across_tokens_is_emitted_whole():
    """A four-byte emoji fed byte by byte appears once, whole, on its last byte."""
    ids = vocab.encode_text("a😀b")
    pieces = _stream(ids)
    assert pieces[:6] == ["a", "", "", "", "😀", "b"]
    assert "".join(pieces) == "a😀b"


def test_decoder_never_emits_a_broken_character():
    """Random multilingual text streamed byte by byte only ever yields whole characters."""
    rng = random.Random(3)
    alphabet = "aé中😀ü\n ğ𝄞ß"
    for _ in range(50):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        pieces = _stream(vocab.encode_text(text))
        assert "".join(pieces) == text
        assert all("\ufffd" not in p for p in pieces)


def test_specials_are_not_text():
    """Special tokens in the stream produce no characters and do not break a character."""
    ids = [vocab.BOS, *"é".encode(), vocab.EOS]
    assert "".join(_stream(ids)) == "é"


def test_incomplete_tail_is_dropped_not_shown_broken():
    """A stream ending inside a character shows nothing for it."""
    ids = list("x😀".encode())[:-1]
    dec = vocab.IncrementalDecoder()
    out = "".join(dec.feed(i) for i in ids)
    assert dec.pending
    assert out + dec.flush() == "x"


def test_turn_encoding_layout():
    """A turn is BOS USER bytes [IMAGE] [AUDIO] ASSISTANT reply EOS."""
    img = Part.of_image(np.zeros((2, 2, 3), dtype=np.uint8))
    snd = Part.of_audio(np.zeros(8, dtype=np.float32), 16000)
    ids = vocab.encode_turn([Part.of_text("hi"), img, snd], "ok")
    assert ids == [vocab.BOS, vocab.USER, 104, 105, vocab.IMAGE, vocab.AUDIO, vocab.ASSISTANT] + [
        111,
        107,
        vocab.EOS,
    ]
    assert vocab.encode_turn("hi")[-1] == vocab.ASSISTANT
    assert vocab.decode(ids) == "hiok"
    assert vocab.render(ids).startswith("<BOS><USER>hi<IMAGE>")


def test_example_round_trips_through_json_dicts():
    """An example with text, image and audio parts survives to_dict/from_dict."""
    img = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    snd = np.linspace(-1, 1, 5, dtype=np.float32)
    ex = Example(
        [Part.of_text("hé"), Part.of_image(img), Part.of_audio(snd, 8000)],
        [Part.of_label("cat")],
        task="pets",
        source="corpus",
        weight=0.5,
    )
    back = Example.from_dict(ex.to_dict())
    assert back.prompt[0].text == "hé" and back.answer and back.answer[0].label == "cat"
    assert np.array_equal(back.prompt[1].image, img)
    assert np.array_equal(back.prompt[2].audio, snd) and back.prompt[2].sample_rate == 8000
    ref = Part(kind="image", image=img, attachment="ab" * 32).to_dict(inline=False)
    assert "image" not in ref and ref["attachment"] == "ab" * 32


def test_parts_compare_by_value_including_arrays():
    """Parts with equal arrays are equal; examples compare through their parts."""
    img = np.zeros((2, 2, 3), dtype=np.uint8)
    a = Example([Part.of_text("x"), Part.of_image(img)], created_at=1.0)
    b = Example([Part.of_text("x"), Part.of_image(img.copy())], created_at=1.0)
    assert a == b and Example.from_dict(a.to_dict()) == a
    b.prompt[1].image[0, 0, 0] = 1
    assert a != b
