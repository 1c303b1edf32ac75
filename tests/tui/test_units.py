"""Small pieces of the app: literal text, slash parsing, population reading, status lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_fakes import Report

from harness.profile import Profile
from harness.store.population import add_individual, put_genome
from harness.store.records import add_event
from tui.commands import SlashError, is_command, parse, unescape
from tui.literal import MAX_SHOWN_CHARS, literal, shown, visible
from tui.population_data import load_population, payload_summary, task_metrics
from tui.widgets.status_line import learned_text


def test_visible_makes_control_characters_pictures() -> None:
    """Escape, NUL and C1 bytes become visible symbols; newlines and tabs stay."""
    assert visible("a\x1b[31mb\x00\tc\nd\x9b") == "a␛[31mb␀\tc\nd\ufffd"


def test_shown_cuts_long_text_with_a_note() -> None:
    """Text over the limit is cut and says how long it was."""
    out = shown("x" * (MAX_SHOWN_CHARS + 10))
    assert out.startswith("x" * MAX_SHOWN_CHARS) and "8,010 characters" in out


def test_literal_keeps_markup_as_text() -> None:
    """Square brackets are not markup."""
    assert literal("[bold]hi[/bold]").plain == "[bold]hi[/bold]"


def test_parse_slash_commands() -> None:
    """Commands split into name and shell-like arguments; mistakes raise with a hint."""
    command, args = parse('/image "my cat.png" what is it')
    assert command.name == "image" and args == ["my cat.png", "what", "is", "it"]
    assert is_command(" /new") and not is_command("//new") and unescape("//new") == "/new"
    with pytest.raises(SlashError, match="needs an argument"):
        parse("/add")
    with pytest.raises(SlashError) as info:
        parse("/hepl")
    assert "did you mean /help" in str(info.value.hint)
    with pytest.raises(SlashError, match="close the quotes|cannot read"):
        parse('/add "unclosed')


def test_load_population_ranks_by_fitness(insitu_home: Path) -> None:
    """The champion, the leaderboard by fitness and the newest events come from the store."""
    with Profile.create("pop") as prof:
        add_event(prof.store, "online", {"steps": 1})
        assert load_population(prof.store).empty  # online learning is not evolution
        for i, fit in enumerate([0.2, 0.9, 0.5]):
            gid = put_genome(prof.store, f"g{i}", "{}", "gru", 100 + i)
            add_individual(prof.store, gid, fitness=fit, individual_id=f"i{i}",
                           status="champion" if fit == 0.9 else "alive")
        add_event(prof.store, "mutation", {"op": "widen", "loss": 1.234567}, "i1")
        state = load_population(prof.store)
    assert not state.empty and state.champion is not None and state.champion["id"] == "i1"
    assert [r["id"] for r in state.leaderboard] == ["i1", "i2", "i0"]
    assert state.fitness == [0.2, 0.9, 0.5]
    assert payload_summary(state.events[0]["payload"]) == "loss=1.235 op=widen"


def test_learned_text() -> None:
    """A learning report reads as a sentence; a step-less one is 'noted'."""
    assert learned_text(Report("up", "m", 1, 80.4, 2.31, 2.05)) == \
        "learned from 👍 in 80 ms (1 step, loss 2.31 → 2.05)"
    assert learned_text(Report("tag", "m", 0, 1.0, 0.0, 0.0)) == "noted a tag"


def test_task_metrics_show_every_task_and_the_gate() -> None:
    """A grown champion's new task and its old task's gate set each get a line."""
    lines = task_metrics({"accuracy": 0.85, "spoken/accuracy": 0.85, "spoken/loss": 0.41,
                          "gate/mnist/accuracy": 0.844, "gate_drop": 0.0, "note": "x"})
    assert lines == ["mnist (gate): accuracy 0.844", "spoken: accuracy 0.85, loss 0.41"]
    assert task_metrics({"heldout_bpb": 2.5}) == []
