"""Shared checks for every registered stem and head, plus each built-in one's specifics."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from harness import registry
from harness.errors import DataError, GenomeError
from harness.graph.build import Graph
from harness.graph.heads.base import pool as pool_of
from harness.graph.tether import add_adapters, tethered_linears

D = 8
B = 3


def build(kind: str, name: str, seed: int = 0, **args: Any) -> Any:
    """Build a stem or head with its default args (overridden by `args`) under a seed."""
    cls = getattr(registry, kind).get(name)
    torch.manual_seed(seed)
    return cls(D, **{**cls.default_args(D), **args})


def example(stem: Any) -> torch.Tensor:
    """Return a seeded example input for a stem."""
    return stem.example(B, torch.Generator().manual_seed(11))


def features(t: int = 5) -> torch.Tensor:
    """Return seeded features [B, t, D]."""
    return torch.randn(B, t, D, generator=torch.Generator().manual_seed(12))


# ----------------------------------------------------------------------------- stems
@pytest.mark.parametrize("name", registry.stems.names())
def test_stem_shape_determinism_and_gradients(name: str) -> None:
    """A stem gives finite [B, N, D] vectors, is seed-deterministic and trains every weight."""
    stem = build("stems", name)
    y = stem(example(stem))
    assert y.dim() == 3 and y.shape[0] == B and y.shape[2] == D
    assert torch.isfinite(y).all()
    assert torch.equal(build("stems", name)(example(stem)), y)
    (y * torch.randn_like(y)).sum().backward()
    for pname, p in stem.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", registry.stems.names())
def test_stem_adapters_are_zero_impact(name: str) -> None:
    """Adapters on a stem's TLinears leave its output unchanged."""
    stem = build("stems", name)
    x = example(stem)
    with torch.no_grad():
        ref = stem(x)
        add_adapters(stem, 2, torch.Generator().manual_seed(1))
        assert (stem(x) - ref).abs().max() < 1e-6


def test_text_stem_step_matches_forward() -> None:
    """Embedding token by token equals embedding the sequence; bad ids raise DataError."""
    stem = build("stems", "text")
    tokens = example(stem)
    with torch.no_grad():
        y = stem(tokens)
        for t in range(tokens.shape[1]):
            assert torch.equal(stem.step(tokens[:, t]), y[:, t])
    assert stem.vocab_size == 264
    with pytest.raises(DataError, match="token ids"):
        stem(torch.tensor([[0, 264]]))


def test_image_stem_channels_and_sizes() -> None:
    """The image stem reads any picture size and adapts grayscale to colour and back."""
    stem = build("stems", "image")
    assert stem(torch.rand(2, 3, 28, 20)).shape == (2, stem.tokens, D)
    assert stem(torch.rand(2, 1, 9, 9)).shape == (2, stem.tokens, D)
    gray = build("stems", "image", channels=1, grid=3)
    assert gray(torch.rand(2, 3, 16, 16)).shape == (2, 9, D)
    with pytest.raises(DataError, match="channels"):
        stem(torch.rand(2, 2, 8, 8))
    with pytest.raises(DataError, match="B, C, H, W"):
        stem(torch.rand(8, 8))


def test_audio_stem_strides_frames() -> None:
    """The audio stem gives ceil(F / stride) vectors and rejects the wrong mel count."""
    stem = build("stems", "audio", mels=6, stride=4)
    assert stem(torch.randn(2, 9, 6)).shape == (2, 3, D)
    assert stem(torch.randn(2, 8, 6)).shape == (2, 2, D)
    with pytest.raises(DataError, match="mels"):
        stem(torch.randn(2, 8, 5))


def test_audio_stem_conv_stack() -> None:
    """Conv layers halve the frame rate after the first, train every weight and round-trip args."""
    stem = build("stems", "audio", mels=6, stride=1, convs=3, channels=5)
    x = torch.randn(2, 17, 6, generator=torch.Generator().manual_seed(3))  # [B, F, M]
    y = stem(x)
    assert y.shape == (2, 5, D)  # 17 -> 17 -> 9 -> 5 frames
    assert stem(torch.randn(1, 1, 6)).shape == (1, 1, D)  # a one-frame clip still encodes
    (y * torch.randn_like(y)).sum().backward()
    for pname, p in stem.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname
    again = build("stems", "audio", **stem.args())
    assert stem.args() == {"mels": 6, "stride": 1, "convs": 3, "channels": 5}
    with torch.no_grad():
        assert torch.equal(again(x), stem(x))
        add_adapters(stem, 2, torch.Generator().manual_seed(1))
        assert (stem(x) - y).abs().max() < 1e-6
    assert build("stems", "audio").args() == {"mels": 40, "stride": 4}  # no conv keys by default
    for bad in (-1, 9, 1.5, True):
        with pytest.raises(GenomeError, match="convs"):
            build("stems", "audio", convs=bad)


def test_audio_stem_output_mask_counts_each_clips_own_vectors() -> None:
    """For clips padded to one length, the output mask marks as many vectors per clip as the
    stem gives that clip alone, for every conv depth and stride; other stems give no mask."""
    for convs, stride in ((0, 4), (0, 1), (1, 2), (3, 1), (3, 3)):
        args = {"mels": 6, "stride": stride} | ({"convs": convs, "channels": 4} if convs else {})
        stem = build("stems", "audio", **args)
        lengths = torch.arange(1, 24)  # [B] real frames of each clip
        mask = torch.arange(23)[None, :] < lengths[:, None]  # [B, F]
        real = stem.output_mask(mask)  # [B, F']
        assert real.shape == (23, stem(torch.randn(1, 23, 6)).shape[1])
        for n, row in zip(lengths.tolist(), real, strict=True):
            alone = stem(torch.randn(1, n, 6)).shape[1]
            assert int(row.sum()) == alone and bool(row[:alone].all()), (convs, stride, n)
    assert build("stems", "image").output_mask(torch.ones(2, 5, dtype=torch.bool)) is None


def test_board_stem_reads_the_board_and_sees_neighbours() -> None:
    """The board stem decodes a game state's tokens into planes, mixes neighbouring cells
    through its convolutions (a text stem does not), and rejects tokens that are no board."""
    from harness.games.connect4 import ConnectFour

    game = ConnectFour()
    state = game.apply(game.apply(game.initial(), 3), 4)  # X in column 4, O in column 5
    tokens = torch.tensor([game.encode(state)])  # [1, 44]
    stem = build("stems", "board", rows=6, cols=7, channels=4, convs=2, codes=game.codes)
    planes = stem.planes(tokens)[0]  # [6, 6, 7], seen by X (the player to move again)
    assert planes.shape == (6, 6, 7)
    assert planes[1, 5, 3] == 1 and planes[2, 5, 4] == 1 and planes[0].sum() == 40
    moved = game.apply(game.apply(game.initial(), 2), 4)  # X one column further left
    with torch.no_grad():
        a, b = stem(tokens), stem(torch.tensor([game.encode(moved)]))
        text = build("stems", "text")
        ta, tb = text(tokens), text(torch.tensor([game.encode(moved)]))
    cell = 1 + 5 * 7 + 1  # bottom row, column 2: a neighbour of the moved disc, itself empty
    assert (a[0, cell] - b[0, cell]).abs().max() > 1e-4
    assert torch.equal(ta[0, cell], tb[0, cell])
    assert torch.equal(a[0, 0], stem.embed.effective_weight()[tokens[0, 0]])
    again = build("stems", "board", **stem.args())
    with torch.no_grad():
        assert torch.equal(again(tokens), stem(tokens))
    with pytest.raises(DataError, match="44 tokens"):
        stem(tokens[:, :-1])
    with pytest.raises(DataError, match="not a board"):
        stem(torch.full((1, 44), 5))
    for bad in (0, 7, 1.5, True):
        with pytest.raises(GenomeError, match="convs"):
            build("stems", "board", convs=bad)
    with pytest.raises(GenomeError, match="vocabulary"):
        build("stems", "board", rows=10, cols=10)
    with pytest.raises(GenomeError, match="vocabulary"):
        build("stems", "board", rows=7, cols=7, codes=6)


def test_seed_stems_take_another_op_of_the_same_modality() -> None:
    """Seeds accept a stem op other than the modality's own, only one that reads it."""
    from harness.graph.seeds import seed

    g = seed("mlp", 5_000, stem_args={"text": {"op": "board", "rows": 3, "cols": 3}})
    assert g["stems"]["text"]["op"] == "board" and g["stems"]["text"]["args"]["rows"] == 3
    assert Graph(g).stems["text"].args()["cols"] == 3
    with pytest.raises(GenomeError, match="reads text, not image"):
        seed("mlp", 5_000, modalities=("image",), stem_args={"image": {"op": "board"}})
    with pytest.raises(GenomeError, match="no stem 'nope'"):
        seed("mlp", 5_000, stem_args={"text": {"op": "nope"}})


# ----------------------------------------------------------------------------- heads
@pytest.mark.parametrize("name", registry.heads.names())
def test_head_shape_determinism_and_gradients(name: str) -> None:
    """A head maps [B, T, D] to finite outputs with batch first, deterministically, trainably."""
    head = build("heads", name)
    x = features().requires_grad_()
    y = head(x)
    assert y.shape[0] == B and torch.isfinite(y).all()
    assert torch.equal(build("heads", name)(x), y)
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", registry.heads.names())
def test_head_adapters_are_zero_impact(name: str) -> None:
    """Adapters on a head's TLinears leave its output unchanged."""
    head = build("heads", name)
    x = features()
    with torch.no_grad():
        ref = head(x)
        assert add_adapters(head, 2, torch.Generator().manual_seed(1)) == len(
            list(tethered_linears(head))
        )
        assert (head(x) - ref).abs().max() < 1e-6


def test_lm_head_per_position_and_step() -> None:
    """The lm head gives [B, T, V] logits and the same logits one step at a time."""
    head = build("heads", "lm")
    x = features()
    with torch.no_grad():
        y = head(x)
        assert y.shape == (B, 5, 264)
        assert (head.step(x[:, 2]) - y[:, 2]).abs().max() < 1e-5


def test_classify_head_pools_with_a_mask() -> None:
    """Mean, last, max and mean+max pooling read only the real positions given a mask."""
    x = features(6)
    mask = torch.ones(B, 6, dtype=torch.bool)
    mask[0, 4:] = False
    mean = build("heads", "classify", classes=4, pool="mean")
    last = build("heads", "classify", classes=4, pool="last")
    with torch.no_grad():
        assert mean(x, mask).shape == (B, 4)
        assert torch.allclose(mean(x, mask)[0], mean(x[:1, :4])[0], atol=1e-6)
        assert torch.allclose(last(x, mask)[0], last(x[:1, :4])[0], atol=1e-6)
        assert torch.allclose(last(x, mask)[1:], last(x)[1:], atol=1e-6)
        assert torch.allclose(last(x[:, -1]), last(x), atol=1e-6)
    for how in ("max", "meanmax"):
        head = build("heads", "classify", classes=4, pool=how)
        with torch.no_grad():
            assert torch.allclose(head(x, mask)[0], head(x[:1, :4])[0], atol=1e-6)
            assert torch.allclose(head(x, mask)[1:], head(x)[1:], atol=1e-6)
    assert torch.equal(pool_of(x, "max"), x.amax(dim=1))
    assert torch.allclose(pool_of(x, "meanmax"), x.mean(dim=1) + x.amax(dim=1))
    labelled = build("heads", "classify", classes=2, labels=["cat", "dog"])
    assert labelled.args()["labels"] == ["cat", "dog"]
    with pytest.raises(GenomeError, match="labels"):
        build("heads", "classify", classes=3, labels=["a"])
    with pytest.raises(GenomeError, match="pool"):
        build("heads", "classify", pool="median")


def test_policy_head_masks_illegal_moves() -> None:
    """Illegal actions get -inf logits; legal ones stay finite."""
    head = build("heads", "policy", actions=9)
    legal = torch.zeros(B, 9, dtype=torch.bool)
    legal[:, :3] = True
    with torch.no_grad():
        y = head(features(), legal=legal)
    assert y.shape == (B, 9)
    assert torch.isinf(y[:, 3:]).all() and torch.isfinite(y[:, :3]).all()


def test_value_head_is_bounded() -> None:
    """The value head gives one number per sequence in [-1, 1]."""
    head = build("heads", "value")
    with torch.no_grad():
        y = head(features() * 100)
    assert y.shape == (B,) and (y.abs() <= 1).all()


def test_seeds_take_stem_arguments_and_still_fit_their_budget():
    """A 4x4 image stem map (16 tokens) is in the genome, and the seed stays near its budget."""
    from harness.graph.seeds import count_parameters, seed

    heads = {"d": {"op": "classify", "args": {"classes": 10}}}
    g = seed("cnn", 15_000, heads=heads, modalities=("image",),
             stem_args={"image": {"channels": 1, "grid": 4, "width": 16}})  # fmt: skip
    assert g["stems"]["image"]["args"] == {"channels": 1, "grid": 4, "width": 16}
    assert abs(count_parameters(g) - 15_000) < 2_000
    graph = Graph(g, generator=torch.Generator().manual_seed(0))
    out = graph.forward_tasks(None, tasks=["d"], images=torch.rand(2, 1, 28, 28))
    assert out["d"].shape == (2, 10)
