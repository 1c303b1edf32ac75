"""/image, /audio and /record on label profiles with the real ChatSession: the picture or clip
goes through the model's stem and the reply is a label; recording uses a simulated microphone."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tui_helpers import SIZE, rows, until

from harness.data.idx import read_idx
from harness.data.ingest import add_paths
from harness.profile import Profile
from tests.modalities.test_audio_record import FakeSoundDevice
from tui.app import InsituApp, default_session_factory

DIGITS = [str(d) for d in range(10)]


def notes(app: Any) -> list[str]:
    """Return the texts of the app's notifications."""
    return [n.message for n in app._notifications]


async def slash(pilot: Any, text: str) -> None:
    """Type a slash command into the message box and press Enter."""
    box = pilot.app.chat.chat_input
    box.focus()
    box.load_text(text)
    await pilot.press("enter")
    await pilot.pause()


def real_app(name: str) -> InsituApp:
    """Return the app on the real ChatSession of profile `name`."""
    return InsituApp(name, session_factory=default_session_factory, sentiment=None,
                     use_default_sentiment=False, evolve=False, seed=0)


def replies(app: InsituApp) -> list[str]:
    """Return the texts of the stored replies, oldest first."""
    return [r["text"] for r in rows(app, "SELECT text FROM messages WHERE role = 'assistant' "
                                         "ORDER BY id")]


@pytest.mark.slow
async def test_image_to_an_mnist_profile_replies_a_digit(tmp_path: Path,
                                                         shared_data: Path) -> None:
    """/image of a real MNIST digit is stored as an attachment and answered with a digit."""
    src = shared_data / "mnist"
    images = read_idx(src / "t10k-images-idx3-ubyte.gz")[:800]
    labels = read_idx(src / "t10k-labels-idx1-ubyte.gz")[:800]
    folder = tmp_path / "digits"
    for i in range(len(images)):
        (folder / str(labels[i])).mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i], "L").save(folder / str(labels[i]) / f"{i}.png")
    with Profile.create("m", "mnist") as prof:
        add_paths(prof, [folder])
    app = real_app("m")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=60)
        await slash(pilot, f"/image {folder / str(labels[0]) / '0.png'}")
        await until(pilot, lambda: len(replies(app)) == 1, timeout=30)
        assert replies(app)[0] in DIGITS
        linked = rows(app, "SELECT count(*) AS n FROM message_attachments")
        assert linked[0]["n"] == 1


@pytest.mark.slow
async def test_record_on_spoken_digits_with_a_simulated_microphone(
        tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/record takes a clip from a simulated input stream and gets a label back; 0 s is refused
    and 10 minutes is capped to the recorder's limit with a notice."""
    import modalities.audio_record as audio_record

    folder = tmp_path / "recordings"
    folder.mkdir()
    for wav in sorted((shared_data / "fsdd" / "recordings").glob("*_jackson_1*.wav"))[:60]:
        shutil.copy(wav, folder / wav.name)
    with Profile.create("s", "spoken-digits") as prof:
        add_paths(prof, [folder])
    fake = FakeSoundDevice(blocks=2000)
    monkeypatch.setattr(audio_record, "require_microphone", lambda: (fake, "fake mic"))
    app = real_app("s")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=60)
        await slash(pilot, "/record 1")
        await until(pilot, lambda: len(replies(app)) == 1, timeout=30)
        assert replies(app)[0] in DIGITS
        await slash(pilot, "/record 0")
        await until(pilot, lambda: any("0-second recording has no audio" in n
                                       for n in notes(app)))
        await slash(pilot, "/record 600")
        await until(pilot, lambda: any("at most 60 s; recording 60 s instead of 600 s" in n
                                       for n in notes(app)))
        await until(pilot, lambda: len(replies(app)) == 2, timeout=60)
        user = rows(app, "SELECT text FROM messages WHERE role = 'user' ORDER BY id")
        assert user[-1]["text"] == "[audio: recording 60.0 s]"
        assert app.is_running


async def test_record_without_a_microphone_says_so(profile_name: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """/record where PortAudio sees no input device says what to do; nothing is sent."""
    from modalities import audio_device

    monkeypatch.setattr(audio_device, "input_devices", lambda sd: [])
    app = real_app(profile_name)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=60)
        await slash(pilot, "/record 1")
        await until(pilot, lambda: any("no microphone" in n or "PortAudio" in n
                                       for n in notes(app)))
        assert rows(app, "SELECT count(*) AS n FROM messages")[0]["n"] == 0
