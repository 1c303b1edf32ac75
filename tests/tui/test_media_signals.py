"""Rating, tags and corrections on the reply to a picture work as on text: driven with Pilot on
a small MNIST profile (real PNG digits, the real ChatSession), each is stored in the profile's
database and takes an online step on the model that answered, reported in the status line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from media_helpers import DIGITS, digit_pngs, label_app, mnist_profile
from tui_helpers import SIZE, rows, type_text, until

from harness.store.examples import iter_examples
from harness.tasks.label import label_of
from modalities.sentiment import score
from tui.widgets.message import MessageView


def weights(app: Any) -> torch.Tensor:
    """Return a copy of every weight of the model answering the chat, flattened."""
    graph = app.session.labeler.graph
    return torch.cat([p.detach().flatten() for p in graph.parameters()]).clone()  # [P]


async def learned(pilot: Any, signal: str, count: int) -> Any:
    """Wait for the session's `count`-th learning report and check it is `signal`'s."""
    app = pilot.app
    await until(pilot, lambda: len(app.session.reports) >= count, timeout=10)
    report = app.session.reports[count - 1]
    assert report.signal == signal and report.steps > 0
    await until(pilot, lambda: app.chat.status.message.startswith("learned from"))
    return report


async def test_rate_tag_and_correct_a_reply_to_a_picture(tmp_path: Path,
                                                        shared_data: Path) -> None:
    """👍, a positive tag and a correction on a digit's reply are stored, each changes the
    model's weights, and the correction becomes a labelled image example of the task."""
    mnist_profile(shared_data, tmp_path)
    ((png, _),) = digit_pngs(shared_data, tmp_path / "ask", 1, start=7)
    app = label_app("m", sentiment=score)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=30)
        box = app.chat.chat_input
        box.load_text(f"/image {png}")
        await pilot.press("enter")
        await until(pilot, lambda: app.session.last_reply_id is not None
                    and not app.chat.generating, timeout=15)
        reply = app.chat.conversation.last_reply()
        assert reply is not None and reply.text in DIGITS and reply.message_id
        mid = reply.message_id

        before = weights(app)
        await pilot.press("tab")
        assert isinstance(app.focused, MessageView) and app.focused is reply
        await pilot.press("plus")
        await until(pilot, lambda: reply.rating == 1)
        up = await learned(pilot, "up", 1)
        assert up.loss_after < up.loss_before and "👍" in app.chat.status.message
        assert [r["value"] for r in rows(app, "SELECT value FROM ratings WHERE message_id = ?",
                                         [mid])] == [1]
        rated = weights(app)
        assert not torch.equal(before, rated)

        await pilot.press("t")
        await until(pilot, lambda: app.screen.__class__.__name__ == "TagModal")
        await type_text(pilot, "great")
        await pilot.press("enter")
        await until(pilot, lambda: reply.tags == ["great"])
        await learned(pilot, "tag", 2)
        assert rows(app, "SELECT tag FROM tags WHERE message_id = ? AND source = 'user'",
                    [mid]) == [{"tag": "great"}]
        tagged = weights(app)
        assert not torch.equal(rated, tagged)

        right = str((int(reply.text) + 3) % 10)  # a label the model did not answer
        reply.focus()
        await pilot.press("c")
        await until(pilot, lambda: app.screen.__class__.__name__ == "CorrectModal")
        await type_text(pilot, right)
        await pilot.press("enter")
        await until(pilot, lambda: reply.correction == right)
        fix = await learned(pilot, "correction", 3)
        assert fix.loss_after < fix.loss_before
        assert "a correction" in app.chat.status.message
        assert not torch.equal(tagged, weights(app))
        assert app.profile is not None
        (ex,) = [e for e in iter_examples(app.profile.store, "mnist") if e.source == "chat"]
        assert label_of(ex) == right and ex.prompt[0].kind == "image"
        linked = rows(app, "SELECT message_id FROM examples WHERE source = 'chat'")
        assert linked == [{"message_id": mid}]
