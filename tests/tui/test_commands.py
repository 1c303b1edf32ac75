"""Slash commands and the command palette, on a scripted session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tui_helpers import SIZE, make_app, ready, rows, send, type_text, until

from harness.cli import main
from harness.profile import Profile
from modalities.audio import write_wav
from modalities.audio_device import AudioUnavailable
from modalities.image import ImageModality
from tui.widgets.attachment import AttachmentView
from tui.widgets.message import MessageView


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Return the texts of the app's notifications."""
    return [n.message for n in app._notifications]


async def slash(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type a slash command into the message box and press Enter."""
    box = pilot.app.chat.chat_input
    box.focus()
    box.load_text(text)
    await pilot.press("enter")
    await pilot.pause()


def screen_name(app) -> str:  # type: ignore[no-untyped-def]
    """Return the class name of the active screen."""
    return type(app.screen).__name__


async def test_help_and_unknown_command(profile_name: str) -> None:
    """/help opens the help page; a mistyped command suggests the right one."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, "/help")
        assert screen_name(app) == "HelpScreen"
        await pilot.press("escape")
        await slash(pilot, "/histroy")
        assert any("unknown command /histroy" in n for n in notes(app))
        assert any("did you mean /history" in n for n in notes(app))


async def test_double_slash_sends_a_slash(profile_name: str) -> None:
    """A message starting with // is sent with one leading slash."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "//etc/hosts is a file")
        assert rows(app, "SELECT text FROM messages WHERE role = 'user'")[0]["text"] == \
            "/etc/hosts is a file"


async def test_new_and_history_reopen(profile_name: str) -> None:
    """/new starts an empty conversation; /history finds the old one by a word and reopens it."""
    app = make_app(replies=["pong"])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "remember the zebra")
        first = app.session.conversation_id
        await slash(pilot, "/new")
        await until(pilot, lambda: not list(app.chat.conversation.query(MessageView)))
        assert app.session.conversation_id != first
        await send(pilot, "another topic")
        await pilot.press("f2")
        assert screen_name(app) == "HistoryScreen"
        await type_text(pilot, "zebra")
        options = app.screen.query_one("OptionList")
        await until(pilot, lambda: options.option_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: screen_name(app) == "ChatScreen")
        await until(pilot, lambda: len(list(app.chat.conversation.query(MessageView))) == 2)
        assert app.session.conversation_id == first
        texts = [m.text for m in app.chat.conversation.query(MessageView)]
        assert texts == ["remember the zebra", "pong"]


async def test_profile_switch_list_and_missing(profile_name: str) -> None:
    """/profile lists, a missing profile is a clear error, an existing one is opened."""
    Profile.create("other").close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, "/profile")
        assert any("profiles: other, ui" in n for n in notes(app))
        app.ready.clear()
        await slash(pilot, "/profile nope")
        await until(pilot, app.ready.is_set)
        assert any("no profile 'nope'" in n for n in notes(app))
        assert app.profile_name == "ui" and app.session is not None
        app.ready.clear()
        await slash(pilot, "/profile other")
        await until(pilot, app.ready.is_set)
        assert app.profile_name == "other" and app.profile.name == "other"
        assert "other" in app.sub_title


async def test_add_data_files(profile_name: str, tmp_path: Path) -> None:
    """/add imports a text file and reports what was added; a missing file is rejected."""
    data = tmp_path / "notes.txt"
    data.write_text("The cat is called Miso.\n\nShe likes fish.\n" * 20)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, f"/add {data} {tmp_path / 'missing.txt'}")
        await until(pilot, lambda: any("notes.txt:" in n for n in notes(app)))
        summary = next(n for n in notes(app) if "notes.txt:" in n)
        assert "added" in summary and "missing.txt: rejected" in summary
        assert rows(app, "SELECT count(*) AS n FROM examples")[0]["n"] > 0


async def test_image_and_audio_attachments(profile_name: str, tmp_path: Path) -> None:
    """/image draws the picture and sends its marker; /audio does the same for a wav."""
    png = tmp_path / "pic.png"
    png.write_bytes(ImageModality().sample())
    wav = tmp_path / "beep.wav"
    write_wav(wav, np.sin(np.linspace(0, 400, 8000)).astype(np.float32) * 0.3, 8000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, f"/image {png} what is this?")
        await until(pilot, lambda: len(list(app.chat.conversation.query(AttachmentView))) == 1)
        await until(pilot, lambda: not app.chat.generating)
        await slash(pilot, f"/audio {wav}")
        await until(pilot, lambda: len(list(app.chat.conversation.query(AttachmentView))) == 2)
        await until(pilot, lambda: not app.chat.generating)
        texts = [r["text"] for r in rows(app, "SELECT text FROM messages WHERE role = 'user' "
                                         "ORDER BY created_at")]
        assert texts == ["[image: pic.png 8x6] what is this?", "[audio: beep.wav 1.0 s]"]
        await slash(pilot, f"/image {tmp_path / 'nope.png'}")
        await until(pilot, lambda: any("/image failed" in n.title for n in app._notifications))


async def test_record_says_audio_is_unavailable(profile_name: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """/record on a machine without a microphone says so plainly and keeps the chat."""
    import modalities.audio

    def no_mic(seconds: float, **kwargs: Any) -> None:
        raise AudioUnavailable("no microphone was found (PortAudio sees no input device)",
                               "plug in a microphone, or attach a recording with /audio")

    monkeypatch.setattr(modalities.audio, "record", no_mic)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, "/record 2")
        await until(pilot, lambda: any("no microphone" in n for n in notes(app)))
        await slash(pilot, "/record abc")
        assert any("'abc' is not a number" in n for n in notes(app))
        assert app.is_running


async def test_evolve_export_import_teach_report_availability(profile_name: str) -> None:
    """/evolve, /export, /import and /teach either run or say which issue brings them."""
    from tui import features
    from tui.evolution import worker_available

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, "/evolve")
        if not worker_available():
            assert any("arrives with the worker (issue 5)" in n for n in notes(app))
        else:
            await slash(pilot, "/evolve stop")
        await slash(pilot, "/export")
        await slash(pilot, "/import some.insitu")
        if features.find(features.BUNDLE_MODULES) is None:
            assert sum("(issue 8)" in n for n in notes(app)) == 2
        await slash(pilot, "/teach 3 cats")
        await until(pilot, lambda: len(notes(app)) >= 4)
        if features.find(features.TEACH_MODULES) is None:
            assert any("(issue 7)" in n for n in notes(app))
        else:  # no teacher is configured in a fresh profile: a clear error with the next step
            await until(pilot, lambda: any("/teach failed" in n.title
                                           for n in app._notifications))
        assert app.is_running


async def test_palette_runs_commands(profile_name: str) -> None:
    """Ctrl+P offers the slash commands; choosing one runs it (or pre-fills its argument)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: screen_name(app) == "CommandPalette")
        await type_text(pilot, "/population")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: screen_name(app) == "PopulationScreen")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: screen_name(app) == "CommandPalette")
        await type_text(pilot, "/add")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.chat.chat_input.text == "/add ")


def test_cli_refuses_a_missing_profile(insitu_home: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`insitu chat -p nope` says the profile does not exist and how to create it."""
    with pytest.raises(SystemExit) as exit_info:
        main(["chat", "-p", "nope"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "no profile 'nope'" in err and "insitu profile create nope" in err


async def test_app_on_a_missing_profile_says_so(insitu_home: Path) -> None:
    """An app started on a missing profile shows the error and stays open."""
    app = make_app("ghost")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.session is None and app.is_running
        assert any("no profile 'ghost'" in n for n in notes(app))
        await type_text(pilot, "hello")
        await pilot.press("enter")
        assert any("no model is loaded" in n for n in notes(app))
