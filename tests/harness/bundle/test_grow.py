"""Seed from a friend: an imported text model grows into MNIST digits and keeps its old skill."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.bundle import BundleError, export_bundle, import_bundle
from harness.bundle.grow import add_task, grow, imported_base
from harness.config import TaskConfig
from harness.graph import checkpoint
from harness.profile import Profile

from .helpers import DATA, add_digits

FIXTURE = Path(__file__).parent / "fixtures" / "bundle-v1.0.insitu"


def test_growing_into_digits_keeps_the_imported_skill(tmp_path):
    """New head/branch/adapters learn digits; the frozen base keeps its gate bpb; lineage kept."""
    prof = import_bundle(FIXTURE, "seeded")
    base_row, base_path = imported_base(prof)
    add_task(prof, TaskConfig(name="digits", kind="label", modality="image"))
    add_digits(prof, "digits", train=300, heldout=100)
    result = grow(prof, "digits", steps=100, seed=1)
    assert {c["candidate"] for c in result.candidates} == {"head", "branch", "stem-branch",
                                                          "adapters"}
    before, after = result.gate_before["chat"]["bpb"], result.gate_after["chat"]["bpb"]
    assert before / after >= 0.97  # the old skill is held (lower bpb is better)
    assert result.metrics["accuracy"] > 0.3  # ten classes: chance is 0.1
    frozen = [c for c in result.candidates if c["candidate"] != "adapters"]
    for c in frozen:  # around a frozen base with separate heads the old task cannot move at all
        assert c["gates"]["chat"]["bpb"] == pytest.approx(before, rel=1e-6)
    champ = prof.store.query("SELECT id, operator FROM individuals WHERE status='champion'")
    assert [r["id"] for r in champ] == [result.individual]
    assert champ[0]["operator"] == f"grow:{result.candidate}"
    link = prof.store.query("SELECT parent_id FROM lineage WHERE child_id = ?",
                            [result.individual])
    assert link[0]["parent_id"] == base_row["id"]
    grown = checkpoint.load(prof.path / prof.store.query(
        "SELECT checkpoint FROM individuals WHERE id = ?", [result.individual])[0]["checkpoint"])
    old = checkpoint.load(base_path)
    for name, value in old.state_dict().items():  # imported weights are untouched
        assert name in grown.state_dict() and grown.state_dict()[name].equal(value)
    assert grown.genome["nodes"][0].get("frozen") is True
    again = export_bundle(prof, tmp_path / "grown.insitu")
    assert [t["name"] for t in again.manifest["tasks"]] == ["chat", "digits"]
    assert set(again.manifest["champion"]["gates"]) == {"chat", "digits"}
    with import_bundle(again.path, "third") as third:  # the grown graph travels on, frozen marks
        champ = third.store.query("SELECT i.id, g.json FROM individuals i JOIN genomes g "
                                  "ON g.id = i.genome_id WHERE i.status = 'champion'")
        assert champ[0]["id"] == result.individual
        assert set(json.loads(champ[0]["json"])["heads"]) == {"chat", "digits"}


def test_growing_needs_an_imported_profile(tmp_path):
    """A profile that was not imported says how to seed from a friend."""
    with Profile.create("plain") as prof, pytest.raises(BundleError, match="not imported"):
        grow(prof, "chat")


def test_a_model_grown_into_a_second_text_task_still_chats_with_its_own_head(tmp_path):
    """After growing into a text task whose name sorts first ('bard'), the chat, serve and the
    online learner still use the 'chat' head: greedy replies equal the imported model's."""
    from harness.chat.session import ChatSession
    from harness.data.ingest import add_paths
    from harness.graph.generate import Sampling
    from harness.serve.engine import ChampionModel

    greedy = Sampling(temperature=0.0, max_tokens=40)
    with import_bundle(FIXTURE, "base") as base, ChatSession(base) as chat:
        before = chat.ask("good morning", sampling=greedy)
    prof = import_bundle(FIXTURE, "seeded")
    add_task(prof, TaskConfig(name="bard", kind="text", modality="text"))
    corpus = tmp_path / "bard.txt"
    corpus.write_text((DATA / "tinyshakespeare" / "input.txt").read_text()[:20_000])
    add_paths(prof, [corpus], "bard")
    result = grow(prof, "bard", steps=20, seed=1)
    grown = checkpoint.load(prof.checkpoint_file(prof.store.query(
        "SELECT checkpoint FROM individuals WHERE id = ?", [result.individual])[0]["checkpoint"]))
    assert list(grown.genome["heads"]) == ["bard", "chat"] and grown.default_task() == "bard"
    with ChatSession(prof) as chat:
        assert chat.graph.default_task() == "chat"
        assert chat.ask("good morning", sampling=greedy) == before
    served = ChampionModel.load(prof)
    assert served.graph.default_task() == "chat"
    prof.close()
    from click.testing import CliRunner

    from harness.cli import cli

    tree = CliRunner().invoke(cli, ["lineage", "-p", "seeded"])
    assert tree.exit_code == 0, tree.output
    top = tree.output.splitlines()[0]  # the grown champion: its size and stored fitness
    fitness = next(c["fitness"] for c in result.candidates if c["candidate"] == result.candidate)
    assert f"{grown.num_parameters():,} params" in top and f"fitness {fitness:.4f}" in top
