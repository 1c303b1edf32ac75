"""The byte-token vocabulary: 256 byte values plus a few specials, and streaming UTF-8 decoding.

A chat turn is `BOS USER <bytes> [IMAGE] [AUDIO] ASSISTANT <reply bytes> EOS`; the stems splice
image and audio vectors into the sequence right after their markers.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence

from harness.errors import DataError
from harness.types import Part

PAD = 256
BOS = 257
EOS = 258
USER = 259
ASSISTANT = 260
SEP = 261
IMAGE = 262
AUDIO = 263
VOCAB_SIZE = 264

SPECIALS: dict[str, int] = {
    "PAD": PAD,
    "BOS": BOS,
    "EOS": EOS,
    "USER": USER,
    "ASSISTANT": ASSISTANT,
    "SEP": SEP,
    "IMAGE": IMAGE,
    "AUDIO": AUDIO,
}
SPECIAL_NAMES: dict[int, str] = {v: k for k, v in SPECIALS.items()}


def is_special(token: int) -> bool:
    """Return True if `token` is one of the special (non-byte) tokens."""
    return token >= 256


def encode_text(text: str, bos: bool = False, eos: bool = False) -> list[int]:
    """Encode text as UTF-8 byte tokens, for corpus continuation."""
    ids = list(text.encode("utf-8"))
    return ([BOS] if bos else []) + ids + ([EOS] if eos else [])


def encode_parts(parts: Iterable[Part]) -> list[int]:
    """Encode parts as tokens: text/bytes/labels as bytes, media as IMAGE/AUDIO markers."""
    ids: list[int] = []
    for part in parts:
        if part.kind == "text":
            ids += list((part.text or "").encode("utf-8"))
        elif part.kind == "bytes":
            ids += list(part.data or b"")
        elif part.kind == "label":
            ids += list((part.label or "").encode("utf-8"))
        elif part.kind == "move":
            ids += list(str(part.move).encode("utf-8"))
        elif part.kind == "image":
            ids.append(IMAGE)
        elif part.kind == "audio":
            ids.append(AUDIO)
        else:  # pragma: no cover - Part validates its kind
            raise DataError(f"cannot encode a part of kind '{part.kind}'")
    return ids


def encode_turn(
    prompt: str | Sequence[Part], reply: str | Sequence[Part] | None = None
) -> list[int]:
    """Encode a chat turn; without a reply it ends at ASSISTANT, ready for generation."""
    prompt_parts = [Part.of_text(prompt)] if isinstance(prompt, str) else list(prompt)
    ids = [BOS, USER] + encode_parts(prompt_parts) + [ASSISTANT]
    if reply is None:
        return ids
    reply_parts = [Part.of_text(reply)] if isinstance(reply, str) else list(reply)
    return ids + encode_parts(reply_parts) + [EOS]


def decode(ids: Iterable[int]) -> str:
    """Decode tokens to text, skipping specials; invalid bytes become U+FFFD."""
    return bytes(int(i) for i in ids if 0 <= int(i) < 256).decode("utf-8", errors="replace")


def render(ids: Iterable[int]) -> str:
    """Render tokens for people: text as is, specials as <NAME> (for debugging and logs)."""
    out: list[str] = []
    buf = bytearray()
    for i in ids:
        if 0 <= int(i) < 256:
            buf.append(int(i))
            continue
        out.append(buf.decode("utf-8", errors="replace"))
        buf.clear()
        out.append(f"<{SPECIAL_NAMES.get(int(i), str(i))}>")
    out.append(buf.decode("utf-8", errors="replace"))
    return "".join(out)


class IncrementalDecoder:
    """Feed token ids one at a time; get back only complete characters, never a broken one."""

    def __init__(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, token: int) -> str:
        """Add one token; return the characters it completes ('' while a character is partial)."""
        if not 0 <= token < 256:
            return ""  # specials are not text
        return self._dec.decode(bytes((token,)))

    def flush(self) -> str:
        """End the stream; an incomplete trailing character is dropped, not shown broken."""
        self._dec.reset()
        return ""

    @property
    def pending(self) -> bool:
        """Return True while the bytes of a partial character are buffered."""
        return bool(self._dec.getstate()[0])
