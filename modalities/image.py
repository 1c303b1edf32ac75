"""Images with pillow: PNG/JPEG/GIF/WebP/BMP -> uint8 [H, W, C] parts -> float [B, C, H, W] grids.

`load` decodes a file once into a canonical part: EXIF orientation applied, transparency composited
onto white, grayscale sources kept as one channel (C = 1) and colour as RGB (C = 3), the longer
side at most `MAX_SIDE` pixels. `to_tensor` fits each image into the task's square grid keeping
its aspect ratio; `spec.image_fit` says how: "pad" (the default: the whole image is kept and the
margins are filled with the median colour of its border, so a digit is never cut) or "crop"
(the grid is filled and the overflow is cut evenly from both sides).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from harness.errors import DataError
from harness.modality import ModalitySpec
from harness.store.db import Store
from harness.store.records import put_attachment
from harness.types import Part
from modalities.common import read_source, source_name
from modalities.render import halfblock_cells, halfblocks

__all__ = ["ImageModality", "decode_image", "encode_png", "fit_image", "halfblock_cells",
           "halfblocks", "load_stored_image", "store_image"]

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
#: Images with more pixels than this are refused before decoding (a 48 MP photo still loads).
MAX_PIXELS = 64_000_000
#: Loaded images are shrunk so that their longer side is at most this (grids are far smaller).
MAX_SIDE = 1024
MAX_IMAGE_BYTES = 64 * 2**20
GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")
RESAVE = "re-save or re-export it as PNG or JPEG"


def _bomb(name: str, size: tuple[int, int] | None, exc: Exception | None = None) -> DataError:
    """Return the error for an image whose header claims too many pixels."""
    found = re.search(r"\((\d+) pixels\)", str(exc or ""))
    pixels = size[0] * size[1] if size else int(found.group(1)) if found else 0
    dims = f"{size[0]}x{size[1]} pixels, " if size else ""
    claim = f" claims {dims}{pixels / 1e6:,.0f} megapixels" if pixels else " is too large"
    return DataError(
        f"the image {name}{claim}, over insitu's limit of {MAX_PIXELS // 1_000_000} megapixels "
        "(a decompression bomb, or a very large picture)",
        "shrink it below that size first; insitu does not decode it",
    )


def _open(data: bytes, name: str) -> Image.Image:
    """Open and fully decode an image, turning pillow's errors into DataError."""
    size = None
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=FORMATS)
            size = im.size
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise _bomb(name, im.size)
            im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _bomb(name, size, exc) from exc
        except UnidentifiedImageError as exc:
            raise DataError(
                f"{name} is not an image insitu can read",
                f"give a PNG, JPEG, GIF, WebP or BMP file ({', '.join(SUFFIXES)})",
            ) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DataError(f"the image {name} is truncated or damaged: {exc}", RESAVE) from exc
    return im


def _to_array(im: Image.Image) -> np.ndarray:
    """Return uint8 [H, W, C]: gray sources as C=1, colour as RGB; alpha composited onto white."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(im, dtype=np.float64)  # [H, W]
        peak = float(arr.max(initial=0.0))
        top = 1.0 if im.mode == "F" and peak <= 1.0 else 65535.0 if peak > 255 else 255.0
        return np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)[..., None]
    has_alpha = im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info
    gray = im.mode in GRAY_MODES
    if has_alpha:
        rgba = im.convert("LA" if gray else "RGBA")
        white = Image.new(rgba.mode, rgba.size, (255, 255) if gray else (255, 255, 255, 255))
        im = Image.alpha_composite(white.convert("RGBA"), rgba.convert("RGBA"))
    arr = np.asarray(im.convert("L" if gray else "RGB"), dtype=np.uint8)
    if arr.ndim == 2:
        return arr[..., None]  # [H, W, 1]
    if np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2]):
        return arr[..., :1].copy()  # a gray picture stored as RGB or a palette: keep one channel
    return arr  # [H, W, 3]


def decode_image(
    data: bytes, name: str = "(given as bytes)", max_side: int = MAX_SIDE
) -> np.ndarray:
    """Decode image bytes into uint8 [H, W, C] (C = 1 or 3), EXIF-oriented, or raise DataError."""
    im = _open(data, name)
    try:
        oriented = ImageOps.exif_transpose(im)
        im = oriented if oriented is not None else im
    except Exception:  # a damaged EXIF block must not lose the picture itself
        pass
    if max(im.size) > max_side:
        scale = max_side / max(im.size)
        im = im.resize((max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale))),
                       Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _to_array(im)


def _pil(arr: np.ndarray) -> Image.Image:
    """Return a pillow image of uint8 [H, W, C]."""
    return Image.fromarray(arr[..., 0], "L") if arr.shape[2] == 1 else Image.fromarray(arr, "RGB")


def _channels(arr: np.ndarray, channels: int) -> np.ndarray:
    """Convert uint8 [H, W, C] to `channels` (luma ITU-R 601 for gray, repeat for RGB)."""
    if arr.shape[2] == channels:
        return arr
    if channels == 3:
        return np.repeat(arr, 3, axis=2)
    return np.asarray(_pil(arr).convert("L"), dtype=np.uint8)[..., None]


def fit_image(image: np.ndarray, spec: ModalitySpec) -> np.ndarray:
    """Return uint8 [S, S, C] with S = spec.image_size, C = spec.image_channels, aspect kept."""
    arr = _channels(image, spec.image_channels)
    s = spec.image_size
    h, w = arr.shape[:2]
    if (h, w) == (s, s):
        return np.ascontiguousarray(arr)
    im = _pil(arr)
    big = max(h, w) if spec.image_fit == "pad" else min(h, w)
    scale = s / big
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    im = im.resize(size, method, reducing_gap=3.0 if scale < 1 else None)
    if spec.image_fit == "crop":
        left, top = (size[0] - s) // 2, (size[1] - s) // 2
        out = np.asarray(im.crop((left, top, left + s, top + s)), dtype=np.uint8)
    else:
        border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])  # [2W+2H, C]
        fill = np.median(border, axis=0).astype(np.uint8)  # [C]
        canvas = _pil(np.broadcast_to(fill, (s, s, arr.shape[2])).copy())
        canvas.paste(im, ((s - size[0]) // 2, (s - size[1]) // 2))
        out = np.asarray(canvas, dtype=np.uint8)
    return out.reshape(s, s, arr.shape[2])


def encode_png(image: np.ndarray) -> bytes:
    """Return the PNG bytes of uint8 [H, W, C] (deterministic, so equal images hash equally)."""
    buf = io.BytesIO()
    _pil(image).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _image_of(part: Part) -> np.ndarray:
    """Return the pixels of an image part, or raise DataError."""
    if part.kind != "image" or part.image is None:
        what = "a stored attachment" if part.attachment else f"a {part.kind} part"
        raise DataError(f"expected an image with its pixels, got {what}",
                        "load it with modalities.image (load_stored_image for attachments)")
    return part.image


def store_image(store: Store, folder: Path, part: Part) -> str:
    """Save the part's normalised PNG as a content-addressed attachment; return its sha256."""
    sha = put_attachment(store, folder, encode_png(_image_of(part)), kind="image", mime="image/png")
    part.attachment = sha
    return sha


def load_stored_image(folder: Path, sha: str) -> Part:
    """Load an image attachment saved by `store_image` back into a part."""
    path = Path(folder) / sha[:2] / sha
    part = ImageModality().load(path)
    part.attachment = sha
    return part


class ImageModality:
    """Images as uint8 [H, W, C] parts, encoded as float32 [B, C, S, S] grids in [0, 1]."""

    name = "image"
    kinds: tuple[str, ...] = ("image",)
    suffixes: tuple[str, ...] = SUFFIXES

    def load(self, source: Path | bytes, max_side: int = MAX_SIDE) -> Part:
        """Decode an image file (path or bytes) into a part, or raise DataError naming the file."""
        name = source_name(source)
        data = read_source(source, MAX_IMAGE_BYTES, "an image")
        return Part.of_image(decode_image(data, name, max_side))

    def file_bytes(self, part: Part) -> tuple[bytes, str]:
        """Return the part as a stored attachment file: normalised PNG bytes and its mime type."""
        return encode_png(_image_of(part)), "image/png"

    def item_shape(self, part: Part, spec: ModalitySpec) -> tuple[int, ...]:
        """Return (C, S, S) from the spec."""
        return (spec.image_channels, spec.image_size, spec.image_size)

    def to_tensor(self, parts: list[Part], spec: ModalitySpec) -> torch.Tensor:
        """Fit every image into the grid: float32 [B, C, S, S] in [0, 1]."""
        if not parts:
            raise DataError("no image parts to encode", "pass at least one part")
        grid = np.stack([fit_image(_image_of(p), spec) for p in parts])  # [B, S, S, C] uint8
        return torch.from_numpy(grid).permute(0, 3, 1, 2).float().div_(255.0)  # [B, C, S, S]

    def describe(self, part: Part) -> str:
        """Return e.g. 'image 28x28 grayscale'."""
        image = _image_of(part)
        h, w, c = image.shape
        return f"image {w}x{h} {'grayscale' if c == 1 else 'colour'}"

    def sample(self) -> bytes:
        """Return a tiny 8x6 colour PNG."""
        y, x = np.mgrid[0:6, 0:8]
        rgb = np.stack([x * 32, y * 40, (x + y) * 16], axis=-1).astype(np.uint8)  # [6, 8, 3]
        return encode_png(rgb)
