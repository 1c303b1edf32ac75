"""A picture's or wav's path pasted into the message box is attached as /image or /audio would
attach it (real MNIST PNGs and FSDD wavs, the real ChatSession on a small MNIST profile)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from media_helpers import DIGITS, digit_pngs, label_app, mnist_profile, notes
from textual import events
from tui_helpers import SIZE, rows, until

from tui.widgets.attachment import AttachmentView


async def paste(pilot: Any, text: str) -> None:
    """Paste `text` into the empty message box as a terminal would, then press Enter."""
    box = pilot.app.chat.chat_input
    box.focus()
    box.clear_text()
    pilot.app.post_message(events.Paste(text))
    await until(pilot, lambda: box.text == text)
    await pilot.press("enter")
    await pilot.pause()


def user_texts(app: Any) -> list[str]:
    """Return the stored messages of the person, oldest first."""
    return [r["text"] for r in rows(app, "SELECT text FROM messages WHERE role = 'user' "
                                         "ORDER BY id")]


async def test_pasted_image_paths_are_attached_and_answered(tmp_path: Path,
                                                           shared_data: Path) -> None:
    """A quoted path with spaces and a file:// URL with a caption each attach the real PNG:
    it is shown in the conversation, stored with the message, answered with a digit, and the
    box is emptied."""
    mnist_profile(shared_data, tmp_path)
    (png, _), (png2, _) = digit_pngs(shared_data, tmp_path / "my digits", 2)
    spaced = png.with_name("digit seven.png")
    png.rename(spaced)
    app = label_app("m")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=30)
        await paste(pilot, f"'{spaced}'")
        await until(pilot, lambda: not app.chat.generating and len(user_texts(app)) == 1)
        await until(pilot, lambda: app.chat.conversation.last_reply().text in DIGITS)
        views = list(app.chat.conversation.query(AttachmentView))
        assert [v.name_shown for v in views] == ["digit seven.png"]
        assert user_texts(app) == ["[image: digit seven.png 28x28]"]
        assert app.chat.chat_input.text == ""
        url = "file://" + str(png2).replace(" ", "%20")
        await paste(pilot, f"{url} which digit is it?")
        await until(pilot, lambda: len(user_texts(app)) == 2 and not app.chat.generating)
        assert user_texts(app)[1] == f"[image: {png2.name} 28x28] which digit is it?"
        assert rows(app, "SELECT count(*) AS n FROM message_attachments")[0]["n"] == 2
        replies = rows(app, "SELECT text FROM messages WHERE role = 'assistant'")
        assert len(replies) == 2 and all(r["text"] in DIGITS for r in replies)


async def test_bad_and_missing_pasted_paths(tmp_path: Path, shared_data: Path) -> None:
    """A text file named .png gives /image's error and keeps the text in the box; a path to no
    file is sent as text; a pasted wav is attached as audio (which this image model refuses)."""
    mnist_profile(shared_data, tmp_path, count=100)
    fake = tmp_path / "fake.png"
    fake.write_text("not a picture")
    wav = tmp_path / "seven.wav"
    shutil.copy(next((shared_data / "fsdd" / "recordings").glob("7_*.wav")), wav)
    app = label_app("m")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=30)
        await paste(pilot, str(fake))
        await until(pilot, lambda: any("fake.png is not an image insitu can read" in n
                                       for n in notes(app)))
        await app.workers.wait_for_complete()
        assert app.chat.chat_input.text == str(fake)
        assert user_texts(app) == [] and not app.chat.conversation.query(AttachmentView)
        missing = str(tmp_path / "nowhere" / "x.png")
        await paste(pilot, missing)
        await until(pilot, lambda: user_texts(app) == [missing] and not app.chat.generating)
        assert any("answers pictures, and the message has none" in n for n in notes(app))
        await paste(pilot, f'"{wav}"')
        await until(pilot, lambda: len(user_texts(app)) == 2 and not app.chat.generating)
        assert user_texts(app)[1].startswith("[audio: seven.wav ")
        assert any("classifies image, not audio" in n for n in notes(app))
        assert app.chat.chat_input.text == ""
