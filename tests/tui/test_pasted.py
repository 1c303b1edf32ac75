"""Which messages count as a pasted file path (tui/pasted.py): the rule, on real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui.pasted import Pasted, looks_like_path, media_kind, pasted_file


@pytest.fixture
def files(tmp_path: Path, shared_data: Path) -> dict[str, Path]:
    """A real wav, a picture in a folder with a space, a text file, and a wav without suffix."""
    wav = next((shared_data / "fsdd" / "recordings").glob("7_*.wav"))
    folder = tmp_path / "my pics"
    folder.mkdir()
    png = folder / "digit 7.png"
    from PIL import Image

    Image.new("L", (28, 28), 255).save(png)
    (tmp_path / "notes.txt").write_text("hello")
    shutil.copy(wav, tmp_path / "clip.wav")
    shutil.copy(wav, tmp_path / "clip-no-suffix")
    return {"png": png, "wav": tmp_path / "clip.wav", "txt": tmp_path / "notes.txt",
            "bare": tmp_path / "clip-no-suffix", "dir": folder}


def test_a_whole_message_path_with_or_without_quotes(files: dict[str, Path]) -> None:
    """A bare path with spaces, a quoted one and a backslash-escaped one all name the file."""
    png = files["png"]
    assert pasted_file(str(png)) == Pasted(png)
    assert pasted_file(f"'{png}'\n") == Pasted(png)
    assert pasted_file(f'"{png}"') == Pasted(png)
    assert pasted_file(str(png).replace(" ", "\\ ")) == Pasted(png)


def test_home_and_file_urls(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """`~` is expanded and a file:// URL (percent-encoded) is decoded; other hosts are text."""
    monkeypatch.setenv("HOME", str(files["png"].parent.parent))
    assert pasted_file("~/clip.wav") == Pasted(files["wav"])
    url = "file://" + str(files["png"]).replace(" ", "%20")
    assert pasted_file(url) == Pasted(files["png"])
    assert pasted_file("file://localhost" + str(files["wav"])) == Pasted(files["wav"])
    assert pasted_file("file://example.com" + str(files["wav"])) is None


def test_a_path_then_words_is_a_caption_and_words_then_a_path_are_text(
        files: dict[str, Path]) -> None:
    """'PATH what is it?' attaches with a caption; 'what is it? PATH' stays text."""
    wav = files["wav"]
    assert pasted_file(f"{wav}  what's this?") == Pasted(wav, "what's this?")
    assert pasted_file(f"'{files['png']}' which digit?") == Pasted(files["png"], "which digit?")
    assert pasted_file(f"what is this? {wav}") is None


def test_things_that_only_look_like_paths_are_text(files: dict[str, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing files, folders, the // escape, an unclosed quote and a bare word stay text."""
    assert pasted_file(str(files["png"].parent / "missing.png")) is None
    assert pasted_file(str(files["dir"])) is None
    assert pasted_file("/" + str(files["wav"])) is None
    assert pasted_file(f"'{files['wav']} it's") is None
    monkeypatch.chdir(files["txt"].parent)
    assert pasted_file("notes.txt") is None  # a bare word, though the file exists here
    assert pasted_file("./notes.txt") == Pasted(Path("./notes.txt"))
    assert pasted_file("clip.wav") == Pasted(Path("clip.wav"))
    assert not looks_like_path("hello") and looks_like_path("x.PNG")


def test_media_kind_by_suffix_or_header(files: dict[str, Path]) -> None:
    """.png is an image, .wav audio; without a suffix a RIFF/WAVE header means audio."""
    assert media_kind(files["png"]) == "image"
    assert media_kind(files["wav"]) == "audio"
    assert media_kind(files["bare"]) == "audio"
    assert media_kind(files["txt"]) == "image"  # the image loader then says it is not one
