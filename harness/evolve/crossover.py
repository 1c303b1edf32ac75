"""Crossover of two relatives aligned by innovation number, with tether merging (seed 001).

The child has the fitter parent's structure (its disjoint and excess genes, NEAT style); each
matching gene takes its spec from either parent at random. Weights are merged gene by gene: where
both parents hold the same spec and their tethered weights are compatible (normalised inner
product at or above a threshold) the child gets their average; where compatibility is low the
parents have drifted apart and the child keeps the fitter parent's unit.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field

import torch
from torch import nn

from harness.errors import GenomeError
from harness.genome import Genome, node_map, validate
from harness.graph.build import Graph
from harness.graph.growth import GrowthOp
from harness.graph.tether import unit_compatibility

from .genes import Alignment, align, same_spec
from .inherit import gene_of, graph_genes

SPEC_KEYS = ("op", "args", "residual", "prenorm", "scale")


@dataclass(frozen=True)
class Crossed:
    """The result of a crossover: the child genome and graph, the record and the merge details."""

    genome: Genome
    graph: Graph
    op: GrowthOp
    alignment: Alignment
    merged: list[str] = field(default_factory=list)  # genes averaged (compatible)
    drifted: list[str] = field(default_factory=list)  # genes kept from the fitter (incompatible)
    compatibility: dict[str, float] = field(default_factory=dict)


def _module(graph: Graph, gene: str) -> nn.Module:
    """Return the module holding a gene's weights."""
    kind, _, key = gene.partition(":")
    if kind == "node":
        return graph.block(int(key))
    return graph.stems[key] if kind == "stem" else graph.heads[key]


def _spec(genome: Genome, gene: str) -> dict | None:
    """Return the spec of a gene in a genome (None when the genome lacks it)."""
    kind, _, key = gene.partition(":")
    if kind == "node":
        return node_map(genome).get(int(key))
    table = genome["stems"] if kind == "stem" else genome["heads"]
    return table.get(key)


def child_genome(fitter: Genome, other: Genome, rng: random.Random) -> tuple[Genome, list[int]]:
    """Return the child's genome and the matching node ids whose spec came from `other`.

    1. Start from the fitter parent (its structure, disjoint and excess genes).
    2. For each matching gene, with even odds take the other parent's op, arguments, residual,
       norm and scale (keeping the fitter's inputs); keep the change only if the genome validates.
    3. Take each training hyper-parameter from either parent at random.
    """
    g = copy.deepcopy(fitter)
    g["next_innovation"] = max(int(fitter["next_innovation"]), int(other["next_innovation"]))
    theirs = node_map(other)
    taken = []
    for node_id in align(fitter, other).matching:
        if rng.random() >= 0.5:
            continue
        trial = copy.deepcopy(g)
        node = node_map(trial)[node_id]
        for key in SPEC_KEYS:
            if key in theirs[node_id]:
                node[key] = copy.deepcopy(theirs[node_id][key])
        try:
            g = validate(trial)
            taken.append(node_id)
        except GenomeError:
            continue
    for key in sorted(set(fitter["train"]) | set(other["train"])):
        src = fitter if (rng.random() < 0.5 or key not in other["train"]) else other
        if key in src["train"]:
            g["train"][key] = src["train"][key]
    return validate(g), taken


def crossover(
    fitter: Graph,
    other: Graph,
    rng: random.Random,
    gen: torch.Generator | None = None,
    threshold: float = 0.5,
) -> Crossed:
    """Breed two relatives: align by innovation number, then merge compatible units.

    1. Align the parents' genes; build the child genome (see `child_genome`).
    2. Build the child with fresh weights, then fill each gene: averaged from both parents when
       their specs match and compatibility >= threshold, else from the parent whose spec it has
       (the fitter one for disjoint, excess and drifted-apart genes).
    """
    if fitter.width != other.width:
        raise GenomeError(
            f"cannot cross graphs of widths {fitter.width} and {other.width}",
            "cross relatives only (evolution never changes a lineage's width)",
        )
    alignment = align(fitter.genome, other.genome)
    genome, taken = child_genome(fitter.genome, other.genome, rng)
    child = Graph(genome, device="cpu", generator=gen)
    own = child.state_dict()
    fa, fb = fitter.state_dict(), other.state_dict()
    merged, drifted, compat = [], [], {}
    source: dict[str, str] = {}
    for gene in graph_genes(genome):
        spec_a, spec_b = _spec(fitter.genome, gene), _spec(other.genome, gene)
        if spec_b is None or spec_a is None:
            source[gene] = "a"
            continue
        if not same_spec(spec_a, spec_b):
            source[gene] = "b" if gene.startswith("node:") and int(gene[5:]) in taken else "a"
            continue
        try:
            c = unit_compatibility(_module(fitter, gene), _module(other, gene))
        except GenomeError:
            source[gene] = "a"
            continue
        compat[gene] = round(c, 6)
        if c >= threshold:
            source[gene] = "mean"
            merged.append(gene)
        else:
            source[gene] = "a"
            drifted.append(gene)
    with torch.no_grad():
        for name, value in own.items():
            how = source.get(gene_of(name), "a")
            a, b = fa.get(name), fb.get(name)
            pick = b if how == "b" else a
            if how == "mean" and a is not None and b is not None and a.shape == b.shape:
                value.copy_(((a + b.to(a)) / 2).to(value))
            elif pick is not None and pick.shape == value.shape:
                value.copy_(pick.to(value))
    child.load_state_dict(own)
    detail = {
        "matching": alignment.matching,
        "disjoint": alignment.disjoint,
        "excess": alignment.excess,
        "taken_from_partner": taken,
        "merged": merged,
        "drifted": drifted,
        "compatibility": compat,
        "threshold": threshold,
    }
    op = GrowthOp("crossover", alignment.matching, detail)
    return Crossed(child.genome, child, op, alignment, merged, drifted, compat)
