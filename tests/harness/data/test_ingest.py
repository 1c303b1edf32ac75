"""`insitu data add`: text, Markdown, JSONL and chat YAML become deduplicated, split examples."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import cli
from harness.data.ingest import add_paths
from harness.profile import Profile
from harness.store.examples import iter_examples, split_counts


def _profile(template: str = "chat") -> Profile:
    """Create and open a fresh profile."""
    return Profile.create("p", template)


def test_shakespeare_tail_is_held_out(shared_data: Path) -> None:
    """A corpus is chunked in order and its last 5% is the held-out split, never trained on."""
    with _profile("shakespeare") as prof:
        (report,) = add_paths(prof, [shared_data / "tinyshakespeare" / "input.txt"])
        assert report.added > 500 and report.rejected is None
        train = list(iter_examples(prof.store, "shakespeare", "train"))
        held = list(iter_examples(prof.store, "shakespeare", "heldout"))
        assert len(held) == report.heldout and 0.04 < len(held) / report.added < 0.07
        text = (shared_data / "tinyshakespeare" / "input.txt").read_text()
        assert text.endswith(held[-1].prompt[0].text or "")
        train_text = {ex.prompt[0].text for ex in train}
        assert not train_text & {ex.prompt[0].text for ex in held}


def test_chatterbot_yaml_pairs_and_dedupe(shared_data: Path) -> None:
    """Chit-chat YAML gives prompt -> reply pairs (no classes); the same files twice add nothing."""
    folder = shared_data / "chatterbot-corpus" / "english"
    with _profile() as prof:
        first = add_paths(prof, [folder])
        assert sum(r.added for r in first) > 1000
        assert not any(r.per_class for r in first)  # short replies are not labels of a class
        ex = next(iter_examples(prof.store, "chat"))
        assert ex.answer is not None and ex.answer[0].kind == "text"
        again = add_paths(prof, [folder])
        assert sum(r.added for r in again) == 0
        assert sum(r.duplicates for r in again) == sum(r.read for r in first)


def test_jsonl_bad_lines_reported_good_lines_kept(tmp_path: Path) -> None:
    """Broken JSONL lines are reported by number; the good ones land."""
    f = tmp_path / "pairs.jsonl"
    lines = [
        json.dumps({"prompt": "cat's name?", "response": "Miso"}),
        "{not json",
        json.dumps({"messages": [{"role": "user", "content": "hi"},
                                 {"role": "assistant", "content": "hello"}]}),
        json.dumps(["a list"]),
        json.dumps({"unrelated": 1}),
    ]
    f.write_text("\n".join(lines) + "\n")
    with _profile() as prof:
        (report,) = add_paths(prof, [f])
        assert report.added == 2
        assert [p.split(":")[0] for p in report.problems] == ["line 2", "line 4", "line 5"]


def test_bad_files_are_rejected_with_reasons(tmp_path: Path) -> None:
    """Empty, binary and unknown files are rejected with a reason; other files still land."""
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "photo.xyz").write_bytes(b"abc")
    (tmp_path / "one.md").write_text("# just one line\n")
    with _profile() as prof:
        reports = {Path(r.path).name: r for r in add_paths(prof, [tmp_path])}
        assert "empty" in (reports["empty.txt"].rejected or "")
        assert "binary" in (reports["blob.txt"].rejected or "")
        assert "no importer" in (reports["photo.xyz"].rejected or "")
        one = reports["one.md"]
        assert one.added == 1 and one.heldout == 0
        assert "held-out" in one.problems[0]


def test_cli_summary_and_nothing_added_exit_code(tmp_path: Path) -> None:
    """The CLI prints a table and exits non-zero when every file was rejected."""
    good = tmp_path / "notes.md"
    good.write_text("line one\nline two\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["data", "add", str(good)])
    assert result.exit_code == 0, result.output
    assert "notes.md" in result.output and "now holds chat: 1 train" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02")
    result = runner.invoke(cli, ["data", "add", str(bad)])
    assert result.exit_code != 0 and "binary" in result.output
    with Profile.open() as prof:
        assert split_counts(prof.store) == {"chat": {"train": 1}}
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"prompt": "hi", "response": "hello"}\n{"prompt": broken\n')
    result = runner.invoke(cli, ["data", "add", str(pairs)])
    assert result.exit_code == 0 and "1 problem\n" in result.output  # one, not "1 problem(s)"
    assert "line 2: not JSON" in result.output


def test_unknown_task_names_the_tasks(tmp_path: Path) -> None:
    """--task with a name the profile lacks lists the profile's tasks."""
    f = tmp_path / "a.txt"
    f.write_text("hello\n")
    result = CliRunner().invoke(cli, ["data", "add", str(f), "--task", "nope"])
    assert result.exit_code != 0
    assert "no task 'nope'" in str(result.exception)
