"""Export then import: same champion outputs, genome, tasks, metrics, gates; never overwrite."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch

from harness.bundle import export_bundle, import_bundle, inspect_bundle
from harness.bundle.export import find_champion
from harness.bundle.gate import gate_metrics, loads_examples
from harness.errors import ProfileError
from harness.graph import checkpoint
from harness.profile import Profile, list_profiles
from harness.store.records import add_conversation, add_message, get_setting, set_setting

from .helpers import evolved_profile


def _outputs(prof: Profile) -> torch.Tensor:
    """Return the champion's logits on a fixed token batch."""
    graph = checkpoint.load(find_champion(prof)["path"], device="cpu").eval()
    tokens = torch.arange(24).reshape(2, 12) % 200  # [B, T]
    with torch.no_grad():
        return graph(tokens)  # [B, T, V]


def test_round_trip_keeps_outputs_genome_tasks_metrics_and_gates(tmp_path):
    """An imported profile's champion gives identical outputs and the same metadata."""
    src = evolved_profile(tmp_path, "friend")
    add_message(src.store, add_conversation(src.store, "hi"), "user", "hello there")
    out = export_bundle(src, tmp_path / "b.insitu")
    dst = import_bundle(out.path, "mine")
    a, b = find_champion(src), find_champion(dst)
    assert a["id"] == b["id"] and json.loads(a["genome"]) == json.loads(b["genome"])
    assert a["metrics"] == b["metrics"] and a["fitness"] == b["fitness"]
    assert torch.equal(_outputs(src), _outputs(dst))
    assert [t.__dict__ for t in src.config.tasks] == [t.__dict__ for t in dst.config.tasks]
    assert dst.config.to_dict() == src.config.to_dict()
    gate = dst.path / "bundle" / "gates" / "chat.jsonl"
    examples = loads_examples(gate.read_bytes(), "gate")
    expected = json.loads((dst.path / "bundle" / "gates" / "chat.metrics.json").read_text())
    graph = checkpoint.load(b["path"], device="cpu")
    again = gate_metrics(graph, dst.config.task("chat"), examples, dst.attachments_dir,
                         dst.config.model)
    assert again == pytest.approx(expected["metrics"]) and "bpb" in again
    assert dst.store.count("messages") == 0  # data only with --include-data
    lineage = get_setting(dst.store, "bundle:lineage")
    assert [s["action"] for s in lineage] == ["exported", "imported"]
    assert lineage[0]["profile"] == "friend" and lineage[1]["profile"] == "mine"


def test_a_champion_with_a_count_memory_travels_with_its_counts_and_a_warning(tmp_path):
    """The counts ride in the checkpoint: same outputs and gate metrics; export warns of them."""
    from click.testing import CliRunner

    from harness.bundle.cli import export_cmd

    src = evolved_profile(tmp_path, "bard", memory=2)
    out = export_bundle(src, tmp_path / "b.insitu")
    assert out.memory == {"chat": 2}
    dst = import_bundle(out.path, "mine")
    assert torch.equal(_outputs(src), _outputs(dst))
    graph = checkpoint.load(find_champion(dst)["path"], device="cpu")
    assert graph.heads["chat"].memory.entries > 1000
    gate = dst.path / "bundle" / "gates" / "chat.jsonl"
    expected = json.loads((dst.path / "bundle" / "gates" / "chat.metrics.json").read_text())
    again = gate_metrics(graph, dst.config.task("chat"), loads_examples(gate.read_bytes(), "gate"),
                         dst.attachments_dir, dst.config.model)  # fmt: skip
    assert again == pytest.approx(expected["metrics"])
    res = CliRunner().invoke(export_cmd, ["-p", "bard", str(tmp_path / "c.insitu")])
    assert res.exit_code == 0, res.output
    assert "order-2 count memory" in res.output and "read back" in res.output


def test_lineage_accumulates_from_friend_to_friend(bundle_copy, tmp_path):
    """Re-exporting an imported profile carries the earlier history forward."""
    first = import_bundle(bundle_copy, "second")
    again = export_bundle(first, tmp_path / "again.insitu")
    third = import_bundle(again.path, "third")
    steps = get_setting(third.store, "bundle:lineage")
    assert [(s["action"], s["profile"]) for s in steps] == [
        ("exported", "friend"), ("imported", "second"), ("exported", "second"),
        ("imported", "third")]
    rows = third.store.query("SELECT role, parent_id FROM lineage WHERE role = 'import'")
    assert rows and rows[0]["parent_id"].startswith("second/")


def test_include_data_and_population_travel(bundle_copy):
    """--include-data brings the examples; --population the champion's run mates."""
    prof = import_bundle(bundle_copy, "withdata")
    assert prof.store.count("examples") > 0
    statuses = sorted(r["status"] for r in prof.store.query("SELECT status FROM individuals"))
    assert statuses == ["alive", "champion"]
    info = inspect_bundle(bundle_copy)
    assert info["includes"]["data"] and info["includes"]["population"] == 1
    assert info["license"] == "MIT"


def test_import_never_overwrites_and_creates_a_new_profile(bundle_copy):
    """Importing under an existing name is refused and leaves that profile untouched."""
    prof = import_bundle(bundle_copy, "taken")
    before = prof.store.count("individuals")
    prof.close()
    with pytest.raises(ProfileError, match="already exists"):
        import_bundle(bundle_copy, "taken")
    with Profile.open("taken", create_default=False) as again:
        assert again.store.count("individuals") == before
    assert list_profiles() == ["taken"]


def test_keys_never_leave_the_machine(tmp_path, insitu_home, monkeypatch):
    """Teacher configs travel without key values; a key value in data refuses the export."""
    secret = "sk-test-0123456789abcdef"
    insitu_home.mkdir(parents=True, exist_ok=True)
    (insitu_home / "keys.json").write_text(json.dumps({"OPENAI_KEY": secret}))
    monkeypatch.setenv("OTHER_KEY", "env-secret-987654321")
    prof = evolved_profile(tmp_path, "keyed")
    set_setting(prof.store, "teachers", {"gpt": {"kind": "openai", "model": "m",
                                                 "key": "OPENAI_KEY"},
                                         "local": {"kind": "openai", "model": "m",
                                                   "key": "OTHER_KEY"}})
    out = export_bundle(prof, tmp_path / "k.insitu", include_data=True)
    raw = out.path.read_bytes()
    assert secret.encode() not in raw and b"env-secret-987654321" not in raw
    with zipfile.ZipFile(out.path) as zf:
        assert b"OPENAI_KEY" in zf.read("profile/teachers.json")
        for name in zf.namelist():
            data = zf.read(name)
            assert secret.encode() not in data and b"env-secret-987654321" not in data
    add_message(prof.store, add_conversation(prof.store), "user", f"my key is {secret}")
    from harness.bundle import BundleError

    with pytest.raises(BundleError, match="API key"):
        export_bundle(prof, tmp_path / "leak.insitu", include_data=True)
    assert not (tmp_path / "leak.insitu").exists()


def test_a_name_without_the_bundle_ending_gets_it(bundle_copy, tmp_path):
    """`insitu export -p P friends` writes friends.insitu, the name import and inspect expect."""
    prof = import_bundle(bundle_copy, "named")
    out = export_bundle(prof, tmp_path / "friends")
    assert out.path == tmp_path / "friends.insitu" and out.path.is_file()
    assert not (tmp_path / "friends").exists()
    assert export_bundle(prof, tmp_path / "v2.INSITU").path == tmp_path / "v2.INSITU"
    assert import_bundle(out.path, "again").name == "again"
