"""`board` stem: a game board's tokens embedded as text, plus 3x3 convolution features per cell.

A game state reaches a graph as tokens (harness.games.base: `BOS`, one token
`codes * cell + code` per cell, then `SEP`; with the standard 3 codes, 0 empty, 1 the mover's,
2 the opponent's; connect-four adds codes for empty cells that would complete four). A text
stem embeds each cell on its own, so a body of per-token units (an MLP, mean-pooled heads) sees
no line of pieces. This stem also reads the tokens back as `codes` one-hot planes of a
`rows` x `cols` board, runs `convs` 3x3 convolutions over them (ReLU after each, zero padding,
so edges are visible) and adds a projection of each cell's features to that cell's vector: every
cell then knows the pieces around it, as in the AlphaZero networks.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import DataError
from harness.graph.stems.base import Stem
from harness.graph.stems.text import VOCAB_SIZE
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size
from harness.vocab import BOS, SEP

PLANES = 3  # the standard codes: empty, the mover's, the opponent's


class BoardStem(Stem):
    """Token embeddings [V, D] plus conv features of the board at the cell positions."""

    name = "board"
    modality = "text"

    def __init__(
        self,
        dim: int,
        rows: int = 6,
        cols: int = 7,
        channels: int = 32,
        convs: int = 2,
        vocab_size: int = VOCAB_SIZE,
        codes: int = PLANES,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.rows = check_size(self.name, "rows", rows)
        self.cols = check_size(self.name, "cols", cols)
        self.channels = check_size(self.name, "channels", channels)
        self.vocab_size = check_size(self.name, "vocab_size", vocab_size)
        self.codes = check_size(self.name, "codes", codes)
        if not isinstance(convs, int) or isinstance(convs, bool) or not 1 <= convs <= 6:
            from harness.errors import GenomeError

            raise GenomeError(f"board stem 'convs' must be an integer from 1 to 6, got {convs!r}",
                              "set convs to 1-6 (2 or 3 see the lines of four)")  # fmt: skip
        if self.codes * self.rows * self.cols > self.vocab_size:
            from harness.errors import GenomeError

            raise GenomeError(
                f"a {self.rows}x{self.cols} board of {self.codes} codes needs "
                f"{self.codes * self.rows * self.cols} cell tokens, "
                f"more than the vocabulary of {self.vocab_size}",
                "use a smaller board or a larger vocab_size",
            )
        self.embed = TLinear(dim, self.vocab_size, bias=False, generator=generator, std=1.0)
        sizes = [self.codes] + [self.channels] * convs
        self.convs = nn.ModuleList(
            TLinear(cin * 9, cout, generator=generator)
            for cin, cout in zip(sizes, sizes[1:], strict=False)
        )
        self.proj = TLinear(self.channels, dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh board stem (connect-four's board)."""
        return {"rows": 6, "cols": 7, "channels": 32, "convs": 2, "vocab_size": VOCAB_SIZE,
                "codes": PLANES}  # fmt: skip

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"rows": self.rows, "cols": self.cols, "channels": self.channels,
                "convs": len(self.convs), "vocab_size": self.vocab_size,
                "codes": self.codes}  # fmt: skip

    def _convs(self) -> list[TLinear]:
        """Return the convolution kernels (each a TLinear [out, in * 9]) in order."""
        return [m for m in self.convs if isinstance(m, TLinear)]

    @property
    def cells(self) -> int:
        """Return the number of cells on the board."""
        return self.rows * self.cols

    def planes(self, tokens: torch.Tensor) -> torch.Tensor:  # [B, N+2] -> [B, K, R, C]
        """Return the one-hot planes (one per code) of a batch of board token rows."""
        n = self.cells
        if tokens.dim() != 2 or tokens.shape[1] != n + 2:
            raise DataError(
                f"the board stem reads a {self.rows}x{self.cols} board as {n + 2} tokens "
                f"(BOS, one per cell, SEP), got shape {tuple(tokens.shape)}",
                "encode states with the game's `encode`, or use the text stem for other input",
            )
        k = self.codes
        own = tokens[:, 1 : n + 1] - k * torch.arange(n, device=tokens.device)  # [B, N]
        if tokens.numel() and (int(own.min()) < 0 or int(own.max()) >= k):
            raise DataError(f"the tokens are not a board of {k} codes (cell token i must be "
                            f"{k}*i + 0..{k - 1})",
                            "encode states with the game's `encode`, and build the stem with "
                            "the game's `codes` (harness.games.net.board_stem)")  # fmt: skip
        onehot = F.one_hot(own, k).float()  # [B, N, K]
        return onehot.transpose(1, 2).reshape(-1, k, self.rows, self.cols)  # [B, K, R, C]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, N+2] long -> [B, N+2, D]
        """Embed a batch of boards: token vectors, plus conv features at the cells."""
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.vocab_size):
            raise DataError(
                f"token ids must lie in [0, {self.vocab_size}), got {int(x.min())}..{int(x.max())}",
                "encode states with the game's `encode`",
            )
        f = self.planes(x)  # [B, K, R, C]
        cin = self.codes
        for lin in self._convs():
            kernel = lin.effective_weight().view(lin.out_features, cin, 3, 3)  # [O, C, 3, 3]
            f = F.relu(F.conv2d(f, kernel, lin.bias, padding=1))  # [B, O, R, C]
            cin = lin.out_features
        feats = self.proj(f.flatten(2).transpose(1, 2))  # [B, N, D]
        emb = self.embed.effective_weight()[x]  # [B, N+2, D]
        zero = emb.new_zeros(emb.shape[0], 1, self.dim)  # [B, 1, D]
        return emb + torch.cat([zero, feats, zero], 1)  # [B, N+2, D]

    def example(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return random boards as tokens [batch, cells + 2]."""
        own = torch.randint(0, self.codes, (batch, self.cells), generator=generator)  # [B, N]
        body = self.codes * torch.arange(self.cells) + own  # [B, N]
        ends = torch.tensor([BOS, SEP]).expand(batch, 2)  # [B, 2]
        return torch.cat([ends[:, :1], body, ends[:, 1:]], 1)  # [B, N+2]

    def flops_per_token(self) -> int:
        """Return multiply-adds per board cell: the convolutions and the projection."""
        macs = sum(c.in_features * c.out_features for c in self._convs())
        return macs + self.channels * self.dim
