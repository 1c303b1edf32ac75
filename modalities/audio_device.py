"""Audio devices through sounddevice/PortAudio; everything else works when they are absent."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from typing import Any

from harness.doctor import Check
from harness.errors import InsituError
from harness.words import counted


class AudioUnavailable(InsituError):
    """Recording or playback was asked for but PortAudio or a device is missing."""


def portaudio_fix() -> str:
    """Return the install command for PortAudio on this system."""
    system = platform.system()
    if system == "Darwin":
        return "install PortAudio: `brew install portaudio`"
    if system == "Windows":
        return "reinstall sounddevice: `pip install --force-reinstall sounddevice`"
    return "install PortAudio: `sudo apt-get install libportaudio2` (Debian/Ubuntu)"


def load_sounddevice() -> Any:
    """Import sounddevice, or raise AudioUnavailable saying how to install PortAudio."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when the PortAudio library is missing
        raise AudioUnavailable(f"audio is unavailable: PortAudio was not found ({exc})",
                               portaudio_fix() + "; text and images work without it") from exc
    except ImportError as exc:
        raise AudioUnavailable(f"audio is unavailable: sounddevice is not installed ({exc})",
                               "run `make setup` to install insitu's dependencies") from exc
    return sounddevice


def input_devices(sd: Any) -> list[str]:
    """Return the names of devices that can record."""
    try:
        return [d["name"] for d in sd.query_devices() if d.get("max_input_channels", 0) > 0]
    except Exception:  # PortAudio may fail to enumerate on headless machines
        return []


def require_microphone() -> tuple[Any, str]:
    """Return (sounddevice, default input device name) or raise AudioUnavailable."""
    sd = load_sounddevice()
    names = input_devices(sd)
    if not names:
        raise AudioUnavailable(
            "no microphone was found (PortAudio sees no input device)",
            "plug in a microphone, or attach a recording with `/audio PATH.wav` instead",
        )
    return sd, names[0]


def check() -> Iterable[Check]:
    """Doctor lines for PortAudio and the microphone."""
    try:
        sd = load_sounddevice()
    except AudioUnavailable as exc:
        yield Check("portaudio", False, exc.message.replace("audio is unavailable: ", ""),
                    portaudio_fix())
        yield Check("microphone", False, "cannot look for one without PortAudio",
                    "install PortAudio first; `/audio PATH.wav` works without it")
        return
    yield Check("portaudio", True, sd.get_portaudio_version()[1])
    names = input_devices(sd)
    if names:
        found = counted(len(names), "input device")
        yield Check("microphone", True, f"{found}: {', '.join(names[:3])}")
    else:
        yield Check("microphone", False, "no input device found",
                    "plug in a microphone to use /record; `/audio PATH.wav` works without one")
