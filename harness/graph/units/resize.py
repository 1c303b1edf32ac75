"""Resizing inner channels of units: Net2Net widening maps and tether-ranked pruning.

Widening copies an inner unit's incoming rows and splits its outgoing columns between the copies
(random shares summing to one), so every downstream sum is unchanged (function-preserving) while
the copies' gradients differ. Pruning ranks inner units by tether-weighted weight magnitude,
writes zeros into the tethers of the losers, then physically removes them.
"""

from __future__ import annotations

import torch

from harness.errors import GenomeError
from harness.graph.tether import TLinear, gen_device


def split_scales(mapping: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return per-column scales that split each source's outgoing weight among its copies.

    `mapping[i]` is the old index new column i copies; the scales of all copies of one source
    sum to 1, with random shares so that the copies' gradients differ (symmetry breaking).
    """
    mapping = mapping.long()
    share = torch.rand(mapping.numel(), generator=generator, device=gen_device(generator))
    share = share.cpu() * 0.5 + 0.25  # [new]
    total = torch.zeros(int(mapping.max()) + 1).index_add_(0, mapping, share)  # [old]
    return share / total[mapping]  # [new]


def widen_mapping(old: int, new: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return a Net2Net mapping of length `new`: identity, then random sources for new units."""
    if new < old:
        raise GenomeError(f"cannot widen from {old} to {new}", "use prune() to make a unit smaller")
    extra = torch.randint(0, old, (new - old,), generator=generator, device=gen_device(generator))
    extra = extra.cpu()
    return torch.cat([torch.arange(old), extra])


def keep_top(importance: torch.Tensor, keep: int) -> torch.Tensor:
    """Return the sorted indices of the `keep` most important entries."""
    n = importance.numel()
    if not 1 <= keep <= n:
        raise GenomeError(f"cannot keep {keep} of {n} inner channels", f"pass keep in 1..{n}")
    return torch.topk(importance.detach().cpu(), keep).indices.sort().values


def blocks(index: torch.Tensor, size: int, count: int) -> torch.Tensor:
    """Repeat an index over `count` stacked blocks of `size` rows (gates stacked in one matrix)."""
    return torch.cat([index + g * size for g in range(count)])


def widen_pair(inp: TLinear, out: TLinear, new_size: int,
               generator: torch.Generator | None = None) -> None:  # fmt: skip
    """Net2Net-widen the hidden layer between `inp` (its rows) and `out` (its columns)."""
    m = widen_mapping(inp.out_features, new_size, generator)  # [H']
    inp.take_rows(m)
    out.take_cols(m, split_scales(m, generator))


def prune_pair(inp: TLinear, out: TLinear, keep: int) -> None:
    """Keep the `keep` most important hidden units between `inp` and `out`: cut, then shrink."""
    kept = keep_top(inp.row_importance() + out.col_importance(), keep)  # [keep]
    gone = complement(kept, inp.out_features)
    inp.cut_rows(gone)
    out.cut_cols(gone)
    inp.take_rows(kept)
    out.take_cols(kept)


def complement(kept: torch.Tensor, size: int) -> torch.Tensor:
    """Return the sorted indices in range(size) that are not in `kept`."""
    cut = torch.ones(size, dtype=torch.bool)
    cut[kept.cpu()] = False
    return cut.nonzero().flatten()
