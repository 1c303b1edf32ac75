"""Text shown exactly as typed or generated: no markup, control bytes visible, long text cut."""

from __future__ import annotations

import re

from rich.text import Text

#: Messages longer than this are shown cut (the whole text is still stored and sent).
MAX_SHOWN_CHARS = 8_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    """Return the visible stand-in of one control character (U+2400 block, or U+FFFD)."""
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def visible(text: str) -> str:
    """Return `text` with control characters (except newline and tab) replaced by pictures."""
    return _CONTROL.sub(_picture, text.replace("\r\n", "\n"))


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """Return the displayable form of a message, cut to `limit` characters with a note."""
    safe = visible(text)
    if len(safe) <= limit:
        return safe
    return f"{safe[:limit]}\n… ({len(text):,} characters; the first {limit:,} are shown)"


def literal(text: str, style: str = "") -> Text:
    """Return a rich Text that shows `text` literally (square brackets stay brackets)."""
    return Text(shown(text), style=style, end="")
