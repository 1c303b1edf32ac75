"""Checks the count memory: exact Kneser-Ney probabilities, leave-one-out, incremental counting."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import torch

from harness.errors import GenomeError
from harness.graph import memory as memory_module
from harness.graph.memory import START, NgramMemory

SHAKESPEARE = Path(__file__).resolve().parents[4] / "shared" / "data" / "tinyshakespeare"


def _grams(seqs, order, skip=()):
    """Count the n-grams ending at every position >= 1 of each sequence, except `skip`."""
    raw = [Counter() for _ in range(order + 1)]
    for s, seq in enumerate(seqs):
        padded = [START] * order + list(seq)
        for i in range(1, len(seq)):
            if (s, i) in skip:
                continue
            for k in range(order + 1):
                raw[k][tuple(padded[order + i - k : order + i + 1])] += 1
    return raw


def _reference(seqs, order, vocab, disc, context, skip=()):
    """Return Kneser-Ney next-token probabilities after `context`, computed from plain dicts."""
    raw = _grams(seqs, order, skip)
    counts = [Counter() for _ in range(order + 1)]
    counts[order] = raw[order]
    for k in range(order):
        left = defaultdict(set)
        for gram in raw[k + 1]:
            left[gram[1:]].add(gram[0])
        counts[k] = Counter({g: len(b) for g, b in left.items()})
    padded = [START] * order + list(context)
    p = [1.0 / vocab] * vocab
    for k in range(order + 1):
        ctx = tuple(padded[len(padded) - k :]) if k else ()
        c = [counts[k].get((*ctx, x), 0) for x in range(vocab)]
        total = sum(c)
        if total == 0:
            continue
        d = [float(disc[k][min(v, 3)]) for v in c]
        p = [max(c[x] - d[x], 0) / total + sum(d) / total * p[x] for x in range(vocab)]
    return p


def _text(n=400, seed=0):
    """Return a random token sequence over a small alphabet (so n-grams repeat)."""
    rng = random.Random(seed)
    return torch.tensor([rng.choice([0, 1, 2, 3, 1, 1]) for _ in range(n)])


@pytest.fixture(params=["dense", "sparse"])
def query_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with small levels queried from dense rows (the default), then sparsely."""
    if request.param == "sparse":
        monkeypatch.setattr(memory_module, "DENSE_NUMBERS", 0)
    return str(request.param)


def test_probabilities_match_a_reference_kneser_ney(query_path: str):
    """The memory's distributions equal a dictionary Kneser-Ney model's and sum to one."""
    seqs = [_text(300, 0), _text(120, 1)]
    mem = NgramMemory(3, vocab=5)
    for s in seqs:
        mem.add(s)
    probe = _text(40, 2)[None]
    got = mem.probs(probe)[0]  # [T, V]
    assert torch.allclose(got.sum(-1), torch.ones(40), atol=1e-5)
    disc = mem.discounts()
    for t in (0, 1, 2, 5, 17, 39):
        want = _reference([s.tolist() for s in seqs], 3, 5, disc, probe[0, : t + 1].tolist())
        assert got[t].tolist() == pytest.approx(want, abs=1e-6)


def test_leave_one_out_equals_a_memory_without_that_occurrence(query_path: str):
    """Leave-one-out scores each target as a memory that never counted it would."""
    seqs = [_text(200, 3), _text(90, 4)]
    mem = NgramMemory(2, vocab=5)
    for s in seqs:
        mem.add(s)
    seq = seqs[0]
    got = mem.probs(seq[None, :-1], targets=seq[None, 1:])[0]  # [T, V]
    disc = mem.discounts()
    for i in (1, 2, 3, 40, 150, 199):
        want = _reference([s.tolist() for s in seqs], 2, 5, disc, seq[:i].tolist(), {(0, i)})
        assert got[i - 1].tolist() == pytest.approx(want, abs=1e-6), i
    plain = mem.probs(seq[None, :-1])[0]
    rows = torch.arange(seq.numel() - 1)
    held, seen = got[rows, seq[1:]].log().mean(), plain[rows, seq[1:]].log().mean()
    assert held < seen  # text the memory counted is likelier than text it left out


def test_dense_rows_follow_new_counts_and_match_sparse_entries(monkeypatch):
    """Counting more after a query rebuilds the dense rows; dense and sparse queries agree."""
    seq = _text(600, 6)
    mem = NgramMemory(4, vocab=7)
    mem.add(seq[:300])
    mem.probs(seq[None, :50])
    mem.add(seq[300:])
    fresh = NgramMemory(4, vocab=7)
    fresh.add(seq[:300])
    fresh.add(seq[300:])
    probe, after = seq[None, 100:400], seq[None, 101:401]
    assert torch.allclose(mem.probs(probe), fresh.probs(probe), atol=1e-6)
    dense = (mem.probs(probe), mem.probs(probe, targets=after))
    assert any(v is not None for v in mem._dense.values())
    monkeypatch.setattr(memory_module, "DENSE_NUMBERS", 0)
    mem.clear()
    mem.add(seq[:300])
    mem.add(seq[300:])
    sparse = (mem.probs(probe), mem.probs(probe, targets=after))
    assert all(v is None for v in mem._dense.values())
    for d, s_ in zip(dense, sparse, strict=True):
        assert torch.allclose(d, s_, atol=1e-6)


def test_counting_in_pieces_equals_counting_at_once():
    """Adding a sequence block by block gives the same counts as adding it whole."""
    seq = _text(500, 5)
    whole, parts = NgramMemory(4, vocab=5), NgramMemory(4, vocab=5)
    whole.add(seq)
    for lo in range(1, 500, 37):
        parts.add(seq[: min(500, lo + 37)], first=lo)
    for k in range(5):
        assert torch.equal(whole.keys[k], parts.keys[k])
        assert torch.equal(whole.raw[k], parts.raw[k])
        assert torch.equal(whole.cont[k], parts.cont[k])


def test_tensors_round_trip_and_bad_orders_are_refused():
    """The counts survive tensors() / load_tensors(); orders outside 1..6 are refused."""
    mem = NgramMemory(3, vocab=5)
    mem.add(_text(100, 6))
    copy = NgramMemory(3, vocab=5)
    copy.load_tensors(mem.tensors())
    probe = _text(20, 7)[None]
    assert torch.equal(copy.probs(probe), mem.probs(probe))
    with pytest.raises(GenomeError, match="incomplete"):
        copy.load_tensors({"keys.0": torch.zeros(1, dtype=torch.long)})
    broken = mem.tensors()
    broken["keys.1"] = broken["keys.1"].flip(0)
    with pytest.raises(GenomeError, match="corrupt"):
        copy.load_tensors(broken)
    for order in (0, 7):
        with pytest.raises(GenomeError, match="out of range"):
            NgramMemory(order, vocab=5)


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="../shared/data is not next to the checkout")
def test_on_shakespeare_it_predicts_held_out_text_like_a_compressor():
    """An order-5 memory of 200 KB of Shakespeare codes the next 20 KB at under 2.8 bits/char."""
    raw = (SHAKESPEARE / "input.txt").read_bytes()
    train = torch.frombuffer(bytearray(raw[:200_000]), dtype=torch.uint8).long()
    val = torch.frombuffer(bytearray(raw[200_000:220_000]), dtype=torch.uint8).long()
    mem = NgramMemory(5, vocab=264)
    mem.add(train)
    p = mem.probs(val[None, :-1])[0]  # [T, V]
    bits = -torch.log2(p[torch.arange(val.numel() - 1), val[1:]]).mean()
    assert 1.5 < float(bits) < 2.8
