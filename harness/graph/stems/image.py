"""`image` stem: a small conv2d stack (the CNN family) turning a picture into a few D-vectors."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import DataError
from harness.graph.stems.base import Stem
from harness.graph.tether import TLinear, gen_device
from harness.graph.units.base import check_size


class ImageStem(Stem):
    """Two 3x3 stride-2 convs, average-pooled to a `grid` x `grid` map -> grid^2 tokens.

    Input: [B, C, H, W] floats in [0, 1] (any H, W). One-channel pictures are repeated to
    `channels`, colour pictures averaged for a one-channel stem. Each output token also gets a
    learned position vector, so the model knows which part of the picture it reads.
    """

    name = "image"
    modality = "image"

    def __init__(
        self,
        dim: int,
        channels: int = 3,
        width: int = 16,
        grid: int = 2,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.channels = check_size(self.name, "channels", channels)
        self.width = check_size(self.name, "width", width)
        self.grid = check_size(self.name, "grid", grid)
        self.conv1 = TLinear(self.channels * 9, self.width, generator=generator)
        self.conv2 = TLinear(self.width * 9, 2 * self.width, generator=generator)
        self.proj = TLinear(2 * self.width, dim, generator=generator)
        pos = torch.empty(self.grid * self.grid, dim, device=gen_device(generator))
        pos = pos.normal_(0.0, 0.02, generator=generator).cpu()  # [N, D]
        self.pos = nn.Parameter(pos)  # [N, D]

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh image stem."""
        return {"channels": 3, "width": 16, "grid": 2}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"channels": self.channels, "width": self.width, "grid": self.grid}

    @property
    def tokens(self) -> int:
        """Return how many vectors one picture becomes."""
        return self.grid * self.grid

    def _conv(self, x: torch.Tensor, lin: TLinear, cin: int) -> torch.Tensor:
        """Apply a 3x3 stride-2 convolution whose kernel lives in a TLinear [out, cin*9]."""
        kernel = lin.effective_weight().view(lin.out_features, cin, 3, 3)  # [O, C, 3, 3]
        return F.conv2d(x, kernel, lin.bias, stride=2, padding=1)  # [B, O, H/2, W/2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, N, D]
        """Encode a batch of pictures."""
        if x.dim() != 4:
            raise DataError(
                f"the image stem expects [B, C, H, W] pixels, got shape {tuple(x.shape)}",
                "encode pictures with the image modality (floats in [0, 1], channels first)",
            )
        x = x.float()
        if x.shape[1] != self.channels:
            if x.shape[1] == 1:
                x = x.expand(-1, self.channels, -1, -1)  # [B, C, H, W]
            elif self.channels == 1:
                x = x.mean(dim=1, keepdim=True)  # [B, 1, H, W]
            else:
                raise DataError(
                    f"the image stem reads {self.channels} channels, got {x.shape[1]}",
                    "convert the pictures to RGB or grayscale to match the stem",
                )
        h = F.gelu(self._conv(x * 2 - 1, self.conv1, self.channels))  # [B, W, H/2, W/2]
        h = F.gelu(self._conv(h, self.conv2, self.width))  # [B, 2W, H/4, W/4]
        h = F.adaptive_avg_pool2d(h, self.grid)  # [B, 2W, g, g]
        h = h.flatten(2).transpose(1, 2)  # [B, N, 2W]
        return self.proj(h) + self.pos  # [B, N, D]

    def example(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return random pictures [batch, channels, 12, 12] in [0, 1]."""
        return torch.rand(batch, self.channels, 12, 12, generator=generator)
