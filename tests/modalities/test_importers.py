"""`insitu data add` of image and audio folders: real MNIST PNGs, FSDD wavs, espeak-ng speech,
and bad files (truncated PNG, image bomb, text named .png, broken wav, unreadable folder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from harness.cli import cli
from harness.data.ingest import add_paths
from harness.profile import Profile
from harness.store.examples import iter_examples, split_counts
from harness.tasks.label import label_of, media_part
from tests.modalities.test_image import bomb_png


def digit_folder(root: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Save MNIST digits as PNG files in one sub-folder per class."""
    for i, (img, y) in enumerate(zip(images, labels, strict=True)):
        (root / str(y)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img, "L").save(root / str(y) / f"{i}.png")
    return root


def count(prof: Profile) -> int:
    """Return the number of examples in the profile."""
    return int(prof.store.query("SELECT count(*) AS n FROM examples")[0]["n"])


def test_image_folder_adds_real_digits_by_class(tmp_path: Path, mnist_test) -> None:
    """Each PNG lands under its folder's class, with the same pixels, inline (small) or attached."""
    images, labels = mnist_test
    root = digit_folder(tmp_path / "digits", images[:30], labels[:30])
    Image.fromarray(np.kron(images[30], np.ones((4, 4), np.uint8)), "L").save(
        root / str(labels[30]) / "big.png")  # 112x112: stored as an attachment
    with Profile.create("m", "mnist") as prof:
        (report,) = add_paths(prof, [root])
        assert report.format == "imagefolder" and report.added == 31 and not report.problems
        want = {str(y): int((labels[:31] == y).sum()) for y in set(labels[:31].tolist())}
        assert report.per_class == want
        examples = list(iter_examples(prof.store, "mnist"))
        attached = [ex for ex in examples if ex.prompt[0].attachment]
        assert len(attached) == 1 and label_of(attached[0]) == str(labels[30])
        part = media_part(attached[0], "image", prof.attachments_dir)
        assert part.image is not None and part.image.shape == (112, 112, 1)
        inline = {label_of(ex) for ex in examples if ex.prompt[0].image is not None}
        assert inline == {str(y) for y in labels[:30]}


def test_bad_images_are_listed_and_the_good_ones_land(tmp_path: Path, mnist_test) -> None:
    """A truncated PNG, a 30000x30000 bomb and a text file named .png are reported by name."""
    images, labels = mnist_test
    root = digit_folder(tmp_path / "digits", images[:6], labels[:6])
    good = (root / str(labels[0]) / "0.png").read_bytes()
    rng = np.random.default_rng(0)
    noisy = tmp_path / "noisy.png"
    Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8), "L").save(noisy)
    (root / "3").mkdir(exist_ok=True)
    (root / "3" / "cut.png").write_bytes(noisy.read_bytes()[:2000])
    (root / "3" / "bomb.png").write_bytes(bomb_png(30000))
    (root / "3" / "note.png").write_text("this is not a picture\n")
    (root / "3" / "readme.txt").write_text("hello")
    with Profile.create("m", "mnist") as prof:
        (report,) = add_paths(prof, [root])
        assert report.added == 6 and report.rejected is None
        text = "\n".join(report.problems)
        assert "cut.png is truncated or damaged" in text
        assert "bomb.png claims 900 megapixels" in text and "decompression bomb" in text
        assert "note.png is not an image insitu can read" in text
        assert "readme.txt: skipped" in text
        for name in ("cut.png", "bomb.png", "note.png"):
            (alone,) = add_paths(prof, [root / "3" / name])
            assert alone.rejected and alone.added == 0
        assert count(prof) == 6
    assert good[:8] == b"\x89PNG\r\n\x1a\n"


def test_unreadable_folder_adds_nothing(tmp_path: Path, mnist_test) -> None:
    """A class folder that cannot be listed rejects the whole folder; nothing is half-added."""
    if os.geteuid() == 0:
        pytest.skip("running as root: permissions do not stop root from reading a folder")
    images, labels = mnist_test
    root = digit_folder(tmp_path / "digits", images[:10], labels[:10])
    locked = root / str(labels[0])
    locked.chmod(0)
    try:
        with Profile.create("m", "mnist") as prof:
            (report,) = add_paths(prof, [root])
            assert report.rejected and "permission denied" in report.rejected
            assert count(prof) == 0
    finally:
        locked.chmod(0o755)


def test_fsdd_flat_folder_keeps_speaker_and_standard_split(tmp_path: Path, fsdd: Path) -> None:
    """FSDD names give the digit as label, the speaker in provenance, recordings 0-4 held out."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    names = [f"{d}_{s}_{n}.wav" for d in (1, 7) for s in ("jackson", "theo") for n in (0, 4, 5, 9)]
    for name in names:
        shutil.copy(fsdd / name, folder / name)
    (folder / "README.wav.txt").write_text("not a recording")
    broken = folder / "3_george_7.wav"
    broken.write_bytes((fsdd / "3_george_7.wav").read_bytes()[:30])
    with Profile.create("s", "spoken-digits") as prof:
        (report,) = add_paths(prof, [folder])
        assert report.format == "audiofolder" and report.added == 16
        assert report.per_class == {"1": 8, "7": 8} and report.heldout == 8
        assert any("3_george_7.wav" in p and "header" in p for p in report.problems)
        assert any("README.wav.txt: skipped" in p for p in report.problems)
        rows = prof.store.query("SELECT split, provenance FROM examples")
        speakers = {json.loads(r["provenance"])["speaker"] for r in rows}
        assert speakers == {"jackson", "theo"}
        assert split_counts(prof.store) == {"spoken-digits": {"heldout": 8, "train": 8}}
        ex = next(iter_examples(prof.store, "spoken-digits"))
        part = media_part(ex, "audio", prof.attachments_dir)
        assert part.sample_rate == 8000 and part.audio is not None and len(part.audio) > 1000
        (alone,) = add_paths(prof, [broken])
        assert alone.rejected and "header" in alone.rejected and count(prof) == 16


def test_espeak_speech_in_class_folders(tmp_path: Path) -> None:
    """Words synthesised with espeak-ng, one folder per word, land as labelled 22 kHz clips."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it where apt exists)")
    root = tmp_path / "words"
    for word in ("yes", "no"):
        (root / word).mkdir(parents=True)
        for speed in (120, 170):
            subprocess.run([espeak, "-s", str(speed), "-w", str(root / word / f"{speed}.wav"),
                            word], check=True, capture_output=True, timeout=60)
    with Profile.create("s", "spoken-digits") as prof:
        (report,) = add_paths(prof, [root], "spoken-digits")
        assert report.added == 4 and report.per_class == {"yes": 2, "no": 2}
        ex = next(iter_examples(prof.store, "spoken-digits"))
        assert media_part(ex, "audio", prof.attachments_dir).sample_rate == 22050


def test_wrong_modality_and_cli_summary(tmp_path: Path, fsdd: Path, mnist_test) -> None:
    """Wavs offered to an image task say which task to use; the CLI lists rejected files."""
    images, labels = mnist_test
    root = digit_folder(tmp_path / "digits", images[:4], labels[:4])
    (root / "9").mkdir(exist_ok=True)
    (root / "9" / "x.png").write_text("text")
    runner = CliRunner()
    assert runner.invoke(cli, ["profile", "create", "m", "--from", "mnist"]).exit_code == 0
    res = runner.invoke(cli, ["data", "add", "-p", "m", str(fsdd / "0_george_0.wav")])
    assert res.exit_code == 1 and "go to an audio task; task mnist takes image" in res.output
    res = runner.invoke(cli, ["data", "add", "-p", "m", str(root)])
    assert res.exit_code == 0, res.output
    assert "added per class:" in res.output and "x.png is not an image" in res.output


def test_folder_progress_reaches_the_end(tmp_path: Path, fsdd: Path) -> None:
    """Reading a folder reports progress (done, total) for the CLI's bar, ending at the total."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for wav in sorted(fsdd.glob("*_lucas_*.wav"))[:120]:
        shutil.copy(wav, folder / wav.name)
    ticks: list[tuple[str, int, int]] = []
    with Profile.create("s", "spoken-digits") as prof:
        (report,) = add_paths(prof, [folder], on_progress=lambda p, d, t: ticks.append((p, d, t)))
    assert report.added == 120
    assert ticks[0] == (str(folder), 100, 120) and ticks[-1] == (str(folder), 120, 120)
