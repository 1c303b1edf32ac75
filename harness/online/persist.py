"""Online state in the profile: adapter weights in an atomic safetensors file, state in settings.

The adapters (LoRA pairs and control weights) of one base model live in
`checkpoints/online/<base>.safetensors`; the settings row `online:<base>` names the file and
counts updates; `online:control` holds the control state, which outlives any one base model.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from harness.graph.build import Graph
from harness.store.db import Store
from harness.store.files import atomic_write_bytes
from harness.store.records import add_event, get_setting, set_setting

FORMAT = "insitu.adapters"
CONTROL_KEY = "online:control"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def adapter_tensors(graph: Graph) -> dict[str, torch.Tensor]:
    """Return the graph's adapter parameters by name (LoRA pairs and the control weights)."""
    return {
        name: p
        for name, p in graph.named_parameters()
        if name == "control" or name.endswith((".lora_a", ".lora_b"))
    }


class OnlineState:
    """Reads and writes one profile's online-learning state for one base model."""

    def __init__(self, store: Store, root: Path, base_key: str) -> None:
        self.store = store
        self.root = Path(root)
        self.base_key = base_key

    @property
    def rel_path(self) -> str:
        """Return the adapter file's path relative to the profile folder."""
        return f"checkpoints/online/{_SAFE.sub('_', self.base_key)}.safetensors"

    def save(self, graph: Graph, info: dict[str, Any], control: dict[str, Any]) -> None:
        """Write the adapters atomically, then the settings rows naming them."""
        tensors = {k: v.detach().cpu().contiguous().clone()
                   for k, v in adapter_tensors(graph).items()}
        meta = {"format": FORMAT, "base": self.base_key}
        atomic_write_bytes(self.root / self.rel_path, st_save(tensors, metadata=meta))
        with self.store.write():
            set_setting(self.store, f"online:{self.base_key}",
                        {**info, "file": self.rel_path, "saved_at": time.time()})
            set_setting(self.store, CONTROL_KEY, control)

    def load(self, graph: Graph) -> dict[str, Any] | None:
        """Copy saved adapters into the graph when they fit it; return the saved info or None."""
        info = get_setting(self.store, f"online:{self.base_key}")
        path = self.root / self.rel_path
        if not isinstance(info, dict) or not path.is_file():
            return None
        try:
            saved = st_load(path.read_bytes())
        except (SafetensorError, ValueError, OSError):
            return None  # a damaged file: start the adapters afresh (the signals are in the DB)
        params = adapter_tensors(graph)
        if saved.keys() != params.keys() or any(
            saved[k].shape != params[k].shape for k in params
        ):
            return None
        with torch.no_grad():
            for name, p in params.items():
                p.copy_(saved[name].to(p))  # in-place: the inference caches see the new version
        return info

    def load_control(self) -> dict[str, Any] | None:
        """Return the saved control state, or None."""
        data = get_setting(self.store, CONTROL_KEY)
        return data if isinstance(data, dict) else None

    def record(self, report: Any) -> None:
        """Add an `online` event with a learn report (a dataclass with plain fields)."""
        from dataclasses import asdict

        add_event(self.store, "online", asdict(report))
