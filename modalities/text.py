"""Text and raw bytes: byte tokens (the vocabulary of harness.vocab) and back, incrementally."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import torch

from harness import vocab
from harness.errors import DataError
from harness.modality import ModalitySpec
from harness.types import Part
from modalities.common import read_source

MAX_TEXT_BYTES = 64 * 2**20
UTF8_BOM = b"\xef\xbb\xbf"


class TextModality:
    """Text, bytes, labels and moves as UTF-8 byte tokens; int64 [B, T] padded with PAD."""

    name = "text"
    kinds: tuple[str, ...] = ("text", "bytes", "label", "move")
    suffixes: tuple[str, ...] = (".txt", ".md", ".text")

    def load(self, source: Path | bytes) -> Part:
        """Read a file: valid UTF-8 becomes a text part (BOM dropped), anything else bytes."""
        data = read_source(source, MAX_TEXT_BYTES, "a text")
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        try:
            return Part.of_text(data.decode("utf-8"))
        except UnicodeDecodeError:
            return Part.of_bytes(data)

    def encode(self, part: Part) -> list[int]:
        """Return the byte tokens of one part (media parts become their IMAGE/AUDIO marker)."""
        return vocab.encode_parts([part])

    def item_shape(self, part: Part, spec: ModalitySpec) -> tuple[int, ...]:
        """Return (T,): the number of byte tokens of the part."""
        return (len(self.encode(part)),)

    def to_tensor(self, parts: list[Part], spec: ModalitySpec) -> torch.Tensor:
        """Encode parts as byte tokens, right-padded with PAD to the longest: int64 [B, T]."""
        if not parts:
            raise DataError("no text parts to encode", "pass at least one part")
        rows = [self.encode(p) for p in parts]
        width = max(1, max(len(r) for r in rows))
        out = torch.full((len(rows), width), vocab.PAD, dtype=torch.long)  # [B, T]
        for i, row in enumerate(rows):
            out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """Decode byte tokens to text, skipping specials (broken bytes become U+FFFD)."""
        return vocab.decode(ids)

    def decoder(self) -> vocab.IncrementalDecoder:
        """Return a streaming decoder that yields only complete characters."""
        return vocab.IncrementalDecoder()

    def stream(self, ids: Iterable[int]) -> Iterator[str]:
        """Yield the text each token completes, never half a character (for live replies)."""
        dec = self.decoder()
        for token in ids:
            piece = dec.feed(int(token))
            if piece:
                yield piece

    def describe(self, part: Part) -> str:
        """Return a short description: the text's start, or the byte count."""
        if part.kind == "bytes":
            return f"{len(part.data or b'')} bytes"
        text = part.text if part.kind == "text" else part.label if part.kind == "label" else None
        if text is None:
            return f"{part.kind} {part.move}" if part.kind == "move" else part.kind
        flat = " ".join(text.split())
        return repr(flat if len(flat) <= 40 else flat[:39] + "…")

    def sample(self) -> bytes:
        """Return a tiny UTF-8 text file (with a non-ASCII character)."""
        return "seven · 7\n".encode()
