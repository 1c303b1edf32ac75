"""Tests of checkpoints: exact round trips and clear errors for bad files."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import save_file

from harness.errors import CheckpointError
from harness.graph import checkpoint
from harness.graph.seeds import seed

from .helpers import build, perturb, tokens


def _trained_graph():
    g = build(seed("transformer", 8_000, depth=2))
    perturb(g)
    g.add_control(8)
    g.add_adapters(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in g.adapter_parameters():
            p.normal_(0, 0.1, generator=torch.Generator().manual_seed(2))
        g.blocks["1"].unit.qkv.tether[:3] = 0.0  # a pruned tether must survive the trip
    return g


def test_round_trip_gives_identical_outputs_and_genome(tmp_path):
    """save -> load rebuilds the graph from the file alone, with the same outputs."""
    g = _trained_graph()
    path = checkpoint.save(g, tmp_path / "model.safetensors")
    back = checkpoint.load(path, device="cpu").eval()
    toks, ctrl = tokens(), torch.randn(2, 8)
    with torch.no_grad():
        assert torch.equal(g(toks, control=ctrl), back(toks, control=ctrl))
        with g.frozen_reference(), back.frozen_reference():
            assert torch.equal(g(toks), back(toks))
    assert back.genome == g.genome
    assert back.adapter_rank == 2 and back.control_size == 8
    assert torch.equal(back.blocks["1"].unit.qkv.tether, g.blocks["1"].unit.qkv.tether)
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp file left


def test_metadata_holds_genome_and_version(tmp_path):
    """The genome JSON and the format version sit in the safetensors metadata."""
    path = checkpoint.save(build(seed("mlp", 4_000)), tmp_path / "m.safetensors")
    meta = checkpoint.read_metadata(path)
    assert meta["format"] == "insitu.checkpoint" and meta["version"] == "1"
    assert json.loads(meta["genome"])["family"] == "mlp"


def test_missing_metadata_is_a_clear_error(tmp_path):
    """A plain safetensors file without our metadata is refused with a hint."""
    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="without insitu metadata"):
        checkpoint.load(path)


def test_newer_format_version_asks_for_an_upgrade(tmp_path):
    """A checkpoint from a newer insitu names the upgrade."""
    path = checkpoint.save(build(seed("mlp", 4_000)), tmp_path / "m.safetensors")
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    header["__metadata__"]["version"] = "99"
    raw = json.dumps(header).encode()  # data offsets are relative to the data: any length works
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + size :])
    with pytest.raises(CheckpointError, match="newer") as info:
        checkpoint.load(path)
    assert "upgrade insitu" in str(info.value)


@pytest.mark.parametrize("cut", [0, 5, 100, -1])
def test_truncated_file_is_a_clear_error(tmp_path, cut):
    """A file cut short anywhere is reported as truncated or damaged."""
    path = checkpoint.save(build(seed("mlp", 4_000)), tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: cut if cut >= 0 else len(data) - 10])
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        checkpoint.load(path)


def test_garbled_header_and_missing_file_are_clear(tmp_path):
    """Garbage and a missing path both give CheckpointErrors."""
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", 10) + b"{not json}" + b"\0" * 20)
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        checkpoint.load(bad)
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        checkpoint.load(tmp_path / "nope.safetensors")
