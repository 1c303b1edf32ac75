"""What a label chat learns from ratings and corrections is still there in the next session."""

from __future__ import annotations

from pathlib import Path

from harness.chat.session import ChatSession
from harness.data.ingest import add_paths
from harness.graph import checkpoint
from harness.profile import Profile

from .test_media_chat import mnist_subset, png_part


def test_learning_on_a_media_reply_survives_reopening_the_profile(
    tmp_path: Path, shared_data: Path
) -> None:
    """A correction moves the model towards the label; a new session starts from those weights,
    and a damaged file of learned weights falls back to the model itself."""
    t_images, _ = mnist_subset(shared_data, tmp_path / "mnist", 300, 1)
    with Profile.create("m", "mnist") as prof:
        add_paths(prof, [tmp_path / "mnist"])
        part = png_part(tmp_path, t_images[0], "digit")
        with ChatSession(prof, warm_steps=30) as chat:
            reply = chat.ask(parts=[part])
            assert chat.labeler is not None and chat.last_reply_id is not None
            target = str((int(reply) + 1) % 10)
            probs = chat.labeler._logits(part).softmax(-1)[0].tolist()
            start = dict(zip(chat.labeler.labels, probs, strict=True))[target]
            chat.correct(chat.last_reply_id, target)
            learned = chat.labeler.predict(part)
            path = chat.labeler.learned_path
        assert path.is_file()
        assert checkpoint.read_metadata(path)["insitu.online_base"] == ""  # grew from the seed
        with ChatSession(prof, warm_steps=30) as again:
            assert again.labeler is not None
            label, p = again.labeler.predict(part)
            assert (label, round(p, 5)) == (learned[0], round(learned[1], 5))
            probs = dict(zip(again.labeler.labels, again.labeler._logits(part).softmax(-1)[0]
                             .tolist(), strict=True))  # fmt: skip
            assert probs[target] > start
        path.write_bytes(path.read_bytes()[:100])  # damaged: the model itself answers
        with ChatSession(prof, warm_steps=30) as third:
            assert third.labeler is not None and third.labeler.predict(part)[0] in {
                str(d) for d in range(10)}
