"""Images: real MNIST digits through PNG/JPEG/GIF/WebP/BMP, grids, storage and bad files."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from harness.errors import DataError
from harness.modality import ModalitySpec
from harness.store.db import Store
from harness.types import Part
from modalities.image import (
    MAX_PIXELS,
    ImageModality,
    encode_png,
    fit_image,
    halfblock_cells,
    halfblocks,
    load_stored_image,
    store_image,
)

IMG = ImageModality()


def save(folder: Path, name: str, digit: np.ndarray, **kw: Any) -> Path:
    """Save a 28x28 uint8 digit with pillow under `name` (format from the suffix)."""
    path = folder / name
    Image.fromarray(digit, "L").save(path, **kw)
    return path


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """Return one PNG chunk (length, type, body, CRC)."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int) -> bytes:
    """Return a valid 1-bit PNG of side x side black pixels: tiny on disk, huge when decoded."""
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte + packed zero pixels
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def test_mnist_png_loads_label_correct_grayscale(tmp_path: Path, mnist_test) -> None:
    """Each MNIST digit saved as PNG loads back as the same 28x28x1 pixels under its label."""
    images, labels = mnist_test
    for i in range(10):
        path = save(tmp_path, f"{i}_label{labels[i]}.png", images[i])
        part = IMG.load(path)
        assert part.kind == "image" and part.image is not None
        assert part.image.shape == (28, 28, 1) and part.image.dtype == np.uint8
        assert np.array_equal(part.image[..., 0], images[i]), f"digit {labels[i]} changed"
    assert IMG.describe(part) == "image 28x28 grayscale"


def test_grid_28_is_exact_and_14_is_a_faithful_shrink(tmp_path: Path, mnist_test) -> None:
    """At 28x28 the tensor is the pixels / 255; at 14x14 it is close to 2x2 average pooling."""
    images, _ = mnist_test
    parts = [IMG.load(save(tmp_path, f"{i}.png", images[i])) for i in range(8)]
    t28 = IMG.to_tensor(parts, ModalitySpec(image_size=28))  # [8, 1, 28, 28]
    assert t28.shape == (8, 1, 28, 28) and t28.dtype.is_floating_point
    assert np.allclose(t28[:, 0].numpy(), images[:8] / 255.0)
    t14 = IMG.to_tensor(parts, ModalitySpec(image_size=14))  # [8, 1, 14, 14]
    assert t14.shape == (8, 1, 14, 14)
    assert 0.0 <= float(t14.min()) and float(t14.max()) <= 1.0
    pooled = images[:8].reshape(8, 14, 2, 14, 2).mean(axis=(2, 4)) / 255.0
    assert np.abs(t14[:, 0].numpy() - pooled).mean() < 0.05


def test_rgb_grid_repeats_gray_channels(tmp_path: Path, mnist_test) -> None:
    """An RGB spec gives [B, 3, S, S] with three equal channels for a grayscale digit."""
    images, _ = mnist_test
    part = IMG.load(save(tmp_path, "d.png", images[0]))
    t = IMG.to_tensor([part], ModalitySpec(image_size=28, image_channels=3))  # [1, 3, 28, 28]
    assert t.shape == (1, 3, 28, 28)
    assert bool((t[:, 0] == t[:, 1]).all() and (t[:, 1] == t[:, 2]).all())


def test_exif_rotated_jpeg_is_upright(tmp_path: Path, mnist_test) -> None:
    """A JPEG stored sideways with EXIF orientation 6 loads upright (like a phone photo)."""
    images, _ = mnist_test
    upright = np.zeros((28, 42), dtype=np.uint8)  # wide, so a wrong rotation changes the shape
    upright[:, :28] = images[1]
    sideways = Image.fromarray(upright, "L").transpose(Image.Transpose.ROTATE_90)  # 42 x 28
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "photo.jpg"
    sideways.save(path, "JPEG", quality=98, exif=exif.tobytes())
    part = IMG.load(path)
    assert part.image is not None and part.image.shape == (28, 42, 1)
    assert np.abs(part.image[..., 0].astype(float) - upright).mean() < 4.0


@pytest.mark.parametrize(("suffix", "kw"), [(".gif", {}), (".webp", {"lossless": True}),
                                            (".bmp", {})])
def test_gif_webp_bmp_load_exactly(tmp_path: Path, mnist_test, suffix: str, kw: dict) -> None:
    """GIF, lossless WebP and BMP copies of a digit load as the same grayscale pixels."""
    images, _ = mnist_test
    part = IMG.load(save(tmp_path, f"digit{suffix}", images[2], **kw))
    assert part.image is not None and part.image.shape == (28, 28, 1)
    assert np.array_equal(part.image[..., 0], images[2])


def test_colour_and_alpha(tmp_path: Path) -> None:
    """A colour PNG keeps 3 channels; transparent pixels become white; bytes load like paths."""
    rgba = np.zeros((10, 12, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    rgba[:5, :, 3] = 0  # top half transparent
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    part = IMG.load(buf.getvalue())
    assert part.image is not None and part.image.shape == (10, 12, 3)
    assert (part.image[:5] == 255).all() and (part.image[5:] == [200, 0, 0]).all()
    assert IMG.describe(part) == "image 12x10 colour"


def test_pad_keeps_everything_and_crop_fills(tmp_path: Path) -> None:
    """A wide image is padded with its border colour ('pad') or centre-cropped ('crop')."""
    wide = np.full((10, 40, 1), 30, dtype=np.uint8)
    wide[:, 18:22] = 250  # a bright bar in the middle
    padded = fit_image(wide, ModalitySpec(image_size=20, image_fit="pad"))
    assert padded.shape == (20, 20, 1)
    assert (padded[:2] == 30).all() and (padded[-2:] == 30).all()  # border-colour margins
    cropped = fit_image(wide, ModalitySpec(image_size=20, image_fit="crop"))
    assert cropped.shape == (20, 20, 1)
    assert cropped[:, 8:12].mean() > 200 and cropped[:, :4].mean() < 60


def test_truncated_png_is_a_clear_error(tmp_path: Path, mnist_test) -> None:
    """A PNG cut in half raises DataError naming the file and saying to re-save it."""
    images, _ = mnist_test
    data = encode_png(images[3][..., None])
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated or damaged") as err:
        IMG.load(path)
    assert str(path) in str(err.value) and "re-save" in str(err.value)


def test_text_file_named_png_is_a_clear_error(tmp_path: Path) -> None:
    """A text file renamed .png raises DataError naming the file and the supported formats."""
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    with pytest.raises(DataError, match="not an image") as err:
        IMG.load(path)
    assert str(path) in str(err.value) and "PNG, JPEG, GIF, WebP or BMP" in str(err.value)


@pytest.mark.parametrize("side", [30000, 10000, 9000])
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, side: int) -> None:
    """A tiny PNG claiming 30000x30000 (or 10000², 9000²) pixels is refused quickly and clearly."""
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(side))
    assert path.stat().st_size < 1_000_000
    assert side * side > MAX_PIXELS
    start = time.perf_counter()
    with pytest.raises(DataError, match=f" claims .*{side * side // 1_000_000} megapixels") as err:
        IMG.load(path)
    assert time.perf_counter() - start < 2.0
    assert "decompression bomb" in str(err.value) and str(path) in str(err.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    """A missing path and an empty file each raise DataError naming the path."""
    with pytest.raises(DataError, match="no such file"):
        IMG.load(tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        IMG.load(tmp_path / "empty.png")


def test_store_image_is_content_addressed(tmp_path: Path, mnist_test) -> None:
    """Storing a digit twice gives one attachment; it loads back with the same pixels."""
    images, _ = mnist_test
    folder = tmp_path / "attachments"
    part = Part.of_image(images[4][..., None].copy())
    with Store(tmp_path / "p.db", create=True) as store:
        sha = store_image(store, folder, part)
        again = store_image(store, folder, Part.of_image(images[4][..., None].copy()))
        assert sha == again == part.attachment and len(sha) == 64
        assert store.count("attachments") == 1
        row = store.query("SELECT kind, mime FROM attachments")[0]
        assert row == {"kind": "image", "mime": "image/png"}
    back = load_stored_image(folder, sha)
    assert back.image is not None and part.image is not None
    assert np.array_equal(back.image, part.image)


def test_halfblocks_draw_two_pixel_rows_per_line(mnist_test) -> None:
    """A 28x28 digit at width 28 is 14 lines of '▀' cells: top pixel fg, bottom pixel bg."""
    images, _ = mnist_test
    cells = halfblock_cells(images[0][..., None], 28)
    assert len(cells) == 14 and all(len(row) == 28 for row in cells)
    char, fg, bg = cells[5][10]
    assert char == "▀"
    assert fg == (images[0][10, 10],) * 3 and bg == (images[0][11, 10],) * 3
    text = halfblocks(Part.of_image(images[0][..., None].copy()), 14)
    assert text.plain.count("\n") == 6 and set(text.plain) <= {"▀", "\n"}
