"""The unified value types: every sample, whatever its source, is an `Example` of `Part`s."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from harness.errors import DataError

PartKind = Literal["text", "image", "audio", "bytes", "label", "move"]
Source = Literal["chat", "corpus", "teacher", "game", "import"]

PART_KINDS: tuple[str, ...] = ("text", "image", "audio", "bytes", "label", "move")
SOURCES: tuple[str, ...] = ("chat", "corpus", "teacher", "game", "import")


@dataclass(eq=False)
class Part:
    """One typed piece of a sample: text, image, audio, bytes, label or move."""

    kind: PartKind
    text: str | None = None
    image: np.ndarray | None = None  # uint8 [H, W, C]
    audio: np.ndarray | None = None  # float32 mono [N]
    sample_rate: int | None = None
    data: bytes | None = None
    label: str | None = None
    move: int | None = None
    #: sha256 of a stored attachment holding the image/audio/bytes instead of inline data.
    attachment: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in PART_KINDS:
            raise DataError(
                f"unknown part kind '{self.kind}'", f"use one of: {', '.join(PART_KINDS)}"
            )
        if self.image is not None:
            if self.image.dtype != np.uint8 or self.image.ndim != 3:
                raise DataError(
                    f"an image part must be a uint8 HxWxC array, got {self.image.dtype} "
                    f"with shape {self.image.shape}",
                    "convert it with modalities.image (it returns uint8 HxWxC)",
                )
        if self.audio is not None:
            if self.audio.dtype != np.float32 or self.audio.ndim != 1 or not self.sample_rate:
                raise DataError(
                    "an audio part must be float32 mono samples with a sample rate",
                    "convert it with modalities.audio (it returns float32 mono + rate)",
                )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Part):
            return NotImplemented
        for name in ("kind", "text", "sample_rate", "data", "label", "move", "attachment"):
            if getattr(self, name) != getattr(other, name):
                return False
        for name in ("image", "audio"):
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]  # mutable value type

    @classmethod
    def of_text(cls, text: str) -> Part:
        """Return a text part."""
        return cls(kind="text", text=text)

    @classmethod
    def of_image(cls, image: np.ndarray) -> Part:
        """Return an image part from a uint8 HxWxC array."""
        return cls(kind="image", image=image)

    @classmethod
    def of_audio(cls, audio: np.ndarray, sample_rate: int) -> Part:
        """Return an audio part from float32 mono samples."""
        return cls(kind="audio", audio=audio, sample_rate=sample_rate)

    @classmethod
    def of_bytes(cls, data: bytes) -> Part:
        """Return a raw bytes part."""
        return cls(kind="bytes", data=data)

    @classmethod
    def of_label(cls, label: str) -> Part:
        """Return a class-label part."""
        return cls(kind="label", label=label)

    @classmethod
    def of_move(cls, move: int) -> Part:
        """Return a game-move part."""
        return cls(kind="move", move=move)

    def to_dict(self, inline: bool = True) -> dict[str, Any]:
        """Return a JSON-able dict; with inline=False, attached media are left as references."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.attachment:
            out["attachment"] = self.attachment
        if self.text is not None:
            out["text"] = self.text
        if self.label is not None:
            out["label"] = self.label
        if self.move is not None:
            out["move"] = int(self.move)
        if self.sample_rate is not None:
            out["sample_rate"] = int(self.sample_rate)
        media = inline or not self.attachment
        if self.image is not None and media:
            out["image"] = {
                "shape": list(self.image.shape),
                "b64": base64.b64encode(np.ascontiguousarray(self.image).tobytes()).decode(),
            }
        if self.audio is not None and media:
            out["audio"] = {
                "length": int(self.audio.shape[0]),
                "b64": base64.b64encode(self.audio.astype("<f4").tobytes()).decode(),
            }
        if self.data is not None and media:
            out["data"] = base64.b64encode(self.data).decode()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Part:
        """Rebuild a part from `to_dict` output (media may stay as attachment references)."""
        try:
            image = audio = None
            if "image" in d:
                raw = base64.b64decode(d["image"]["b64"])
                image = np.frombuffer(raw, dtype=np.uint8).reshape(d["image"]["shape"]).copy()
            if "audio" in d:
                raw = base64.b64decode(d["audio"]["b64"])
                audio = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            data = base64.b64decode(d["data"]) if "data" in d else None
            return cls(
                kind=d["kind"],
                text=d.get("text"),
                image=image,
                audio=audio,
                sample_rate=d.get("sample_rate"),
                data=data,
                label=d.get("label"),
                move=d.get("move"),
                attachment=d.get("attachment"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"cannot read a part from {str(d)[:80]!r}: {exc}",
                "the data was not written by Part.to_dict; re-import it",
            ) from exc


@dataclass
class Example:
    """One sample: a prompt, an optional answer, its task, source, weight and signals."""

    prompt: list[Part]
    answer: list[Part] | None = None
    task: str = "chat"
    source: Source = "chat"
    weight: float = 1.0
    created_at: float = field(default_factory=time.time)
    signals: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise DataError(
                f"unknown example source '{self.source}'", f"use one of: {', '.join(SOURCES)}"
            )

    def to_dict(self, inline: bool = True) -> dict[str, Any]:
        """Return a JSON-able dict of the example."""
        return {
            "prompt": [p.to_dict(inline) for p in self.prompt],
            "answer": None if self.answer is None else [p.to_dict(inline) for p in self.answer],
            "task": self.task,
            "source": self.source,
            "weight": self.weight,
            "created_at": self.created_at,
            "signals": dict(self.signals),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        """Rebuild an example from `to_dict` output."""
        try:
            answer = d.get("answer")
            return cls(
                prompt=[Part.from_dict(p) for p in d["prompt"]],
                answer=None if answer is None else [Part.from_dict(p) for p in answer],
                task=d.get("task", "chat"),
                source=d.get("source", "chat"),
                weight=float(d.get("weight", 1.0)),
                created_at=float(d.get("created_at", 0.0)),
                signals=dict(d.get("signals") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(
                f"cannot read an example: missing or bad field {exc}",
                "an example needs at least a 'prompt' list of parts",
            ) from exc
