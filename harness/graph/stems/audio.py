"""`audio` stem: log-mel frames (optionally through a 1-D conv stack) projected to D-vectors."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import DataError, GenomeError
from harness.graph.stems.base import Stem
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size

KERNEL = 5  # frames each convolution reads
MAX_CONVS = 4


class AudioStem(Stem):
    """Stack `stride` consecutive frames and project them: [B, F, M] -> [B, F/stride, D].

    With `convs` > 0 the log-mels first pass `convs` 1-D convolutions over time (kernel 5,
    `channels` wide, GELU; the first keeps the frame rate, each later one halves it), so the
    stacked frames are conv features. The stem reads a whole clip at once, like the image stem
    reads a whole picture: its convolutions look both ways within the clip. A ragged tail is
    padded by repeating the last frame, so F' = ceil(F_conv / stride).
    """

    name = "audio"
    modality = "audio"

    def __init__(
        self,
        dim: int,
        mels: int = 40,
        stride: int = 4,
        convs: int = 0,
        channels: int = 64,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.mels = check_size(self.name, "mels", mels)
        self.stride = check_size(self.name, "stride", stride)
        if not isinstance(convs, int) or isinstance(convs, bool) or not 0 <= convs <= MAX_CONVS:
            raise GenomeError(
                f"the audio stem's 'convs' must be an integer from 0 to {MAX_CONVS}, got {convs!r}",
                "set stems.audio.args.convs to 0 (no convolutions) or a small count such as 3",
            )
        self.convs = convs
        self.channels = check_size(self.name, "channels", channels)
        sizes = [self.mels] + [self.channels] * convs
        # each kernel lives in a TLinear [out, in*K] so tethers and pruning see it
        self.conv = nn.ModuleList(
            TLinear(cin * KERNEL, cout, generator=generator) for cin, cout in pairwise(sizes)
        )
        self.proj = TLinear(self.stride * sizes[-1], dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh audio stem."""
        return {"mels": 40, "stride": 4}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments (conv settings only when there are convolutions)."""
        out: dict[str, Any] = {"mels": self.mels, "stride": self.stride}
        if self.convs:
            out.update(convs=self.convs, channels=self.channels)
        return out

    def _convolve(self, x: torch.Tensor) -> torch.Tensor:  # [B, F, M] -> [B, F_conv, C]
        """Run the conv stack over time (kernel 5, 'same' padding; later layers stride 2)."""
        h = x.transpose(1, 2)  # [B, M, F]
        for i, layer in enumerate(self.conv):
            lin = cast(TLinear, layer)
            kernel = lin.effective_weight().view(lin.out_features, -1, KERNEL)  # [O, C, K]
            h = F.gelu(F.conv1d(h, kernel, lin.bias, stride=1 if i == 0 else 2,
                                padding=KERNEL // 2))  # [B, O, F_i]  # fmt: skip
        return h.transpose(1, 2)  # [B, F_conv, C]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, F, M] -> [B, F', D]
        """Encode a batch of log-mel spectrograms."""
        if x.dim() != 3 or x.shape[2] != self.mels or x.shape[1] < 1:
            raise DataError(
                f"the audio stem expects [B, frames, {self.mels}] log-mels, got {tuple(x.shape)}",
                "encode audio with the audio modality using the stem's number of mels",
            )
        x = x.float()
        if self.convs:
            x = self._convolve(x)  # [B, F_conv, C]
        b, f, m = x.shape
        pad = -f % self.stride
        if pad:
            x = F.pad(x.transpose(1, 2), (0, pad), mode="replicate").transpose(1, 2)  # [B, F+p, M]
        x = x.reshape(b, -1, self.stride * m)  # [B, F', stride*M]
        return self.proj(x)  # [B, F', D]

    def output_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """Return the real output positions [B, F'] of clips whose real frames are `mask` [B, F]:
        each later convolution halves the real length (rounding up), then `stride` frames stack."""
        n = mask.long().sum(1)  # [B] real frames
        width = mask.shape[1]
        for _ in range(1, self.convs):
            n, width = (n + 1) // 2, (width + 1) // 2
        n, width = -(-n // self.stride), -(-width // self.stride)  # [B], ceil division
        return torch.arange(width, device=mask.device)[None, :] < n[:, None]  # [B, F']

    def example(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return random log-mels [batch, 10, mels]."""
        return torch.randn(batch, 10, self.mels, generator=generator)
