"""A file path pasted (or dropped) into the message box: which file it names and its caption.

The rule: a message that *starts* with the path of an existing file attaches that file, as
`/image PATH TEXT` or `/audio PATH TEXT` would, and the rest of the message is its caption.
The path may be quoted ('…' or "…", as terminals paste dropped files), use backslash escapes,
start with `~`, or be a `file://` URL; a message that is nothing but one path may also contain
unquoted spaces. To count as a path the first word must look like one: it starts with `/`, `~`,
`./`, `../` or `file://`, or contains a `/`, or ends in an image or audio suffix. Anything else
is text: a path later in the message ("what is this? /tmp/x.png"), a path to a folder or to a
file that does not exist, and a message that starts with `//` (the escape for a leading '/').
"""

from __future__ import annotations

import io
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

QUOTES = ("'", '"')


def suffixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the image and the audio file suffixes (imported late: the modalities load torch)."""
    from modalities.audio import AudioModality
    from modalities.image import SUFFIXES

    return SUFFIXES, AudioModality.suffixes


@dataclass(frozen=True)
class Pasted:
    """An existing file a message starts with, and the message's other words."""

    path: Path
    caption: str = ""


def looks_like_path(word: str) -> bool:
    """Return True if a word is written like a file path (not just any word)."""
    if not word or "\n" in word:
        return False
    low = word.lower()
    if low.startswith(("/", "~", "./", "../", "file://")) or "/" in word:
        return True
    images, audio = suffixes()
    return low.endswith(images + audio)


def to_path(word: str) -> Path | None:
    """Return the existing file a path-like word names (`~` expanded, file:// decoded), or None."""
    if not looks_like_path(word):
        return None
    if word.lower().startswith("file://"):
        url = urlparse(word)
        if url.netloc not in ("", "localhost"):
            return None
        word = unquote(url.path)
    try:
        path = Path(word).expanduser()
        return path if path.is_file() else None
    except (OSError, RuntimeError, ValueError):  # an unknown ~user, a name too long, a NUL
        return None


def unquote_whole(text: str) -> str:
    """Return the text without one pair of surrounding quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in QUOTES:
        return text[1:-1]
    return text


def first_word(text: str) -> tuple[str, str] | None:
    """Split off the first shell-style word (quotes and backslashes honoured) and the rest."""
    lexer = shlex.shlex(io.StringIO(text), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        word = lexer.get_token()
    except ValueError:  # an unclosed quote: not a pasted path
        return None
    if not word:
        return None
    stream = lexer.instream
    rest = text[stream.tell():] if isinstance(stream, io.StringIO) else ""
    return word, rest


def pasted_file(text: str) -> Pasted | None:
    """Return the file a message starts with and its caption, or None if the message is text.

    1. A message starting with '//' is text (the slash escape).
    2. The whole message, quotes stripped, is one existing file: attach it without a caption.
    3. Else the first shell-style word is an existing file: attach it, the rest is the caption.
    """
    stripped = text.strip()
    if not stripped or stripped.startswith("//"):
        return None
    whole = to_path(unquote_whole(stripped))
    if whole is not None:
        return Pasted(whole)
    split = first_word(stripped)
    if split is None:
        return None
    path = to_path(split[0])
    return Pasted(path, split[1].strip()) if path is not None else None


def media_kind(path: Path) -> str:
    """Return 'audio' for a wav (by suffix, or a RIFF/WAVE header) and 'image' otherwise."""
    suffix = path.suffix.lower()
    images, audio = suffixes()
    if suffix in audio:
        return "audio"
    if suffix in images:
        return "image"
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return "image"  # the image loader then says what is wrong with the file
    return "audio" if head[:4] == b"RIFF" and head[8:12] == b"WAVE" else "image"
