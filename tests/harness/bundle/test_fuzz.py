"""Property test: mutated bundles raise only InsituError subclasses (or import cleanly)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.bundle import import_bundle, read_bundle
from harness.errors import InsituError
from harness.profile import delete_profile, list_profiles

from .helpers import entries, rewrite

_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check(path: Path, install: bool = False) -> None:
    """Read (or import) the bundle; any failure must be an InsituError with a hint."""
    try:
        if install:
            import_bundle(path, "fuzzed").close()
            delete_profile("fuzzed")
        else:
            read_bundle(path)
    except InsituError as exc:
        assert exc.message and exc.hint
    assert list_profiles() == []


@_SETTINGS
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_flipped_bytes_in_the_zip(bundle_copy, tmp_path, edits, cut):
    """Random byte changes and truncations of the zip file never crash the reader."""
    raw = bytearray(bundle_copy.read_bytes())
    for where, value in edits:
        raw[int(where * len(raw))] = value
    if cut is not None:
        raw = raw[: int(cut * len(raw))]
    bad = tmp_path / "fuzz.insitu"
    bad.write_bytes(bytes(raw))
    _check(bad)


_NAMES = ["manifest.json", "champion/genome.json", "champion/model.safetensors",
          "champion/individual.json", "profile/config.json", "gates/chat.jsonl",
          "profile/lineage.json"]


@_SETTINGS
@given(name=st.sampled_from(_NAMES), where=st.floats(0, 1, exclude_max=True),
       junk=st.binary(min_size=0, max_size=16), resign=st.booleans())
def test_mutated_entries_even_when_resigned(bundle_copy, tmp_path, name, where, junk, resign):
    """Splicing junk into an entry (checksums recomputed or not) never crashes the reader."""
    def change(files: dict[str, bytes]) -> None:
        """Splice the junk into one entry."""
        blob = files[name]
        at = int(where * len(blob))
        files[name] = blob[:at] + junk + blob[at + len(junk):]
    bad = rewrite(bundle_copy, tmp_path / "mut.insitu", change, resign=resign)
    _check(bad, install=True)


@_SETTINGS
@given(key=st.sampled_from(["nodes", "heads", "stems", "width", "output", "version"]),
       value=st.one_of(st.none(), st.integers(-3, 10**9), st.text(max_size=5),
                       st.lists(st.integers(-2, 5), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_nonsense_genome_fields(bundle_copy, tmp_path, key, value):
    """A genome field set to nonsense (re-signed) is refused cleanly."""
    def change(files: dict[str, bytes]) -> None:
        """Overwrite one genome field."""
        genome = json.loads(files["champion/genome.json"])
        genome[key] = value
        files["champion/genome.json"] = json.dumps(genome).encode()
    bad = rewrite(bundle_copy, tmp_path / "genome.insitu", change)
    _check(bad, install=True)
    assert entries(bad)
