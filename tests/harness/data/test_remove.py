"""`insitu data sources` and `insitu data remove`: examples come back out by file, folder or
source, with the attachment files nothing else uses, and nothing else is touched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.data.ingest import add_paths
from harness.data.remove import ATTACHMENT_REF, origins, remove_examples
from harness.errors import ConfigError, DataError
from harness.profile import Profile
from harness.store import records
from harness.store.examples import split_counts


def _class_folder(root: Path, fsdd: Path, digits: tuple[str, ...], per: int) -> Path:
    """Copy `per` FSDD recordings of each digit into root/<digit>/ (an audio class folder)."""
    for digit in digits:
        (root / digit).mkdir(parents=True)
        for wav in sorted(fsdd.glob(f"{digit}_jackson_*.wav"))[:per]:
            shutil.copy(wav, root / digit / wav.name)
    return root


def _shas(prof: Profile, folder: Path) -> set[str]:
    """Return the attachments named by the examples added from `folder`."""
    rows = prof.store.query("SELECT prompt FROM examples WHERE json_extract(provenance, "
                            "'$.file') = ?", [str(folder.resolve())])
    return {sha for r in rows for sha in ATTACHMENT_REF.findall(r["prompt"])}


@pytest.fixture
def fsdd(shared_data: Path) -> Path:
    """Return the FSDD recordings folder."""
    return shared_data / "fsdd" / "recordings"


def test_remove_a_folder_keeps_the_rest(tmp_path: Path, fsdd: Path) -> None:
    """Removing one added folder deletes its examples and unused attachment files; the other
    folder's examples and a clip a chat message shows stay."""
    a = _class_folder(tmp_path / "a", fsdd, ("0", "1"), 3)
    b = _class_folder(tmp_path / "b", fsdd, ("2",), 2)
    with Profile.create("p", "spoken-digits") as prof:
        add_paths(prof, [a, b])
        shas = _shas(prof, a)
        assert len(shas) == 6
        shown = sorted(shas)[0]
        conv = records.add_conversation(prof.store, "")
        records.add_message(prof.store, conv, "user", "", attachments=[shown])
        by = {r["origin"]: r["train"] + r["heldout"] for r in origins(prof.store)}
        assert by == {str(a.resolve()): 6, str(b.resolve()): 2}

        dry = remove_examples(prof, [a], dry_run=True)
        assert dry.total == 6 and dry.removed == 0
        assert sum(split_counts(prof.store)["spoken-digits"].values()) == 8

        done = remove_examples(prof, [a])
        assert done.removed == 6 and done.attachments == 5
        assert sum(split_counts(prof.store)["spoken-digits"].values()) == 2
        files = {p.name for p in prof.attachments_dir.rglob("*") if p.is_file()}
        assert shown in files and not (shas - {shown}) & files
        assert len(_shas(prof, b)) == 2 and _shas(prof, b) <= files
        left = {r["sha256"] for r in prof.store.query("SELECT sha256 FROM attachments")}
        assert left == files


def test_remove_by_file_under_folder_and_source(tmp_path: Path) -> None:
    """A file inside an added folder, a folder of added files, and a source each match; a task
    filter narrows; naming nothing that was added is an error naming the next step."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "one.txt").write_text("The first note is about cats.\n" * 20)
    (folder / "two.txt").write_text("The second note is about dogs.\n" * 20)
    other = tmp_path / "other.txt"
    other.write_text("Something else entirely, about birds.\n" * 20)
    with Profile.create("p", "chat") as prof:
        add_paths(prof, [folder, other])
        assert remove_examples(prof, [folder / "one.txt"]).removed > 0
        assert {r["origin"] for r in origins(prof.store)} == {str((folder / "two.txt").resolve()),
                                                               str(other.resolve())}
        with pytest.raises(DataError, match="no examples came from") as err:
            remove_examples(prof, [folder], task="nope")
        assert "insitu data sources" in err.value.hint
        assert remove_examples(prof, [folder]).removed > 0
        with pytest.raises(DataError, match="no examples came from"):
            remove_examples(prof, [tmp_path / "never-added.txt"])
        with pytest.raises(DataError, match="nothing to remove"):
            remove_examples(prof, [])
        assert remove_examples(prof, [], source="corpus").removed > 0
        assert origins(prof.store) == []


def test_cli_remove_asks_then_removes(tmp_path: Path) -> None:
    """Without --yes and without a terminal it refuses and removes nothing; --dry-run and
    --json report; --yes removes; `data sources` lists what is left."""
    f = tmp_path / "notes.txt"
    f.write_text("A line of notes to learn from.\n" * 30)
    runner = CliRunner()
    assert runner.invoke(cli, ["profile", "create", "p", "--from", "chat"]).exit_code == 0
    assert runner.invoke(cli, ["data", "add", "-p", "p", str(f)]).exit_code == 0
    listed = runner.invoke(cli, ["data", "sources", "-p", "p", "--json"])
    (row,) = json.loads(listed.output)
    assert row["origin"] == str(f.resolve()) and row["train"] + row["heldout"] > 0

    refused = runner.invoke(cli, ["data", "remove", "-p", "p", str(f)])
    assert isinstance(refused.exception, ConfigError) and "--yes" in str(refused.exception)
    dry = runner.invoke(cli, ["data", "remove", "-p", "p", str(f), "--dry-run"])
    assert dry.exit_code == 0 and "nothing removed" in dry.output
    assert "notes.txt" in runner.invoke(cli, ["data", "sources", "-p", "p"]).output

    done = runner.invoke(cli, ["data", "remove", "-p", "p", str(f), "--yes", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["removed"] == row["train"] + row["heldout"] and report["totals"] == {}
    assert "holds no examples" in runner.invoke(cli, ["data", "sources", "-p", "p"]).output
