"""Tests of the genome: validation, migration, fixtures, canonical JSON and hashing."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import GenomeError
from harness.genome import (
    VERSION,
    add_node,
    canonical_json,
    content_hash,
    dumps,
    load_genome,
    new_genome,
    save_genome,
    topo_order,
    validate,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _genome() -> dict:
    g = new_genome(16, family="mlp", context=32)
    a = add_node(g, "mlp", [0], {"hidden": 32}, residual=True)
    b = add_node(g, "mlp", [0], {"hidden": 32}, residual=True)
    add_node(g, "add", [a, b])
    return g


def _error(g: dict) -> str:
    with pytest.raises(GenomeError) as info:
        validate(g)
    return str(info.value)


def test_a_fresh_genome_is_valid():
    """A genome made with new_genome and add_node validates."""
    g = _genome()
    assert validate(g) is g
    assert topo_order(g) == [1, 2, 3]


def test_cycle_is_rejected():
    """A cycle in the body names the nodes on it."""
    g = _genome()
    g["nodes"][0]["inputs"] = [3]
    assert "cycle" in _error(g)


def test_dangling_input_is_rejected():
    """A node reading a missing node is an error."""
    g = _genome()
    g["nodes"][2]["inputs"] = [1, 9]
    assert "reads node 9, which does not exist" in _error(g)


def test_unknown_op_is_rejected():
    """An op missing from the unit registry is an error that lists the known ops."""
    g = _genome()
    g["nodes"][0]["op"] = "warp_drive"
    msg = _error(g)
    assert "unknown op 'warp_drive'" in msg and "mlp" in msg


def test_unknown_head_and_stem_ops_are_rejected():
    """Heads and stems are checked against their registries too."""
    g = _genome()
    g["heads"]["chat"]["op"] = "oracle"
    assert "unknown head op 'oracle'" in _error(g)
    g = _genome()
    g["stems"]["text"]["op"] = "smell"
    assert "unknown stem op 'smell'" in _error(g)


@pytest.mark.parametrize(
    ("field", "value"), [("width", 0), ("width", 2.5), ("context", -1), ("width", True)]
)
def test_bad_sizes_are_rejected(field, value):
    """Width and context must be positive integers."""
    g = _genome()
    g[field] = value
    assert f"{field} must be an integer" in _error(g)


def test_bad_arg_size_is_rejected():
    """A size argument of a unit must be a positive integer."""
    g = _genome()
    g["nodes"][0]["args"]["hidden"] = 0
    assert "arg 'hidden'" in _error(g)


def test_merge_with_one_input_is_rejected():
    """A merge node needs at least two inputs."""
    g = _genome()
    g["nodes"][2]["inputs"] = [1]
    g["nodes"][1]["inputs"] = [0]
    assert "needs at least 2" in _error(g)


def test_non_merge_with_two_inputs_is_rejected():
    """A non-merge node takes exactly one input."""
    g = _genome()
    g["nodes"][1]["inputs"] = [0, 1]
    assert "takes exactly 1" in _error(g)


def test_missing_output_is_rejected():
    """The output must be an existing node, and the field must be there."""
    g = _genome()
    g["output"] = 42
    assert "output 42 is not a node" in _error(g)
    del g["output"]
    assert "missing field 'output'" in _error(g)


def test_dead_node_is_rejected():
    """A node that feeds nothing is an error."""
    g = _genome()
    add_node(g, "mlp", [0], set_output=False)
    assert "feed neither the output nor a head" in _error(g)


def test_duplicate_id_and_innovation_counter_are_checked():
    """Ids are unique and below next_innovation."""
    g = _genome()
    g["nodes"][1]["id"] = 1
    assert "duplicated" in _error(g)
    g = _genome()
    g["next_innovation"] = 2
    assert "next_innovation" in _error(g)


def test_v1_fixture_migrates_to_v2():
    """The version-1 fixture loads, migrates and keeps its meaning."""
    g = load_genome(FIXTURES / "genome_v1.json")
    assert g["version"] == VERSION == 2
    assert g["width"] == 16 and g["stems"]["text"]["op"] == "text"
    assert g["heads"] == {"chat": {"op": "lm", "args": {}}}
    assert g["nodes"][0]["prenorm"] == "rms" and g["nodes"][0]["residual"]
    assert g["nodes"][1]["prenorm"] is None
    assert g["nodes"][2]["inputs"] == [1, 2]
    assert g["train"]["lr"] == 0.002 and g["train"]["batch"] == 8
    assert g["next_innovation"] == 5 and g["parents"] == ["01J0000000000000000000000A"]


def test_v2_fixture_loads_unchanged():
    """The version-2 fixture loads as is."""
    raw = json.loads((FIXTURES / "genome_v2.json").read_text())
    assert load_genome(FIXTURES / "genome_v2.json") == raw


def test_newer_version_asks_for_an_upgrade():
    """A genome from a newer insitu says which version it needs and to upgrade."""
    raw = json.loads((FIXTURES / "genome_v2.json").read_text())
    raw["version"] = VERSION + 1
    raw["requires"] = "9.0"
    with pytest.raises(GenomeError) as info:
        load_genome(raw)
    assert "needs insitu >= 9.0" in str(info.value) and "upgrade" in str(info.value)


def test_not_a_genome_and_bad_json_are_clear():
    """Garbage and foreign JSON get clear errors."""
    with pytest.raises(GenomeError, match="not valid JSON"):
        load_genome("{nope")
    with pytest.raises(GenomeError, match="not a genome"):
        load_genome({"format": "something.else", "version": 1})


def test_json_round_trip_and_hash(tmp_path):
    """Saving and loading keeps the genome; the hash ignores parents and key order."""
    g = _genome()
    path = save_genome(g, tmp_path / "g.json")
    back = load_genome(path)
    assert back == g
    assert canonical_json(back) == canonical_json(g)
    assert json.loads(dumps(g)) == g
    shuffled = dict(reversed(list(copy.deepcopy(g).items())))
    shuffled["parents"] = ["someone"]
    assert content_hash(shuffled) == content_hash(g)
    g["width"] = 32
    assert content_hash(g) != content_hash(back)


def test_genome_package_never_imports_torch():
    """Importing and using harness.genome leaves torch unimported."""
    code = (
        "import sys, harness.genome as G\n"
        "g = G.new_genome(8); G.add_node(g, 'mlp', [0]); G.validate(g)\n"
        f"G.load_genome(open({str(FIXTURES / 'genome_v1.json')!r}).read())\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
