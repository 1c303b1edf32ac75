"""Images and audio through the chat: a digit picture or a spoken digit gets its label back, and
ratings, tags and corrections work on those replies as on text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.chat.session import ChatSession
from harness.data.idx import read_idx
from harness.data.ingest import add_paths
from harness.errors import DataError
from harness.modality import get_modality
from harness.profile import Profile
from harness.store.examples import iter_examples
from harness.tasks.label import label_of
from harness.types import Part


def mnist_subset(shared: Path, folder: Path, train: int,
                 test: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Write `train` real training digits as IDX files; return `test` real test digits+labels."""
    src = shared / "mnist"
    images = read_idx(src / "train-images-idx3-ubyte.gz")[:train]
    labels = read_idx(src / "train-labels-idx1-ubyte.gz")[:train]
    folder.mkdir(parents=True)
    head = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    (folder / "train-images-idx3-ubyte").write_bytes(head + images.tobytes())
    head = bytes([0, 0, 8, 1]) + len(labels).to_bytes(4, "big")
    (folder / "train-labels-idx1-ubyte").write_bytes(head + labels.tobytes())
    t_images = read_idx(src / "t10k-images-idx3-ubyte.gz")[:test].copy()
    t_labels = read_idx(src / "t10k-labels-idx1-ubyte.gz")[:test].copy()
    return t_images, t_labels


def png_part(tmp: Path, image: np.ndarray, name: str) -> Part:
    """Save a digit as a real PNG file and load it back through the image modality."""
    from PIL import Image

    path = tmp / f"{name}.png"
    Image.fromarray(image, "L").save(path)
    return get_modality("image").load(path)


@pytest.mark.slow
def test_mnist_chat_answers_digits_and_learns_a_correction(tmp_path: Path,
                                                           shared_data: Path) -> None:
    """Digit PNGs sent to a profile trained on MNIST come back as their digits; a correction
    of a reply becomes a labelled example; ratings and tags are stored."""
    t_images, t_labels = mnist_subset(shared_data, tmp_path / "mnist", 6000, 20)
    with Profile.create("m", "mnist") as prof:
        (report,) = add_paths(prof, [tmp_path / "mnist"])
        assert report.added == 6000
        with ChatSession(prof, warm_steps=1000) as chat:
            replies = [chat.ask(parts=[png_part(tmp_path, img, str(i))])
                       for i, img in enumerate(t_images)]
            assert all(r in [str(d) for d in range(10)] for r in replies)
            right = sum(r == str(y) for r, y in zip(replies, t_labels, strict=True))
            assert right >= 17, f"{right}/20 digits right: {replies} vs {t_labels.tolist()}"
            reply_id = chat.last_reply_id
            assert reply_id is not None
            chat.rate(reply_id, 1)
            chat.tag(reply_id, "neat")
            wrong = str((int(t_labels[-1]) + 1) % 10)
            eid = chat.correct(reply_id, wrong)
            with pytest.raises(DataError, match="not a class of task mnist"):
                chat.correct(reply_id, "cat")
        rows = prof.store.query("SELECT value FROM ratings WHERE message_id = ?", [reply_id])
        assert [r["value"] for r in rows] == [1]
        assert prof.store.query("SELECT tag FROM tags WHERE message_id = ?", [reply_id])
        (ex,) = [e for e in iter_examples(prof.store, "mnist") if e.source == "chat"]
        assert label_of(ex) == wrong and ex.prompt[0].kind == "image"
        stored = prof.store.query("SELECT id, message_id FROM examples WHERE source = 'chat'")
        assert stored[0]["id"] == eid and stored[0]["message_id"] == reply_id
        user = prof.store.query("SELECT parts FROM messages WHERE role = 'user' ORDER BY id "
                                "DESC LIMIT 1")[0]
        sha = json.loads(user["parts"])[0]["attachment"]
        assert ex.prompt[0].attachment == sha and (prof.attachments_dir / sha[:2] / sha).is_file()


def test_label_chat_refuses_text_only_and_the_wrong_modality(tmp_path: Path,
                                                             shared_data: Path) -> None:
    """A text message or a recording sent to an image profile gets a clear error, not a guess."""
    mnist_subset(shared_data, tmp_path / "mnist", 300, 0)
    with Profile.create("m", "mnist") as prof:
        add_paths(prof, [tmp_path / "mnist"])
        with ChatSession(prof, warm_seconds=0.5) as chat:
            assert "no champion" in chat.model_label
            with pytest.raises(DataError, match="answers pictures, and the message has none"
                               ) as err:
                chat.ask("what is this?")
            assert "/image PATH in the chat, or `insitu ask -p m --attach PATH`" in str(err.value)
            clip = get_modality("audio").load(get_modality("audio").sample())
            with pytest.raises(DataError, match="classifies image, not audio"):
                chat.ask(parts=[clip])


@pytest.mark.slow
def test_spoken_digit_chat_answers_the_digit(tmp_path: Path, shared_data: Path) -> None:
    """Spoken digits (one speaker's held-out recordings) come back as their digits."""
    fsdd = shared_data / "fsdd" / "recordings"
    folder = tmp_path / "recordings"
    folder.mkdir()
    for wav in fsdd.glob("*_jackson_*.wav"):
        shutil.copy(wav, folder / wav.name)
    with Profile.create("s", "spoken-digits") as prof:
        (report,) = add_paths(prof, [folder])
        assert report.added == 500 and report.heldout == 50
        with ChatSession(prof, warm_steps=1000) as chat:
            audio = get_modality("audio")
            tests = [(d, audio.load(folder / f"{d}_jackson_{n}.wav")) for d in range(10)
                     for n in (1, 3)]
            replies = [chat.ask(parts=[part]) for _, part in tests]
            right = sum(r == str(d) for r, (d, _) in zip(replies, tests, strict=True))
            assert right >= 16, f"{right}/20 spoken digits right: {replies}"
            reply_id = chat.last_reply_id
            assert reply_id is not None
            chat.correct(reply_id, "3")
        (ex,) = [e for e in iter_examples(prof.store, "spoken-digits") if e.source == "chat"]
        assert label_of(ex) == "3" and ex.prompt[0].kind == "audio"


@pytest.mark.slow
def test_ask_attach_and_rate_correct_from_the_cli(tmp_path: Path, shared_data: Path) -> None:
    """`insitu ask --attach digit.png` prints a digit; `insitu rate ... --correct` stores it."""
    from click.testing import CliRunner

    from harness.cli import cli

    t_images, _ = mnist_subset(shared_data, tmp_path / "mnist", 500, 1)
    Profile.create("m", "mnist").close()
    runner = CliRunner()
    assert runner.invoke(cli, ["data", "add", "-p", "m", str(tmp_path / "mnist")]).exit_code == 0
    from PIL import Image

    Image.fromarray(t_images[0], "L").save(tmp_path / "digit.png")
    res = runner.invoke(cli, ["ask", "-p", "m", "--attach", str(tmp_path / "digit.png")])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() in [str(d) for d in range(10)]
    reply_id = res.stderr.split("message id:")[1].strip()
    res = runner.invoke(cli, ["rate", "-p", "m", reply_id, "down", "--correct", "7"])
    assert res.exit_code == 0, res.output
    assert "saved correction as example" in res.output
    res = runner.invoke(cli, ["ask", "-p", "m", "--attach", str(tmp_path / "nope.png")])
    assert res.exit_code == 1 and "no such file" in str(res.exception)


TWO_TASKS = """
description = "a picture task and a recording task, as `insitu bundle grow` leaves them"

[[tasks]]
name = "digits"
kind = "label"
modality = "image"
classes = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]

[[tasks]]
name = "words"
kind = "label"
modality = "audio"
classes = ["no", "yes"]

[model]
max_params = 60_000
width = 32
families = ["mlp"]
image_size = 28
image_channels = 1
"""


def test_a_model_with_an_image_and_an_audio_head_answers_each_with_its_own(
        tmp_path: Path) -> None:  # fmt: skip
    """A champion with a picture head and a recording head (a friend's MNIST model grown into
    spoken words) answers a picture with a digit and a clip with a word; a correction of the
    clip's reply is checked against and stored in the recording task."""
    import torch

    from harness.genome import canonical_json, content_hash
    from harness.graph import checkpoint
    from harness.graph.build import Graph
    from harness.graph.seeds import seed
    from harness.store.population import add_individual, put_genome

    (tmp_path / "two.toml").write_text(TWO_TASKS)
    with Profile.create("two", str(tmp_path / "two.toml")) as prof:
        heads = {t.name: {"op": "classify", "args": {"classes": len(t.classes),
                                                     "labels": t.classes, "pool": "mean"}}
                 for t in prof.config.tasks}  # fmt: skip
        genome = seed("mlp", 40_000, heads=heads, modalities=["image", "audio"], context=64)
        genome["stems"]["image"]["args"]["channels"] = 1  # grayscale, as the profile reads
        genome["stems"]["audio"]["args"]["mels"] = prof.config.model.n_mels
        graph = Graph(genome, "cpu", torch.Generator().manual_seed(0))
        rel = "checkpoints/grown/two.safetensors"
        (prof.path / rel).parent.mkdir(parents=True)
        checkpoint.save(graph, prof.path / rel)
        gid = put_genome(prof.store, content_hash(genome), canonical_json(genome), "mlp",
                         graph.num_parameters())
        add_individual(prof.store, gid, checkpoint=rel, status="champion")
        audio, image = get_modality("audio"), get_modality("image")
        with ChatSession(prof) as chat:
            with pytest.raises(DataError, match="answers pictures or recordings") as err:
                chat.ask("what do you hear?")
            assert "/image PATH or /audio PATH or /record in the chat" in str(err.value)
            assert chat.ask(parts=[audio.load(audio.sample())]) in ("no", "yes")
            heard = chat.last_reply_id
            assert chat.ask(parts=[image.load(image.sample())]) in [str(d) for d in range(10)]
            assert heard is not None
            with pytest.raises(DataError, match="'7' is not a class of task words"):
                chat.correct(heard, "7")
            chat.correct(heard, "yes")
        (ex,) = [e for e in iter_examples(prof.store, "words") if e.source == "chat"]
        assert label_of(ex) == "yes" and ex.prompt[0].kind == "audio"
