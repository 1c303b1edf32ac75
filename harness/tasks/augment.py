"""Training-time augmentation of media batches: random shifts (each picture or clip moves
whole) and mixup (pairs of inputs blended, their labels weighted alike)."""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F


def shift(images: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Return each picture moved by its own random offset in [-pixels, pixels] on both axes.

    Uncovered borders are zero (the background of digits). Input and output: [B, C, S, S].
    """
    if pixels <= 0:
        return images
    b, c, h, w = images.shape
    padded = F.pad(images, (pixels, pixels, pixels, pixels))  # [B, C, S+2p, S+2p]
    dy = torch.randint(0, 2 * pixels + 1, (b,), generator=generator)  # [B]
    dx = torch.randint(0, 2 * pixels + 1, (b,), generator=generator)  # [B]
    rows = dy[:, None] + torch.arange(h)[None, :]  # [B, S]
    cols = dx[:, None] + torch.arange(w)[None, :]  # [B, S]
    batch = torch.arange(b)[:, None, None, None]  # [B, 1, 1, 1]
    chan = torch.arange(c)[None, :, None, None]  # [1, C, 1, 1]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]  # [B, C, S, S]


def shift_bands(audio: torch.Tensor, bands: int, generator: torch.Generator) -> torch.Tensor:
    """Return each clip's log-mel frames moved by its own random [-bands, bands] mel bands.

    A shift along the mel axis is a rough change of voice (pitch and formants move together);
    the edge band is repeated into the gap. Input and output: [B, F, M].
    """
    if bands <= 0:
        return audio
    b, f, m = audio.shape
    padded = F.pad(audio, (bands, bands), mode="replicate")  # [B, F, M+2k]
    offset = torch.randint(0, 2 * bands + 1, (b,), generator=generator)  # [B]
    cols = offset[:, None] + torch.arange(m)[None, :]  # [B, M]
    index = cols[:, None, :].expand(b, f, m)  # [B, F, M]
    return padded.gather(2, index)  # [B, F, M]


def mixup(inputs: torch.Tensor, alpha: float, generator: torch.Generator
          ) -> tuple[torch.Tensor, torch.Tensor, float]:  # fmt: skip
    """Return (mixed inputs, partner index [B], weight) of one mixup draw over a batch.

    Each input is blended with a random partner of the same batch: lam * x + (1 - lam) * x[perm],
    lam ~ Beta(alpha, alpha) drawn once per batch (Zhang et al., 2018); the loss weights the two
    labels by lam and 1 - lam. The draws come from `generator`. Input: [B, ...].
    """
    b = inputs.shape[0]
    perm = torch.randperm(b, generator=generator)  # [B]
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    lam = random.Random(seed).betavariate(alpha, alpha)
    return inputs * lam + inputs[perm] * (1.0 - lam), perm, lam  # [B, ...]
