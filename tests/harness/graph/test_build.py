"""Tests of the graph builder: step path == parallel path, media splicing, control input."""

from __future__ import annotations

import random

import pytest
import torch

from harness.errors import DataError, GenomeError
from harness.genome import add_node, new_genome
from harness.graph.seeds import FAMILIES, random_topology, seed
from harness.vocab import AUDIO, BOS, IMAGE

from .helpers import build, perturb, stepwise, tokens

TOL = 1e-5


@pytest.mark.parametrize("family", FAMILIES)
def test_family_step_matches_parallel(family):
    """Every family's seed individual gives the same logits token by token as in parallel."""
    g = build(seed(family, 12_000))
    perturb(g)
    toks = tokens(2, 16)
    with torch.no_grad():
        diff = (g(toks) - stepwise(g, toks)).abs().max().item()
    assert diff < TOL


def test_fifty_random_graphs_step_matches_parallel():
    """Fifty random topologies give the same outputs through both paths."""
    rng = random.Random(7)
    for i in range(50):
        g = build(random_topology(4_000, rng), seed=i)
        perturb(g, seed=i)
        toks = tokens(2, 10, seed=i)
        with torch.no_grad():
            diff = (g(toks) - stepwise(g, toks)).abs().max().item()
        assert diff < TOL, (i, [n["op"] for n in g.genome["nodes"]], diff)


def test_seeds_land_near_their_budget():
    """Seed individuals have parameter counts within 25% of the budget."""
    for family in FAMILIES:
        n = build(seed(family, 30_000)).num_parameters()
        assert 0.75 * 30_000 <= n <= 1.25 * 30_000, (family, n)


def test_image_and_audio_are_spliced_after_their_markers():
    """Media vectors follow their markers; step prefill agrees with the parallel path."""
    g = build(seed("cnn", 12_000, modalities=("text", "image", "audio")))
    perturb(g)
    toks = torch.tensor([[BOS, 104, IMAGE, 105, AUDIO, 33, 34]])
    img = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
    mel = torch.randn(12, 40, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        x, index, real = g.embed(toks, images=[[img]], audio=[[mel]])
        n_img = g.stems["image"](img[None]).shape[1]
        n_aud = g.stems["audio"](mel[None]).shape[1]
        assert x.shape[1] == 7 + n_img + n_aud
        assert index[0].tolist()[:4] == [0, 1, 2, 3 + n_img]
        logits = g(toks, images=[[img]], audio=[[mel]])  # [1, 7, V]
        state = g.init_state(1)
        last = g.prefill(state, toks, images=[[img]], audio=[[mel]])
    assert logits.shape == (1, 7, 264)
    assert (logits[:, -1] - last).abs().max().item() < TOL


def test_missing_media_and_stem_give_clear_errors():
    """A marker without its item, or media for a graph without that stem, is a DataError."""
    g = build(seed("mlp", 5_000, modalities=("text", "image")))
    toks = torch.tensor([[BOS, IMAGE, IMAGE]])
    img = torch.rand(3, 8, 8)
    with pytest.raises(DataError, match="more IMAGE markers"):
        g(toks, images=[[img]])
    with pytest.raises(DataError, match="no audio stem"):
        g(torch.tensor([[BOS, AUDIO]]), audio=[[torch.randn(4, 40)]])


def test_classify_head_on_images_only():
    """A graph with an image stem and a classify head maps images [B, C, H, W] to [B, C]."""
    heads = {"digits": {"op": "classify", "args": {"classes": 10}}}
    g = build(seed("cnn", 8_000, heads=heads, modalities=("image",)))
    out = g(None, images=torch.rand(4, 3, 8, 8), task="digits")
    assert out.shape == (4, 10)


def test_control_input_starts_at_zero_impact_and_matches_step():
    """A fresh control input changes nothing; once trained, both paths still agree."""
    g = build(seed("gru", 6_000))
    toks = tokens(2, 8)
    ctrl = torch.randn(2, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        before = g(toks)
        g.add_control(8)
        assert (g(toks, control=ctrl) - before).abs().max().item() < 1e-6
        g.control.normal_()
        par = g(toks, control=ctrl)
        assert (par - before).abs().max().item() > 1e-3
        assert (par - stepwise(g, toks, ctrl)).abs().max().item() < TOL
        with g.frozen_reference():
            assert (g(toks, control=ctrl) - before).abs().max().item() < 1e-6


def test_bad_unit_arguments_are_genome_errors():
    """Arguments a unit does not take are reported as a GenomeError naming the unit."""
    g = new_genome(16)
    add_node(g, "mlp", [0], {"hidden": 8, "colour": "blue"})
    with pytest.raises(GenomeError, match="unit 'mlp'"):
        build(g)
