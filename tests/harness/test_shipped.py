"""A template's shipped champion becomes a new profile's champion (unless the profile is blank)."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.chat.model import champion_row, load_chat_model
from harness.cli import cli
from harness.errors import CheckpointError
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.profile import Profile, list_profiles
from harness.shipped import FILE, template_champion


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A copy of the chat template with a small champion checkpoint beside it."""
    toml = tmp_path / "mychat.toml"
    shutil.copyfile(str(resources.files("profiles").joinpath("chat.toml")), toml)
    g = Graph(seed("gru", 20_000, heads={"chat": {"op": "lm", "args": {}}}, context=64), "cpu",
              torch.Generator().manual_seed(0))
    checkpoint.save(g, tmp_path / "mychat.champion.safetensors",
                    extra={"metrics": json.dumps({"heldout_bpb": 2.5}), "params": "20000"})
    return toml


def test_a_new_profile_starts_from_the_shipped_champion(template: Path) -> None:
    """The champion is recorded with its metrics and the chat loads it instead of a seed."""
    with Profile.create("friend", str(template), blank=False) as prof:
        row = champion_row(prof)
        assert row is not None and row["family"] == "gru"
        stored = prof.store.query("SELECT metrics FROM individuals WHERE id = ?", [row["id"]])
        assert json.loads(stored[0]["metrics"]) == {"heldout_bpb": 2.5}
        model = load_chat_model(prof, warm_seconds=0.0)
        assert model.individual_id == row["id"] and "champion" in model.label
        assert not (prof.path / "checkpoints" / "chat").exists()  # no seed was built


def test_blank_profiles_and_the_environment_skip_it(template: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`blank=True`, `--blank` and INSITU_BLANK_PROFILES=1 give a profile without a champion."""
    with Profile.create("a", str(template), blank=True) as prof:
        assert champion_row(prof) is None
    with Profile.create("b", str(template)) as prof:  # the test suite sets the variable
        assert champion_row(prof) is None
    monkeypatch.delenv("INSITU_BLANK_PROFILES")
    res = CliRunner().invoke(cli, ["profile", "create", "c", "--from", str(template)])
    assert res.exit_code == 0 and "pre-trained champion" in res.output
    res = CliRunner().invoke(cli, ["profile", "create", "d", "--from", str(template), "--blank"])
    assert res.exit_code == 0 and "pre-trained champion" not in res.output


def test_a_damaged_shipped_champion_creates_no_profile(template: Path) -> None:
    """A truncated champion file is a clear error and leaves no half-made profile behind."""
    path = template.with_name("mychat.champion.safetensors")
    path.write_bytes(path.read_bytes()[:5])
    with pytest.raises(CheckpointError, match="damaged"):
        Profile.create("broken", str(template), blank=False)
    assert "broken" not in list_profiles()


def test_graph_export_writes_a_shippable_champion(template: Path, tmp_path: Path) -> None:
    """`insitu graph export` writes the champion with its metrics; a template can ship it."""
    Profile.create("src", str(template), blank=False).close()
    out = tmp_path / "again" / "mine.champion.safetensors"
    out.parent.mkdir()
    res = CliRunner().invoke(cli, ["graph", "export", "-p", "src", str(out)])
    assert res.exit_code == 0, res.output
    meta = checkpoint.read_metadata(out)
    assert json.loads(meta["metrics"]) == {"heldout_bpb": 2.5} and int(meta["params"]) > 0
    shutil.copyfile(template, out.with_name("mine.toml"))
    assert template_champion(str(out.with_name("mine.toml"))) == out
    empty = CliRunner().invoke(cli, ["graph", "export", "-p", "src-none", str(out)])
    assert empty.exit_code != 0


def test_the_chat_template_ships_a_champion() -> None:
    """The default template has a pre-trained champion that loads as a graph."""
    path = template_champion("chat")
    assert path is not None, "profiles/chat.champion.safetensors is missing"
    g = checkpoint.load(path)
    assert g.family and json.loads(checkpoint.read_metadata(path)["metrics"])


def test_an_evolved_champion_beside_the_shipped_one_is_the_one_used(template: Path) -> None:
    """A champion stored as evolution stores it (relative to the profile folder) wins over the
    older shipped one in the chat, serve, eval and graph show; an older profile's shipped row
    (relative to checkpoints/) still resolves."""
    from harness.genome import canonical_json, content_hash
    from harness.graph.cli import _from_profile
    from harness.serve.engine import champion_row as served_row
    from harness.store.population import add_individual, put_genome
    from harness.train.cli import checkpoint_path

    evolved = Graph(seed("gru", 20_000, heads={"chat": {"op": "lm", "args": {}}}, context=64),
                    "cpu", torch.Generator().manual_seed(1))
    rel = "checkpoints/evolve/RUN/g0001-s000.safetensors"
    with Profile.create("friend", str(template), blank=False) as prof:
        shipped = champion_row(prof)
        assert shipped is not None and shipped["checkpoint"] == "checkpoints/" + FILE
        (prof.path / rel).parent.mkdir(parents=True)
        checkpoint.save(evolved, prof.path / rel)
        gid = put_genome(prof.store, content_hash(evolved.genome), canonical_json(evolved.genome),
                         "gru", evolved.num_parameters())
        new = add_individual(prof.store, gid, checkpoint=rel, status="champion")
        row = champion_row(prof)
        assert row is not None and row["id"] == new
        assert served_row(prof)["id"] == new  # type: ignore[index]
        assert checkpoint_path(prof, row) == prof.path / rel
        assert prof.checkpoint_file(FILE) == prof.checkpoint_file("checkpoints/" + FILE)
        assert prof.checkpoint_file("checkpoints/none.safetensors") is None
    shown = _from_profile(None, "friend", None)
    for name, value in evolved.state_dict().items():
        assert torch.equal(shown.state_dict()[name], value), name
