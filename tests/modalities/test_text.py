"""Text and bytes: UTF-8 byte tokens, padding, and incremental decoding."""

from __future__ import annotations

from pathlib import Path

from harness import vocab
from harness.modality import ModalitySpec
from harness.types import Part
from modalities.text import TextModality

TXT = TextModality()


def test_text_file_loads_as_text_without_bom(tmp_path: Path) -> None:
    """A UTF-8 file (with a BOM) loads as a text part; invalid UTF-8 loads as bytes."""
    path = tmp_path / "note.txt"
    path.write_bytes(b"\xef\xbb\xbfh\xc3\xa9llo \xf0\x9f\x91\x8b")
    part = TXT.load(path)
    assert part.kind == "text" and part.text == "héllo 👋"
    raw = TXT.load(b"\xff\xfe\x00binary")
    assert raw.kind == "bytes" and raw.data == b"\xff\xfe\x00binary"
    assert TXT.describe(raw) == "9 bytes" and TXT.describe(part) == "'héllo 👋'"


def test_batch_is_byte_tokens_padded_with_pad() -> None:
    """Parts become int64 [B, T] of UTF-8 bytes, right-padded with PAD."""
    parts = [Part.of_text("hé"), Part.of_bytes(b"\x00\xff\x10\x20"), Part.of_label("7")]
    t = TXT.to_tensor(parts, ModalitySpec())  # [3, 4]
    assert t.shape == (3, 4) and str(t.dtype) == "torch.int64"
    assert t[0].tolist() == [104, 0xC3, 0xA9, vocab.PAD]
    assert t[1].tolist() == [0, 255, 16, 32]
    assert t[2].tolist() == [ord("7"), vocab.PAD, vocab.PAD, vocab.PAD]
    assert TXT.item_shape(parts[0], ModalitySpec()) == (3,)


def test_decoding_round_trip_and_streaming() -> None:
    """Tokens decode back to the text; streaming yields whole characters only."""
    text = "naïve 🙂 ok"
    ids = TXT.encode(Part.of_text(text))
    assert TXT.decode(ids + [vocab.EOS]) == text
    pieces = list(TXT.stream(ids))
    assert "".join(pieces) == text
    assert "🙂" in pieces and all("\ufffd" not in p for p in pieces)
    dec = TXT.decoder()
    assert dec.feed(0xF0) == "" and dec.pending
