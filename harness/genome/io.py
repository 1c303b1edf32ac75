"""Reading, writing, canonical JSON and content hashes of genomes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from harness.errors import GenomeError
from harness.genome.migrate import migrate
from harness.genome.schema import Genome
from harness.genome.validate import validate
from harness.store.files import atomic_write_bytes


def canonical_json(genome: Genome) -> str:
    """Return the canonical JSON text: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(genome, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(genome: Genome) -> str:
    """Return the sha256 of the canonical JSON without `parents`: same design, same hash."""
    body = {k: v for k, v in genome.items() if k != "parents"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def dumps(genome: Genome, indent: int | None = 2) -> str:
    """Return the genome as JSON text (sorted keys; indented for people by default)."""
    if indent is None:
        return canonical_json(genome)
    return json.dumps(genome, sort_keys=True, indent=indent, ensure_ascii=False) + "\n"


def load_genome(source: Genome | str | bytes | os.PathLike[str], check_ops: bool = True) -> Genome:
    """Return a validated, current-version genome from a dict, JSON text or a JSON file path."""
    data: Any = source
    if isinstance(source, os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise GenomeError(f"no genome file at {path}", "check the path")
        data = path.read_bytes()
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise GenomeError(
                f"the genome is not valid JSON: {exc}", "the file is damaged or not a genome"
            ) from exc
    return validate(migrate(data), check_ops=check_ops)


def save_genome(genome: Genome, path: str | os.PathLike[str]) -> Path:
    """Validate and write a genome as indented JSON, atomically."""
    validate(genome)
    target = Path(path)
    atomic_write_bytes(target, dumps(genome).encode("utf-8"))
    return target
