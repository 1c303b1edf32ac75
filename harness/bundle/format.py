"""The bundle format: names, versions, limits and the path rules every entry must follow.

A bundle is a zip whose `manifest.json` lists every other entry with its sha256 and size. The
format version is `MAJOR.MINOR`: a reader opens every minor version of its major (unknown fields
are ignored), migrates older majors through `MIGRATIONS`, and refuses newer majors naming the
insitu version that reads them (`requires_insitu` in the manifest).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from harness.errors import InsituError

FORMAT = "insitu.bundle"
MAJOR = 1
MINOR = 0
VERSION = f"{MAJOR}.{MINOR}"
#: The first insitu version that reads format major MAJOR (written into every manifest).
REQUIRES_INSITU = "0.1.0"
MANIFEST = "manifest.json"
CARD = "README.md"
SUFFIX = ".insitu"

# -- limits (a bundle over any of them is refused before anything is written) ---------------
MAX_ENTRIES = 20_000
MAX_FILE_BYTES = 512 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_BUNDLE_BYTES = 2 * 2**30
#: An entry may expand at most this many times its compressed size (past RATIO_FLOOR bytes).
MAX_RATIO = 200
RATIO_FLOOR = 1 * 2**20
MAX_PATH = 200
MAX_SAFETENSORS_HEADER = 16 * 2**20

#: Entries a bundle may hold (besides the manifest), as full-match patterns.
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_SHA = r"[0-9a-f]{64}"
ALLOWED = [
    re.compile(p)
    for p in (
        r"README\.md",
        r"profile/config\.json",
        r"profile/teachers\.json",
        r"profile/lineage\.json",
        rf"tasks/{_NAME}\.json",
        rf"gates/{_NAME}\.jsonl",
        rf"gates/{_NAME}\.metrics\.json",
        rf"gates/attachments/{_SHA}",
        r"champion/genome\.json",
        r"champion/model\.safetensors",
        r"champion/individual\.json",
        r"champion/adapters\.safetensors",
        rf"population/{_NAME}/genome\.json",
        rf"population/{_NAME}/model\.safetensors",
        rf"population/{_NAME}/individual\.json",
        rf"data/{_NAME}\.jsonl",
        rf"data/attachments/{_SHA}",
    )
]
#: The data tables `--include-data` exports, with the columns an import may write.
DATA_TABLES: dict[str, tuple[str, ...]] = {
    "conversations": ("id", "title", "created_at", "updated_at"),
    "messages": ("id", "conversation_id", "role", "text", "parts", "individual_id",
                 "created_at", "notice"),
    "attachments": ("sha256", "kind", "mime", "size", "created_at"),
    "message_attachments": ("message_id", "position", "sha256"),
    "ratings": ("id", "message_id", "value", "source", "created_at"),
    "tags": ("id", "message_id", "tag", "source", "score", "created_at"),
    "examples": ("id", "task", "prompt", "answer", "source", "split", "weight", "hash",
                 "message_id", "provenance", "created_at"),
}  # fmt: skip

#: Leading bytes of content a bundle never carries: pickles, executables, scripts.
FORBIDDEN_MAGIC: dict[bytes, str] = {
    b"\x80\x02": "a pickle",
    b"\x80\x03": "a pickle",
    b"\x80\x04": "a pickle",
    b"\x80\x05": "a pickle",
    b"\x7fELF": "an ELF executable",
    b"MZ": "a Windows executable",
    b"\xcf\xfa\xed\xfe": "a Mach-O executable",
    b"\xca\xfe\xba\xbe": "a Mach-O/Java executable",
    b"#!": "a script",
    b"PK\x03\x04": "a nested zip (e.g. a torch .pt pickle archive)",
}
#: File suffixes refused by name (pickled tensors and programs).
FORBIDDEN_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".npy", ".npz",
                      ".joblib", ".exe", ".so", ".dll", ".dylib", ".sh", ".py", ".pyc")


class BundleError(InsituError):
    """A bundle is damaged, unsafe, of an unsupported version, or cannot be written."""


def parse_version(text: Any) -> tuple[int, int]:
    """Return (major, minor) of a `MAJOR.MINOR` format version, or raise BundleError."""
    m = re.fullmatch(r"(\d{1,4})\.(\d{1,4})", str(text)) if isinstance(text, str | int) else None
    if m is None:
        raise BundleError(f"the bundle's format version {str(text)[:40]!r} is not MAJOR.MINOR",
                          "the manifest is damaged; ask for the bundle again")
    return int(m.group(1)), int(m.group(2))


def check_path(name: str) -> str:
    """Return `name` if it is a safe, allowed entry path, else raise BundleError saying why."""
    unsafe = "the bundle is unsafe and was not imported; do not use it"
    if not isinstance(name, str) or not name:
        raise BundleError("the bundle has an entry without a name", unsafe)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise BundleError(f"the bundle entry {name[:80]!r} has an absolute path", unsafe)
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise BundleError(f"the bundle entry {name[:80]!r} climbs out of its folder (..)", unsafe)
    if "\\" in name or "" in parts or "." in parts or len(name) > MAX_PATH:
        raise BundleError(f"the bundle entry {name[:80]!r} has a malformed path", unsafe)
    if name.lower().endswith(FORBIDDEN_SUFFIXES):
        raise BundleError(f"the bundle entry {name[:80]!r} is a pickle or program file; "
                          "bundles never carry those", unsafe)
    if name != MANIFEST and not any(p.fullmatch(name) for p in ALLOWED):
        raise BundleError(f"the bundle entry {name[:80]!r} is not part of the bundle format "
                          f"{VERSION}", "the bundle was edited or damaged; ask for it again")
    return name


def check_content(name: str, data: bytes) -> None:
    """Refuse pickles, executables and scripts by their leading bytes."""
    for magic, what in FORBIDDEN_MAGIC.items():
        if data.startswith(magic):
            raise BundleError(f"the bundle entry {name} is {what}; bundles never carry those",
                              "the bundle is unsafe and was not imported; do not use it")


#: Migrations of older format majors: MIGRATIONS[m] turns a major-m manifest into major m+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the manifest migrated to the current major, or raise for a newer or unknown one."""
    major, _ = parse_version(manifest.get("version"))
    if major > MAJOR:
        need = str(manifest.get("requires_insitu") or "a newer version")[:40]
        raise BundleError(
            f"this bundle is format {manifest.get('version')} and needs insitu >= {need}; "
            f"this insitu reads format {MAJOR}.x",
            "upgrade insitu (pip install -U insitu) and import it again",
        )
    while major < MAJOR:
        step = MIGRATIONS.get(major)
        if step is None:
            raise BundleError(f"bundle format {major}.x is too old to read",
                              "export it again with a newer insitu")
        manifest = step(manifest)
        major, _ = parse_version(manifest.get("version"))
    return manifest
