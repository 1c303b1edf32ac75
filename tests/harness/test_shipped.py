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
from harness.shipped import template_champion


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
