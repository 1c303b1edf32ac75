"""A count memory: an interpolated Kneser-Ney n-gram model over tokens, for an `lm` head to mix in.

The memory holds, for every order k (0..order, the number of context tokens), the sorted codes of
the (k+1)-grams it has seen, their raw counts and their continuation counts (the number of
distinct tokens seen before them). Codes pack tokens in `BITS` bits each, oldest first; contexts
that reach before a sequence's start are padded with START, so the first tokens of a sequence
have contexts of their own. Probabilities follow interpolated modified Kneser-Ney (Chen and
Goodman): raw counts at the highest order, continuation counts below it, three discounts per
order from its count-of-counts, and the uniform distribution under order 0.

`leave-one-out` scores a token as if its own occurrence had never been counted: training on text
the memory already holds then sees the memory as it will be on unseen text.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from harness.errors import GenomeError

BITS = 9  # bits per token in a code: the 264-token vocabulary fits, with room for START
START = (1 << BITS) - 1  # the padding token before a sequence's first token
MAX_ORDER = 6  # 7 tokens of 9 bits fill 63 bits of an int64
FALLBACK_DISCOUNTS = (0.0, 0.5, 1.0, 1.5)
#: A level whose contexts times the vocabulary fit in this many numbers is queried from dense
#: per-context rows (one gather per position) instead of per-entry sparse gathers.
DENSE_NUMBERS = 1 << 22


def check_order(order: int) -> int:
    """Return a valid memory order (context tokens), or raise a GenomeError."""
    if not 1 <= int(order) <= MAX_ORDER:
        raise GenomeError(f"memory order {order} is out of range",
                          f"use 1..{MAX_ORDER} context tokens, or 0 for no memory")  # fmt: skip
    return int(order)


def _codes(tokens: torch.Tensor, k: int, targets: bool) -> torch.Tensor:
    """Return the codes of the k tokens before each position [B, T] (and the token itself)."""
    # tokens [B, T] -> padded [B, k + T]; code of position t reads padded[t : t + k (+1)]
    b, t = tokens.shape
    padded = torch.cat([torch.full((b, k), START, dtype=torch.long), tokens], dim=1)  # [B, k+T]
    code = torch.zeros(b, t, dtype=torch.long)
    for j in range(k + (1 if targets else 0)):
        code = (code << BITS) | padded[:, j : j + t]  # [B, T]
    return code


def _discounts(counts: torch.Tensor) -> torch.Tensor:
    """Return modified Kneser-Ney discounts [4] (for counts 0, 1, 2, 3+) from counts."""
    n = [int((counts == i).sum()) for i in (1, 2, 3, 4)]
    if min(n) == 0:
        return torch.tensor(FALLBACK_DISCOUNTS)
    y = n[0] / (n[0] + 2 * n[1])
    d = [0.0, 1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]]
    return torch.tensor([min(max(v, 0.0), float(i)) for i, v in enumerate(d)])


@dataclass
class _Dense:
    """One level's counts as dense rows per seen context (the last row: an unseen context)."""

    contexts: torch.Tensor  # [C] sorted context codes
    counts: torch.Tensor  # [C+1, V] Kneser-Ney counts (int32)
    a: torch.Tensor  # [C+1, V] (c - D(c)) / total
    total: torch.Tensor  # [C+1] sum of counts
    dsum: torch.Tensor  # [C+1] sum of discounts
    back: torch.Tensor  # [C+1] dsum / total, 1 for an unseen context

    def rows(self, ctx: torch.Tensor) -> torch.Tensor:
        """Return the row of each context code [N] (C where the context was never seen)."""
        last = self.contexts.numel()  # at least 1: only levels holding n-grams are made dense
        ctx = ctx.contiguous()
        pos = torch.searchsorted(self.contexts, ctx).clamp(max=last - 1)  # [N]
        return torch.where(self.contexts[pos] == ctx, pos, last)


class NgramMemory:
    """Counts of (k+1)-grams for k = 0..order, with Kneser-Ney probabilities of the next token."""

    def __init__(self, order: int, vocab: int) -> None:
        self.order = check_order(order)
        self.vocab = int(vocab)
        self.keys: list[torch.Tensor] = []
        self.raw: list[torch.Tensor] = []
        self.cont: list[torch.Tensor] = []
        self._disc: list[torch.Tensor] | None = None
        self._dense: dict[int, _Dense | None] = {}
        self.source = -1  # a checksum of the text counted (-1: unknown), kept with the counts
        self.clear()

    # ------------------------------------------------------------------------------- counting
    @property
    def entries(self) -> int:
        """Return how many distinct n-grams the memory holds, over all orders."""
        return sum(int(k.numel()) for k in self.keys)

    def clear(self) -> None:
        """Forget every count."""
        levels = range(self.order + 1)
        self.keys, self.raw, self.cont = ([torch.zeros(0, dtype=torch.long) for _ in levels]
                                          for _ in range(3))  # fmt: skip
        self._disc = None
        self._dense = {}
        self.source = -1

    def add(self, tokens: torch.Tensor, first: int = 1) -> None:
        """Count the n-grams ending at positions first.. of each row of tokens [L] or [B, L]."""
        rows = tokens.detach().to("cpu", torch.long)
        rows = rows[None] if rows.dim() == 1 else rows  # [B, L]
        if rows.shape[1] <= first:
            return
        for k in range(self.order + 1):
            codes = _codes(rows, k, targets=True)[:, first:].reshape(-1)  # [N]
            new = self._merge(k, *torch.unique(codes, return_counts=True))
            if k > 0 and new.numel():  # a new (k+1)-gram is a new left extension of its suffix
                suffix = new & ((1 << (BITS * k)) - 1)
                u, c = torch.unique(suffix, return_counts=True)
                pos = torch.searchsorted(self.keys[k - 1], u)
                self.cont[k - 1][pos] += c
        self._disc = None
        self._dense = {}
        self.source = -1  # the counts no longer match a checksum the caller knows

    def _merge(self, k: int, codes: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Add raw counts of sorted unique codes at order k; return the codes that were new."""
        keys = self.keys[k]
        pos = torch.searchsorted(keys, codes)  # [U]
        found = pos < keys.numel()
        found[found.clone()] = keys[pos[found]] == codes[found]
        self.raw[k][pos[found]] += counts[found]
        new = codes[~found]
        if new.numel():
            size = keys.numel() + new.numel()
            at = torch.searchsorted(keys, new) + torch.arange(new.numel())  # [M] final places
            old = torch.ones(size, dtype=torch.bool)
            old[at] = False
            olds = (keys, self.raw[k], self.cont[k])
            adds = (new, counts[~found], torch.zeros_like(new))
            merged = [torch.empty(size, dtype=torch.long) for _ in range(3)]
            for out, have, add in zip(merged, olds, adds, strict=True):
                out[old] = have
                out[at] = add
            self.keys[k], self.raw[k], self.cont[k] = merged
        return new

    def discounts(self) -> list[torch.Tensor]:
        """Return the discounts [4] of every order (computed once per change)."""
        if self._disc is None:
            self._disc = [_discounts(self._counts(k)) for k in range(self.order + 1)]
        return self._disc

    def _counts(self, k: int) -> torch.Tensor:
        """Return the counts Kneser-Ney reads at order k: raw at the top, continuation below."""
        return self.raw[k] if k == self.order else self.cont[k]

    # ------------------------------------------------------------------------------ querying
    def probs(self, tokens: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Return next-token probabilities [B, T, V] after each position of tokens [B, T].

        1. From the top order down, find each position's k-token context and the counts of the
           tokens seen after it: dense rows for the small low orders, sparse entries above; with
           `targets` (leave-one-out), take back the count the target's own occurrence added.
        2. Per position, a_k = (c - D(c)) / T over those tokens and b_k = (sum of D) / T where
           the context was seen (else a_k = 0, b_k = 1), so p_k = a_k + b_k * p_(k-1).
        3. Unrolled from the top: p = a_top + b_top * a_(top-1) + ... + (b_top ... b_0) / V.
        """
        b, t = tokens.shape
        tokens = tokens.detach().to("cpu", torch.long)
        n = b * t
        loo: tuple[torch.Tensor, torch.Tensor, dict[int, torch.Tensor]] | None = None
        if targets is not None:
            y = targets.detach().to("cpu", torch.long).reshape(-1)  # [N]
            full = torch.cat([tokens, targets.detach().to("cpu", torch.long)[:, -1:]], dim=1)
            loo = (y, full, {})  # raws: each level's raw counts, looked up once
        ahead = torch.cat([tokens, tokens[:, -1:]], dim=1)  # [B, T+1]: position t+1 reads up to t
        p = torch.zeros(n, self.vocab)  # [N, V]
        weight = torch.ones(n)  # [N] the product of the b of the orders above
        for k in range(self.order, 0, -1):
            if self.keys[k].numel() == 0:
                continue
            ctx = _codes(ahead, k, targets=False)[:, 1:].reshape(-1)  # [N]
            dense = self._dense_level(k)
            if dense is not None:
                back = self._add_dense(k, dense, ctx, p, weight, loo)
            else:
                back = self._add_sparse(k, ctx, p, weight, loo)
            weight = weight * back
        if self.keys[0].numel():
            weight = self._add_unigram(p, weight, loo)
        p += weight[:, None] / self.vocab
        return p.view(b, t, self.vocab)

    def _dense_level(self, k: int) -> _Dense | None:
        """Return level k as dense rows per context (built once per change), or None if large."""
        if k not in self._dense:
            keys = self.keys[k]
            contexts, inverse = torch.unique_consecutive(keys >> BITS, return_inverse=True)
            if contexts.numel() * self.vocab > DENSE_NUMBERS:
                self._dense[k] = None
                return None
            counts = torch.zeros(contexts.numel() + 1, self.vocab, dtype=torch.int32)
            counts[inverse, keys & START] = self._counts(k).to(torch.int32)
            d = self.discounts()[k][counts.long().clamp(max=3)]  # [C+1, V] (D(0) = 0)
            total, dsum = counts.sum(1).float(), d.sum(1)  # [C+1]
            a = (counts.float() - d).clamp(min=0) / total.clamp(min=1)[:, None]  # [C+1, V]
            back = torch.where(total > 0, dsum / total.clamp(min=1), 1.0)  # [C+1]
            self._dense[k] = _Dense(contexts, counts, a, total, dsum, back)
        return self._dense[k]

    def _add_dense(self, k: int, dense: _Dense, ctx: torch.Tensor, p: torch.Tensor,
                   weight: torch.Tensor, loo: tuple | None) -> torch.Tensor:  # fmt: skip
        """Add weight * a_k from dense rows to p [N, V]; return b_k [N]."""
        row = dense.rows(ctx)  # [N]
        if loo is None:
            p.addcmul_(dense.a[row], weight[:, None])  # [N, V]
            return dense.back[row]
        y, full, raws = loo
        disc = self.discounts()[k]
        cy = dense.counts[row, y].long()  # [N] the target's count after this context
        own = self._own(k, full, raws) * (cy > 0)  # [N]
        total = dense.total[row]  # [N]
        left_total = total - own  # [N]
        scale = torch.where(left_total > 0, total / left_total.clamp(min=1), 0.0)  # [N]
        p.addcmul_(dense.a[row], (weight * scale)[:, None])  # [N, V]
        left = cy - own  # [N]
        d_left = disc[left.clamp(max=3)]  # [N]
        a_y = torch.where(left_total > 0, (left - d_left).clamp(min=0) / left_total.clamp(min=1),
                          0.0)  # fmt: skip
        rows = torch.arange(y.numel())
        p[rows, y] += weight * (a_y - scale * dense.a[row, y])
        dsum = dense.dsum[row] - disc[cy.clamp(max=3)] + d_left  # [N]
        return torch.where(left_total > 0, dsum / left_total.clamp(min=1), 1.0)

    def _add_sparse(self, k: int, ctx: torch.Tensor, p: torch.Tensor, weight: torch.Tensor,
                    loo: tuple | None) -> torch.Tensor:  # fmt: skip
        """Add weight * a_k from the sparse entries after each context to p; return b_k [N]."""
        n = ctx.numel()
        keys, disc = self.keys[k], self.discounts()[k]
        ctx = ctx << BITS  # [N] the first code a continuation of the context can have
        lo = torch.searchsorted(keys, ctx)  # [N]
        lengths = torch.searchsorted(keys, ctx + (1 << BITS)) - lo  # [N]
        owner = torch.repeat_interleave(torch.arange(n), lengths)  # [E]
        starts = torch.cumsum(lengths, 0) - lengths
        idx = lo[owner] + torch.arange(owner.numel()) - starts[owner]  # [E]
        tok = keys[idx] & START  # [E]
        c = self._counts(k)[idx]  # [E]
        if loo is not None:
            y, full, raws = loo
            c = (c - self._own(k, full, raws)[owner] * (tok == y[owner])).clamp(min=0)
        d = disc[c.clamp(max=3)]  # [E]
        c = c.float()
        total = torch.zeros(n).index_add_(0, owner, c)  # [N]
        dsum = torch.zeros(n).index_add_(0, owner, d)  # [N]
        a = (c - d).clamp(min=0) / total.clamp(min=1)[owner]  # [E]
        p.index_put_((owner, tok), a * weight[owner], accumulate=True)
        return torch.where(total > 0, dsum / total.clamp(min=1), 1.0)

    def _add_unigram(self, p: torch.Tensor, weight: torch.Tensor, loo: tuple | None
                     ) -> torch.Tensor:  # fmt: skip
        """Add order 0 (one context shared by every position, so dense) to p; return weight."""
        n = weight.numel()
        discs = self.discounts()
        c0 = torch.zeros(self.vocab, dtype=torch.long)
        c0[self.keys[0] & START] = self._counts(0)
        d0 = discs[0][c0.clamp(max=3)]  # [V]
        base = (c0.float() - d0).clamp(min=0)  # [V]
        total = torch.full((n,), float(c0.sum()))  # [N]
        dsum = torch.full((n,), float(d0.sum()))  # [N]
        fix = None
        if loo is not None:  # the target's count, less its own
            y, full, raws = loo
            own = self._own(0, full, raws) * (c0[y] > 0)  # [N]
            left = c0[y] - own  # [N]
            d_left = discs[0][left.clamp(max=3)]  # [N]
            total -= own.float()
            dsum += d_left - d0[y]
            fix = (left.float() - d_left).clamp(min=0) - base[y]  # [N]
        scale = torch.where(total > 0, weight / total.clamp(min=1), 0.0)  # [N]
        p.addcmul_(scale[:, None], base[None, :])
        if fix is not None and loo is not None:
            p[torch.arange(n), loo[0]] += scale * fix
        return weight * torch.where(total > 0, dsum / total.clamp(min=1), 1.0)

    def _own(self, k: int, full: torch.Tensor, raws: dict[int, torch.Tensor]) -> torch.Tensor:
        """Return what each target's own occurrence added to its count at order k [N] (0 or 1).

        `full` [B, T+1] holds the tokens and the last target; `raws` caches each level's raw
        counts of the n-grams ending at the targets (the top level serves two orders).
        """
        level = k + 1 if k < self.order else k  # the n-gram whose count decides
        if level not in raws:
            codes = _codes(full, level, targets=True)[:, 1:].reshape(-1)  # [N]
            keys = self.keys[level]
            if keys.numel() == 0:
                raws[level] = torch.zeros_like(codes)
            else:
                pos = torch.searchsorted(keys, codes).clamp(max=keys.numel() - 1)  # [N]
                raws[level] = torch.where(keys[pos] == codes, self.raw[level][pos], 0)
        raw = raws[level]
        if k == self.order:  # the raw count held this occurrence
            return (raw > 0).long()
        return (raw == 1).long()  # its (k+2)-gram was unique: a left extension goes with it

    # --------------------------------------------------------------------------- persistence
    def tensors(self) -> dict[str, torch.Tensor]:
        """Return the memory as named tensors (for a safetensors checkpoint)."""
        out = {"source": torch.tensor([self.source], dtype=torch.long)}
        for k in range(self.order + 1):
            out[f"keys.{k}"] = self.keys[k].clone()
            out[f"raw.{k}"] = self.raw[k].clone()
            out[f"cont.{k}"] = self.cont[k].clone()
        return out

    def load_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Replace the counts with tensors from `tensors()`."""
        try:
            for k in range(self.order + 1):
                keys, raw, cont = (tensors[f"{n}.{k}"].to("cpu", torch.long)
                                   for n in ("keys", "raw", "cont"))  # fmt: skip
                if not keys.numel() == raw.numel() == cont.numel():
                    raise KeyError(k)
                if bool((keys[1:] <= keys[:-1]).any()) or bool((raw < 0).any() | (cont < 0).any()):
                    raise GenomeError(f"the checkpoint's count memory is corrupt (order {k}: "
                                      "codes out of order or negative counts)",
                                      "retrain the graph or export it again")  # fmt: skip
                self.keys[k], self.raw[k], self.cont[k] = keys, raw, cont
        except KeyError as exc:
            raise GenomeError(f"the checkpoint's count memory is incomplete (order {exc})",
                              "retrain the graph or export it again") from None  # fmt: skip
        self._disc = None
        self._dense = {}
        self.source = int(tensors["source"][0]) if "source" in tensors else -1
