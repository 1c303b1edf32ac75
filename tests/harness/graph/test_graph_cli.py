"""Tests of `insitu graph show` and `insitu bench generate` through click's runner."""

from __future__ import annotations

import json
import os

import torch
from click.testing import CliRunner

from harness.bench.cli import bench
from harness.errors import ProfileError
from harness.genome import save_genome
from harness.graph import checkpoint
from harness.graph.cli import graph
from harness.graph.seeds import seed

from .helpers import build


def test_show_a_seed_family():
    """`graph show --family` prints the table with parameters, FLOPs and family."""
    res = CliRunner().invoke(graph, ["show", "--family", "transformer", "--params", "20000"])
    assert res.exit_code == 0, res.output
    assert "family transformer" in res.output and "FLOPs/token" in res.output
    assert "attention" in res.output and "<- output" in res.output


def test_show_a_checkpoint_as_json(tmp_path):
    """`graph show PATH --json` on a checkpoint reports its genome and parameter count."""
    g = build(seed("gru", 6_000))
    path = checkpoint.save(g, tmp_path / "m.safetensors")
    res = CliRunner().invoke(graph, ["show", str(path), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["family"] == "gru" and info["parameters"] == g.num_parameters()
    assert info["genome"] == g.genome


def test_show_a_genome_file(tmp_path):
    """`graph show` reads a genome JSON file."""
    path = save_genome(seed("ssm", 6_000), tmp_path / "g.json")
    res = CliRunner().invoke(graph, ["show", str(path)])
    assert res.exit_code == 0, res.output
    assert "ssm" in res.output


def test_unknown_individual_is_a_clear_error():
    """An id that is neither a file nor a known individual names the profile and next step."""
    from harness.profile import Profile

    Profile.create("mine").close()
    res = CliRunner().invoke(graph, ["show", "01HZZZZZZZZZZZZZZZZZZZZZZZ", "-p", "mine"])
    assert isinstance(res.exception, ProfileError)
    assert "no single individual" in str(res.exception) and "'mine'" in str(res.exception)


def test_bench_generate_json_is_quick_and_complete():
    """`bench generate --json` reports every timing for a requested family."""
    before = torch.get_num_threads()
    res = CliRunner().invoke(
        bench, ["generate", "--family", "mlp", "--params", "5000", "--tokens", "8",
                "--repeats", "1", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.output)["results"]
    assert row["family"] == "mlp" and row["tokens_per_s"] > 0 and row["ratio"] > 0
    assert row["engine"] == "native" and row["torch_step_us_per_token"] > 0
    assert torch.get_num_threads() == before
    assert os.environ.get("INSITU_NATIVE") is None  # the torch comparison restored it


def test_show_profile_champion_and_individual_by_prefix():
    """`graph show -p P` shows the champion; an id prefix finds an individual; lineage is kept."""
    from harness.genome import canonical_json, content_hash
    from harness.profile import Profile
    from harness.store.population import Parent, add_individual, parents_of, put_genome

    with Profile.create("evo") as prof:
        g = build(seed("lstm", 6_000))
        name = "champ.safetensors"
        checkpoint.save(g, prof.checkpoints_dir / name)
        gid = put_genome(prof.store, content_hash(g.genome), canonical_json(g.genome), "lstm",
                         g.num_parameters())
        first = add_individual(prof.store, gid, status="dead")
        champ = add_individual(prof.store, gid, checkpoint=name, status="champion",
                               parents=[Parent(first, "parent", "widen")])
        assert parents_of(prof.store, champ)[0]["operator"] == "widen"
    res = CliRunner().invoke(graph, ["show", "-p", "evo", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["family"] == "lstm"
    shared = len(os.path.commonprefix([first, champ]))  # ids made in one ms share 25 chars
    res = CliRunner().invoke(graph, ["show", "-p", "evo", first[: shared + 1]])
    assert res.exit_code == 0 and "family lstm" in res.output


def test_show_a_checkpoint_with_a_count_memory(tmp_path):
    """`graph show` names the head's memory order and how many n-grams it counted."""
    g = build(seed("gru", 6_000, heads={"chat": {"op": "lm", "args": {"memory": 2}}}))
    g.heads["chat"].memory.add(torch.tensor(list(b"abcabd")))
    path = checkpoint.save(g, tmp_path / "m.safetensors")
    res = CliRunner().invoke(graph, ["show", str(path)])
    assert res.exit_code == 0, res.output
    assert "memory=2" in res.output and "13 n-grams counted" in res.output
    info = json.loads(CliRunner().invoke(graph, ["show", str(path), "--json"]).output)
    assert info["heads"]["chat"]["memory_ngrams"] == 13
