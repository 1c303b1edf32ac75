"""Checkpoints: a graph's tensors in safetensors (never pickle), its genome in the metadata.

The safetensors metadata holds `format` ("insitu.checkpoint"), `version`, `genome` (canonical
JSON), `insitu` (the writing version) and the bias-injection extras (`control_size`,
`lora_scale`, `adapters_enabled`; adapter ranks are read from the tensor shapes), so `load(path)`
rebuilds the graph with no other input. Files are written atomically.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from harness import __version__
from harness.errors import CheckpointError, InsituError
from harness.genome import canonical_json, load_genome
from harness.graph.build import Graph, resolve_device
from harness.graph.tether import tethered_linears
from harness.store.files import atomic_write_bytes

FORMAT = "insitu.checkpoint"
VERSION = 1


def save(graph: Graph, path: str | os.PathLike[str], extra: dict[str, str] | None = None) -> Path:
    """Write the graph's weights, tethers, adapters and genome to `path` atomically."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in graph.state_dict().items()}
    scales = {lin.lora_scale for _, lin in tethered_linears(graph) if lin.adapter_rank}
    meta = {
        **(extra or {}),
        "format": FORMAT,
        "version": str(VERSION),
        "insitu": __version__,
        "genome": canonical_json(graph.genome),
        "control_size": str(graph.control_size),
        "lora_scale": repr(float(scales.pop())) if scales else "1.0",
        "adapters_enabled": "1" if graph.adapters_enabled else "0",
    }
    target = Path(path)
    atomic_write_bytes(target, st_save(tensors, metadata=meta))
    return target


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Return a checkpoint's metadata (header only), raising CheckpointError if unreadable."""
    return _parse(Path(path), _read(Path(path)))[0]


def _read(path: Path) -> bytes:
    """Return the bytes of a checkpoint file or raise a clear CheckpointError."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}", "check the path or the profile")
    return path.read_bytes()


def _parse(path: Path, data: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    """Check the safetensors header and our metadata; return (metadata, header)."""
    damaged = f"the checkpoint {path.name} is truncated or damaged"
    hint = "restore it from a backup or a bundle (it cannot be repaired)"
    if len(data) < 8:
        raise CheckpointError(damaged, hint)
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise CheckpointError(damaged, hint)
    try:
        header = json.loads(data[8 : 8 + size])
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(damaged, hint) from None
    if not isinstance(header, dict):
        raise CheckpointError(damaged, hint)
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    if max(ends, default=0) > len(data) - 8 - size:
        raise CheckpointError(damaged, hint)
    meta = header.get("__metadata__") or {}
    if meta.get("format") != FORMAT or "genome" not in meta or "version" not in meta:
        raise CheckpointError(
            f"{path.name} is a safetensors file without insitu metadata (genome, format version)",
            "only checkpoints written by insitu can be loaded; export the model from insitu",
        )
    try:
        version = int(meta["version"])
    except ValueError:
        raise CheckpointError(damaged, hint) from None
    if version > VERSION:
        raise CheckpointError(
            f"{path.name} is checkpoint format version {version}, newer than insitu "
            f"{__version__} reads (up to {VERSION}); it was written by insitu "
            f"{meta.get('insitu', '?')}",
            "upgrade insitu (pip install -U insitu) to open it",
        )
    return meta, header


def load(
    path: str | os.PathLike[str],
    device: str | torch.device | None = None,
) -> Graph:
    """Rebuild a graph (with its adapters and control input) from a checkpoint file alone.

    1. Read the file and check the header, our metadata and the format version.
    2. Build the graph from the genome in the metadata (migrating old genome versions).
    3. Re-create the control input and the adapters the tensors show, then load the tensors.
    """
    path = Path(path)
    data = _read(path)
    meta, _ = _parse(path, data)
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError) as exc:
        raise CheckpointError(
            f"the checkpoint {path.name} is truncated or damaged ({exc})",
            "restore it from a backup or a bundle (it cannot be repaired)",
        ) from None
    try:
        genome = load_genome(meta["genome"])
        graph = Graph(genome, device="cpu")
    except InsituError as exc:
        raise CheckpointError(
            f"the genome in {path.name} cannot be built: {exc.message}", exc.hint
        ) from None
    if int(meta.get("control_size", "0")):
        graph.add_control(int(meta["control_size"]))
    scale = float(meta.get("lora_scale", "1.0"))
    for name, lin in tethered_linears(graph):
        lora = tensors.get(f"{name}.lora_a")
        if lora is not None:
            lin.add_adapter(int(lora.shape[0]), scale=scale)
    try:
        graph.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"the tensors in {path.name} do not match its genome: {str(exc)[:300]}",
            "the file is damaged or was edited; restore it from a backup",
        ) from None
    graph.adapters_enabled = meta.get("adapters_enabled", "1") == "1"
    return graph.to(resolve_device(device))
