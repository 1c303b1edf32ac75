"""Hostile bundles are refused with a clear message; nothing is written, no profile created."""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from harness.bundle import BundleError, import_bundle, read_bundle
from harness.paths import profiles_dir
from harness.profile import list_profiles

from .helpers import rewrite


def _refused(path: Path, match: str, tmp_path: Path) -> None:
    """Import must fail with `match`, create no profile and leave no file outside tmp_path."""
    before = set(tmp_path.parent.iterdir())
    with pytest.raises(BundleError, match=match) as err:
        import_bundle(path, "victim")
    assert err.value.hint  # every refusal says what to do next
    assert list_profiles() == []
    root = profiles_dir()
    assert not root.exists() or not any(root.iterdir())
    assert set(tmp_path.parent.iterdir()) == before
    assert not (tmp_path.parent / "evil.txt").exists() and not Path("/tmp/evil-insitu").exists()


def _add(name: str, data: bytes = b"x"):
    """Return a change that adds an entry (listed in the manifest when re-signed)."""
    def change(files: dict[str, bytes]) -> None:
        """Add the entry."""
        files[name] = data
    return change


@pytest.mark.parametrize("name, match", [
    ("../evil.txt", "climbs out"),
    ("gates/../../evil.txt", "climbs out"),
    ("/tmp/evil-insitu", "absolute path"),
    ("C:/evil.txt", "absolute path"),
])
def test_zip_slip_names_are_refused(bundle_copy, tmp_path, name, match):
    """`..` and absolute entry names never get near the disk."""
    bad = rewrite(bundle_copy, tmp_path / "slip.insitu", _add(name))
    _refused(bad, match, tmp_path)


def test_symlink_entries_are_refused(bundle_copy, tmp_path):
    """An entry whose mode is a symbolic link is refused."""
    def link(zf: zipfile.ZipFile) -> None:
        """Add a symlink entry pointing outside."""
        info = zipfile.ZipInfo("gates/link.jsonl")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    bad = rewrite(bundle_copy, tmp_path / "link.insitu", lambda f: None, extra=link)
    _refused(bad, "link", tmp_path)


def test_a_zip_bomb_is_refused(bundle_copy, tmp_path):
    """A listed entry that expands thousands of times is refused before it is read."""
    bad = rewrite(bundle_copy, tmp_path / "bomb.insitu",
                  _add("data/bomb.jsonl", b"\n" * (40 * 2**20)))
    _refused(bad, "zip bomb", tmp_path)


def test_a_checksum_mismatch_is_refused(bundle_copy, tmp_path):
    """A file changed after export (manifest not re-signed) is refused."""
    def tamper(files: dict[str, bytes]) -> None:
        """Flip one byte of the model."""
        blob = bytearray(files["champion/model.safetensors"])
        blob[-1] ^= 0xFF
        files["champion/model.safetensors"] = bytes(blob)
    bad = rewrite(bundle_copy, tmp_path / "sum.insitu", tamper, resign=False)
    _refused(bad, "checksum mismatch", tmp_path)


def test_a_lying_safetensors_header_is_refused(bundle_copy, tmp_path):
    """A header whose tensor sizes do not match the data is refused (even when re-signed)."""
    def lie(files: dict[str, bytes]) -> None:
        """Claim a bigger first tensor than the bytes hold."""
        blob = files["champion/model.safetensors"]
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8:8 + n])
        key = next(k for k in header if k != "__metadata__")
        header[key]["shape"] = [d * 2 for d in header[key]["shape"]] or [2]
        text = json.dumps(header).encode()
        files["champion/model.safetensors"] = struct.pack("<Q", len(text)) + text + blob[8 + n:]
    bad = rewrite(bundle_copy, tmp_path / "lie.insitu", lie)
    _refused(bad, "does not match its data", tmp_path)


def test_an_unknown_unit_name_is_refused(bundle_copy, tmp_path):
    """A genome using an op this insitu does not register is refused, naming it."""
    def alien(files: dict[str, bytes]) -> None:
        """Rename the first body node's op."""
        genome = json.loads(files["champion/genome.json"])
        genome["nodes"][0]["op"] = "quantum_flux"
        files["champion/genome.json"] = json.dumps(genome).encode()
    bad = rewrite(bundle_copy, tmp_path / "alien.insitu", alien)
    _refused(bad, "quantum_flux", tmp_path)


@pytest.mark.parametrize("name", ["champion/evil.pkl", "data/examples.jsonl"])
def test_a_pickle_inside_is_refused(bundle_copy, tmp_path, name):
    """A pickle is refused by its name or by its bytes, wherever it hides."""
    bad = rewrite(bundle_copy, tmp_path / "pickle.insitu",
                  _add(name, pickle.dumps({"a": 1}, protocol=4)))
    _refused(bad, "pickle", tmp_path)


def test_a_truncated_zip_is_refused(bundle_copy, tmp_path):
    """A bundle cut short (a broken download) is refused as damaged."""
    bad = tmp_path / "cut.insitu"
    raw = bundle_copy.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])
    _refused(bad, "not a readable bundle|cannot be read|damaged", tmp_path)


def test_a_future_format_version_names_the_insitu_it_needs(bundle_copy, tmp_path):
    """A newer major format says which insitu reads it."""
    def future(files: dict[str, bytes]) -> None:
        """Bump the major version."""
        manifest = json.loads(files["manifest.json"])
        manifest.update(version="7.0", requires_insitu="9.1.0")
        files["manifest.json"] = json.dumps(manifest).encode()
    bad = rewrite(bundle_copy, tmp_path / "future.insitu", future)
    _refused(bad, r"needs insitu >= 9\.1\.0", tmp_path)


def test_an_unlisted_extra_file_is_refused(bundle_copy, tmp_path):
    """A file the manifest does not list is refused even when its name is allowed."""
    bad = rewrite(bundle_copy, tmp_path / "extra.insitu", _add("tasks/sneaky.json", b"{}"),
                  resign=False)
    _refused(bad, "does not list", tmp_path)


def test_a_newer_minor_version_still_reads(bundle_copy, tmp_path):
    """Minor versions add fields only: a 1.9 bundle with an unknown field still verifies."""
    def minor(files: dict[str, bytes]) -> None:
        """Bump the minor version and add a field."""
        manifest = json.loads(files["manifest.json"])
        manifest.update(version="1.9", shiny_new_field={"x": 1})
        files["manifest.json"] = json.dumps(manifest).encode()
    ok = rewrite(bundle_copy, tmp_path / "minor.insitu", minor)
    assert read_bundle(ok).manifest["version"] == "1.9"


def test_attachment_references_that_climb_out_are_refused(bundle_copy, tmp_path):
    """A data row naming '../..' as an attachment (a later read outside) is refused."""
    def climb(files: dict[str, bytes]) -> None:
        """Point one example's prompt at a path outside the attachments folder."""
        rows = [json.loads(line) for line in files["data/examples.jsonl"].splitlines()]
        rows[0]["prompt"] = json.dumps([{"kind": "image", "attachment": "../../etc/passwd"}])
        files["data/examples.jsonl"] = "".join(json.dumps(r) + "\n" for r in rows).encode()
    bad = rewrite(bundle_copy, tmp_path / "ref.insitu", climb)
    _refused(bad, "not a sha256", tmp_path)
