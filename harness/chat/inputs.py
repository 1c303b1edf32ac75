"""What a person may type: any text, cleaned to storable UTF-8 and bounded in size."""

from __future__ import annotations

import re

from harness.errors import DataError

MAX_MESSAGE_BYTES = 64 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str | bytes) -> str:
    """Return text as valid Unicode: undecodable bytes and lone surrogates become U+FFFD."""
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise DataError(f"a message is text, not {type(text).__name__}", "send a string")
    return _SURROGATE.sub("\ufffd", text)


def truncate_utf8(text: str, limit: int = MAX_MESSAGE_BYTES) -> tuple[str, str | None]:
    """Cut text to at most `limit` UTF-8 bytes (whole characters); return it and a notice."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, None
    kept = data[:limit].decode("utf-8", errors="ignore")
    notice = (f"truncated: the message had {len(data):,} bytes; "
              f"kept the first {len(kept.encode('utf-8')):,}")
    return kept, notice


def message_text(text: str | bytes, what: str = "message") -> tuple[str, str | None]:
    """Return a cleaned, bounded message and a notice if it was cut; empty raises DataError."""
    cleaned = clean_text(text)
    if not cleaned.strip():
        raise DataError(f"the {what} is empty", f"type some text before sending the {what}")
    return truncate_utf8(cleaned)
