"""The `png` plotter: draws an `insitu.plot` spec (fitness over time) with Pillow's ImageDraw.

A spec is plain data made by the harness (harness/evolve/history.py): `points` (x, y, kind,
champion), `lines` (name, [[x, y], ...]), axis labels and a title. Each kind of point gets its
own marker, as the tether seed marks merges on its training curves: seeds are squares, mutations
dots, merges red crosses, refused merges hollow rings; the champion is ringed in gold.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from harness.errors import DataError
from harness.store.files import atomic_write_bytes

BG = (255, 255, 255)
AXIS = (60, 60, 60)
GRID = (228, 228, 228)
LINE = (30, 110, 200)
COLORS = {
    "seed": (110, 110, 110),
    "mutation": (40, 150, 80),
    "merge": (215, 40, 40),
    "merge_refused": (215, 40, 40),
}
CHAMPION = (230, 170, 0)
MARGIN = (80, 56, 190, 60)  # left, top, right (legend), bottom


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Return about `count` round tick values covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=raw)
    first = math.ceil(lo / step) * step
    out = []
    v = first
    while v <= hi + step * 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _label(v: float) -> str:
    """Return a short tick label."""
    return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.3g}"


def _marker(draw: ImageDraw.ImageDraw, kind: str, x: float, y: float, r: float = 4.0) -> None:
    """Draw one point's marker."""
    color = COLORS.get(kind, AXIS)
    if kind == "seed":
        draw.rectangle([x - r, y - r, x + r, y + r], fill=color)
    elif kind == "merge":
        draw.line([x - r - 1, y - r - 1, x + r + 1, y + r + 1], fill=color, width=3)
        draw.line([x - r - 1, y + r + 1, x + r + 1, y - r - 1], fill=color, width=3)
    elif kind == "merge_refused":
        draw.ellipse([x - r - 1, y - r - 1, x + r + 1, y + r + 1], outline=color, width=2)
    else:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=color)


#: label size in pixels, and the fonts tried first (by file name, in the system's font folders)
FONT_SIZE = 13
FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf")


def plot_font(size: int = FONT_SIZE) -> Any:
    """Return the labels' font: DejaVu Sans where the system has it, else Pillow's own at `size`.

    Pillow's default font at its default 10 px sets spaces 2 px wide, so "best so far" read as
    "bestsofar".
    """
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def render(spec: dict[str, Any], width: int = 960, height: int = 560) -> Image.Image:
    """Return the plot of a spec as an RGB image.

    1. Find the data range of every point and line; add 5% padding.
    2. Draw the grid, axes, ticks and labels, then the lines, then the markers on top.
    3. Draw the legend (one entry per kind present, plus the lines and the champion).
    """
    if spec.get("format") != "insitu.plot":
        raise DataError("this is not an insitu plot spec", "make one with harness.evolve")
    points = spec.get("points", [])
    lines = spec.get("lines", [])
    xs = [p["x"] for p in points] + [q[0] for line in lines for q in line["points"]]
    ys = [p["y"] for p in points] + [q[1] for line in lines for q in line["points"]]
    img = Image.new("RGB", (width, height), BG)
    draw = ImageDraw.Draw(img)
    font = plot_font()
    left, top, right, bottom = MARGIN
    x0, y0, x1, y1 = left, top, width - right, height - bottom
    draw.text((left, 10), str(spec.get("title", "")), fill=AXIS, font=font)
    if not xs:
        draw.text((x0 + 20, (y0 + y1) // 2), "no evaluations yet", fill=AXIS, font=font)
        return img
    lo_x, hi_x = min(xs), max(xs)
    lo_y, hi_y = min(ys), max(ys)
    pad_y = (hi_y - lo_y) * 0.05 or 0.5
    lo_y, hi_y = lo_y - pad_y, hi_y + pad_y
    if hi_x == lo_x:
        lo_x, hi_x = lo_x - 1, hi_x + 1

    def px(x: float) -> float:
        return x0 + (x - lo_x) / (hi_x - lo_x) * (x1 - x0)

    def py(y: float) -> float:
        return y1 - (y - lo_y) / (hi_y - lo_y) * (y1 - y0)

    for t in _ticks(lo_y, hi_y):
        draw.line([x0, py(t), x1, py(t)], fill=GRID)
        draw.text((x0 - 8, py(t)), _label(t), fill=AXIS, font=font, anchor="rm")
    for t in _ticks(lo_x, hi_x, 8):
        draw.line([px(t), y0, px(t), y1], fill=GRID)
        draw.text((px(t), y1 + 6), _label(t), fill=AXIS, font=font, anchor="mt")
    draw.rectangle([x0, y0, x1, y1], outline=AXIS)
    draw.text(((x0 + x1) / 2, height - 22), str(spec.get("x_label", "")), fill=AXIS, font=font,
              anchor="mm")  # fmt: skip
    draw.text((8, y0 - 18), str(spec.get("y_label", "")), fill=AXIS, font=font)
    for line in lines:
        pts = [(px(x), py(y)) for x, y in line["points"]]
        if len(pts) > 1:
            draw.line(pts, fill=LINE, width=2)
    for p in points:
        _marker(draw, p.get("kind", "mutation"), px(p["x"]), py(p["y"]))
        if p.get("champion"):
            cx, cy = px(p["x"]), py(p["y"])
            draw.ellipse([cx - 9, cy - 9, cx + 9, cy + 9], outline=CHAMPION, width=3)
    _legend(draw, font, spec, x1 + 16, y0, {p.get("kind") for p in points},
            any(p.get("champion") for p in points))  # fmt: skip
    return img


def _legend(draw: ImageDraw.ImageDraw, font: Any, spec: dict[str, Any], x: float, y: float,
            kinds: set[Any], champion: bool) -> None:  # fmt: skip
    """Draw the legend: the point kinds present, the lines and the champion ring."""
    names = spec.get("kinds", {})
    for kind in ("seed", "mutation", "merge", "merge_refused"):
        if kind in kinds:
            _marker(draw, kind, x + 6, y + 7)
            draw.text((x + 18, y), str(names.get(kind, kind)), fill=AXIS, font=font)
            y += 20
    for line in spec.get("lines", []):
        draw.line([x, y + 7, x + 12, y + 7], fill=LINE, width=2)
        draw.text((x + 18, y), str(line.get("name", "")), fill=AXIS, font=font)
        y += 20
    if champion:
        draw.ellipse([x - 2, y - 2, x + 14, y + 14], outline=CHAMPION, width=3)
        draw.text((x + 18, y), "champion", fill=AXIS, font=font)


def write_png(path: str | Path, spec: dict[str, Any], width: int = 960, height: int = 560) -> Path:
    """Draw a plot spec and write it as a PNG file (atomically); return the path."""
    target = Path(path)
    buf = io.BytesIO()
    render(spec, width, height).save(buf, format="PNG")
    atomic_write_bytes(target, buf.getvalue())
    return target
