"""Splicing image and audio vectors into a token sequence right after their markers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from harness.errors import DataError
from harness.vocab import AUDIO, IMAGE

Media = torch.Tensor | Sequence[Sequence[torch.Tensor]] | None
MARKERS = {IMAGE: "image", AUDIO: "audio"}


def has_media(media: dict[str, Media]) -> bool:
    """Return True if any modality has items to splice."""
    return any(v is not None and len(v) > 0 for v in media.values())


def splice(
    tokens: torch.Tensor,  # [B, T]
    x: torch.Tensor,  # [B, T, D] text-stem output
    media: dict[str, Media],
    encode: Callable[[str, torch.Tensor], torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Insert media vectors after their markers -> ([B, L, D], token index [B, T], real [B, L]).

    1. For each sequence, walk its IMAGE/AUDIO markers in order, taking that modality's next item.
    2. Encode the item with its stem ([N, D]) and insert it right after the marker.
    3. Remember where every original token landed, so token heads can read their positions.
    4. Right-pad the sequences to one length (padding sits after every real position: causal).
    """
    b, t = tokens.shape
    rows: list[torch.Tensor] = []
    index: list[list[int]] = []
    for i in range(b):
        used = {name: 0 for name in MARKERS.values()}
        pieces: list[torch.Tensor] = []
        pos: list[int] = []
        start = length = 0
        marks = torch.isin(tokens[i], torch.tensor(list(MARKERS), device=tokens.device))
        for m in marks.nonzero().flatten().tolist():
            name = MARKERS[int(tokens[i, m])]
            items = media.get(name)
            if items is None or len(items) <= i or len(items[i]) <= used[name]:
                have = 0 if items is None or len(items) <= i else len(items[i])
                raise DataError(
                    f"sequence {i} has more {name.upper()} markers than {name} items ({have})",
                    f"pass one {name} per {name.upper()} marker",
                )
            pieces.append(x[i, start : m + 1])  # [m+1-start, D]
            pos.extend(range(length, length + m + 1 - start))
            length += m + 1 - start
            vec = encode(name, items[i][used[name]])  # [N, D]
            used[name] += 1
            pieces.append(vec)
            length += vec.shape[0]
            start = m + 1
        pieces.append(x[i, start:])
        pos.extend(range(length, length + t - start))
        length += t - start
        rows.append(torch.cat(pieces))
        index.append(pos)
    width = max(r.shape[0] for r in rows)
    out = torch.stack([F.pad(r, (0, 0, 0, width - r.shape[0])) for r in rows])  # [B, L, D]
    lengths = torch.tensor([r.shape[0] for r in rows], device=x.device)  # [B]
    real = torch.arange(width, device=x.device)[None] < lengths[:, None]  # [B, L]
    return out, torch.tensor(index, device=x.device), real  # [B, T], [B, L]


def gather_tokens(h: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
    """Return the rows of h [B, L, D] at the token positions [B, T] -> [B, T, D]."""
    if index is None:
        return h
    return h.gather(1, index[..., None].expand(-1, -1, h.shape[-1]))
