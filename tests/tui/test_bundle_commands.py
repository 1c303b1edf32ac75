"""/export and /import in the chat: a bundle written, imported as a new profile, progress."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import SIZE, make_app, ready, until

from harness.bundle import import_bundle, inspect_bundle
from harness.profile import list_profiles

FIXTURE = (Path(__file__).resolve().parents[1] / "harness" / "bundle" / "fixtures"
           / "bundle-v1.0.insitu")


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


async def test_export_then_import_from_the_chat(tmp_path, insitu_home):
    """/export writes a verified bundle with a progress bar; /import makes a new profile."""
    import_bundle(FIXTURE, "ui").close()
    app = make_app("ui")
    seen: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        status = app.chat.status
        original = status.say

        def watch(message: str, style: str = "") -> None:
            """Remember every status message, then show it."""
            seen.append(message)
            original(message, style)

        status.say = watch  # type: ignore[method-assign]
        target = tmp_path / "shared.insitu"
        await slash(pilot, f"/export {target}")
        await until(pilot, lambda: any("exported to" in n for n in notes(app)), timeout=60)
        assert inspect_bundle(target)["profile"]["name"] == "ui"
        assert any("exporting" in m and "█" in m for m in seen)
        await slash(pilot, f"/import {target} pal")
        await until(pilot, lambda: any("as profile 'pal'" in n for n in notes(app)), timeout=60)
        assert "pal" in list_profiles()
        assert any("importing" in m and "%" in m for m in seen)
        assert "switch with /profile pal" in notes(app)[-1]
        assert app.is_running


async def test_a_refused_import_says_why_and_creates_nothing(tmp_path, profile_name):
    """/import of a damaged file shows the reason; no profile appears."""
    bad = tmp_path / "bad.insitu"
    bad.write_bytes(FIXTURE.read_bytes()[:1000])
    app = make_app(profile_name)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await slash(pilot, f"/import {bad}")
        await until(pilot, lambda: any("/import failed" in n.title for n in app._notifications))
        await until(pilot, lambda: "import refused" in app.chat.status.message)
        assert list_profiles() == ["ui"]
        await slash(pilot, "/export")
        await until(pilot, lambda: any("/export failed" in n.title for n in app._notifications))
        assert any("no champion" in n for n in notes(app))
