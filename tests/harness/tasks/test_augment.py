"""Random shifts of training pictures: each picture moves as a whole, within the asked range."""

from __future__ import annotations

import torch

from harness.tasks.augment import shift


def test_each_picture_moves_by_at_most_the_asked_pixels_and_keeps_its_ink():
    """A dot inside the border lands within `pixels` of where it was; nothing else changes."""
    images = torch.zeros(64, 1, 9, 9)  # [B, C, S, S]
    images[:, 0, 4, 4] = 1.0
    out = shift(images, 2, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    assert torch.equal(out.sum((1, 2, 3)), images.sum((1, 2, 3)))  # the dot never falls off
    where = out[:, 0].flatten(1).argmax(1)  # [B]
    rows, cols = where // 9, where % 9
    assert rows.sub(4).abs().max() <= 2 and cols.sub(4).abs().max() <= 2
    assert len({(int(r), int(c)) for r, c in zip(rows, cols, strict=True)}) > 10  # varied
    assert shift(images, 0, torch.Generator()) is images


def test_colour_channels_move_together():
    """All channels of one picture get the same offset."""
    images = torch.zeros(8, 3, 7, 7)
    images[:, :, 3, 3] = torch.tensor([0.2, 0.5, 0.9])
    out = shift(images, 1, torch.Generator().manual_seed(1))
    for picture in out:  # [C, S, S]
        spots = [tuple((ch > 0).nonzero()[0].tolist()) for ch in picture]
        assert spots[0] == spots[1] == spots[2]


def test_clips_move_along_the_mel_axis_only():
    """Every frame of a clip shifts by the same number of bands; time is left alone."""
    from harness.tasks.augment import shift_bands

    audio = torch.zeros(32, 5, 12)  # [B, F, M]
    audio[:, :, 6] = torch.arange(5.0) + 1  # one band lit, rising over time
    out = shift_bands(audio, 2, torch.Generator().manual_seed(0))
    assert out.shape == audio.shape
    lit = out.argmax(2)  # [B, F]
    assert torch.equal(lit, lit[:, :1].expand_as(lit))  # the same band in every frame
    assert lit.sub(6).abs().max() <= 2 and len(set(lit[:, 0].tolist())) > 2
    assert torch.equal(out.amax(2), audio.amax(2))  # the frames' levels are kept
    assert shift_bands(audio, 0, torch.Generator()) is audio


def test_mixup_blends_each_input_with_one_partner_by_one_weight():
    """Mixed inputs are lam * x + (1 - lam) * x[perm] with a permutation and lam in [0, 1]."""
    from harness.tasks.augment import mixup

    x = torch.randn(16, 4, 3)  # [B, F, M]
    out, perm, lam = mixup(x, 0.4, torch.Generator().manual_seed(0))
    assert sorted(perm.tolist()) == list(range(16)) and 0.0 <= lam <= 1.0
    assert torch.allclose(out, lam * x + (1 - lam) * x[perm])
    again = mixup(x, 0.4, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], out) and again[2] == lam  # the seeded generator decides
    lams = [mixup(x, 0.4, g)[2] for g in [torch.Generator().manual_seed(s) for s in range(200)]]
    assert min(lams) < 0.1 and max(lams) > 0.9  # Beta(0.4, 0.4) favours the ends
    assert 0.4 < sum(lams) / len(lams) < 0.6  # and is symmetric
