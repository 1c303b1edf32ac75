"""Terminal pictures: an image as half-block cells (two pixels per character), for rich."""

from __future__ import annotations

import numpy as np
from PIL import Image
from rich.style import Style
from rich.text import Text

from harness.errors import DataError
from harness.types import Part

UPPER_HALF = "\u2580"
RGB = tuple[int, int, int]


def _pixels(image: np.ndarray | Part) -> np.ndarray:
    """Return uint8 [H, W, C] from an array or an image part."""
    arr = image.image if isinstance(image, Part) else image
    if arr is None or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise DataError("cannot draw this: expected a uint8 HxWxC image with 1 or 3 channels",
                        "load the picture with modalities.image first")
    return arr


def halfblock_cells(image: np.ndarray | Part, width: int) -> list[list[tuple[str, RGB, RGB]]]:
    """Return rows of (char, fg_rgb, bg_rgb) cells: '▀' with the top pixel as fg, bottom as bg."""
    # Scale to `width` columns and twice as many pixel rows as lines, so pixels stay square;
    # smooth when shrinking, crisp when growing.
    arr = _pixels(image)
    h, w = arr.shape[:2]
    cols = max(1, width)
    rows2 = max(2, 2 * round(h * cols / w / 2))  # an even number of pixel rows: 2 per line
    mode = "L" if arr.shape[2] == 1 else "RGB"
    im = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode).resize(
        (cols, rows2), Image.Resampling.LANCZOS if cols < w else Image.Resampling.NEAREST)
    px = np.asarray(im.convert("RGB"), dtype=np.uint8)  # [rows2, cols, 3]
    out: list[list[tuple[str, RGB, RGB]]] = []
    for y in range(0, rows2, 2):
        top, bottom = px[y], px[y + 1]
        out.append([(UPPER_HALF, (int(t[0]), int(t[1]), int(t[2])),
                     (int(b[0]), int(b[1]), int(b[2]))) for t, b in zip(top, bottom, strict=True)])
    return out


def halfblocks(image: np.ndarray | Part, width: int = 28) -> Text:
    """Return a rich Text drawing the image `width` characters wide (lines end with newlines)."""
    text = Text(no_wrap=True, overflow="crop")
    rows = halfblock_cells(image, width)
    for i, row in enumerate(rows):
        for char, fg, bg in row:
            text.append(char, Style(color=f"rgb({fg[0]},{fg[1]},{fg[2]})",
                                    bgcolor=f"rgb({bg[0]},{bg[1]},{bg[2]})"))
        if i < len(rows) - 1:
            text.append("\n")
    return text
