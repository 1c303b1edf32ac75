"""Benchmark results: one row per contender, target checks, an aligned table and JSON."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from harness.cliutil import table


@dataclass
class Contender:
    """One contender's result: size, cost, wall time and metrics (None where not applicable)."""

    name: str
    kind: str
    parameters: int | None = None
    flops: int | None = None  # multiply-adds per byte or image (see flops_unit)
    wall_s: float = 0.0
    metrics: dict[str, float | None] = field(default_factory=dict)
    notes: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def metric(self, key: str) -> float | None:
        """Return a metric, or None when absent or not a finite number."""
        value = self.metrics.get(key)
        return value if value is not None and math.isfinite(value) else None


@dataclass
class Target:
    """One target of the issue: what it asks and whether this run met it (None: not measured)."""

    description: str
    met: bool | None


@dataclass(frozen=True)
class Column:
    """A table column: its header, the metric key it shows and the number format."""

    header: str
    key: str
    fmt: str = "{:.3f}"
    scale: float = 1.0


@dataclass
class BenchReport:
    """The result of one benchmark run."""

    bench: str
    settings: dict[str, Any]
    contenders: list[Contender]
    columns: list[Column]
    targets: list[Target] = field(default_factory=list)
    #: what FLOPs are counted per: a predicted byte, or a classified image
    flops_unit: str = "byte"

    def find(self, name: str) -> Contender | None:
        """Return the contender called `name`, if it ran."""
        return next((c for c in self.contenders if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict of the whole report."""
        return {
            "bench": self.bench,
            "settings": self.settings,
            "flops_unit": self.flops_unit,
            "machine": machine(),
            "contenders": [asdict(c) for c in self.contenders],
            "targets": [asdict(t) for t in self.targets],
        }

    def render(self) -> str:
        """Return the report as an aligned plain-text table plus the target lines."""
        header = ["contender", "params", f"FLOPs/{self.flops_unit}", "wall s"]
        header += [c.header for c in self.columns] + ["notes"]
        rows = []
        for c in self.contenders:
            row = [
                c.name,
                "-" if c.parameters is None else f"{c.parameters:,}",
                "-" if c.flops is None else f"{c.flops:,}",
                f"{c.wall_s:.1f}",
            ]
            for col in self.columns:
                value = c.metric(col.key)
                row.append("-" if value is None else col.fmt.format(value * col.scale))
            rows.append([*row, c.notes])
        settings = "  ".join(f"{k}={v}" for k, v in self.settings.items())
        lines = [f"bench {self.bench}: {settings}", table(rows, header)]
        for t in self.targets:
            state = {True: "MET", False: "MISSED", None: "n/a"}[t.met]
            lines.append(f"target {state:<6} {t.description}")
        return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Return what the numbers depend on: CPU, cores, torch threads and versions."""
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def _cpu_name() -> str:
    """Return the CPU model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
