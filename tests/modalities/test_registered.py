"""Every modality registered in harness.registry loads its sample and encodes it as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import registry
from harness.config import ModelConfig
from harness.errors import ConfigError, DataError
from harness.modality import Modality, ModalitySpec, get_modality, modality_for

SPEC = ModalitySpec(image_size=14, image_channels=3, sample_rate=16000, n_mels=40)
DOCUMENTED = {"text": 1, "image": 3, "audio": 2}  # tensor rank without the batch axis


def test_builtin_modalities_are_registered() -> None:
    """text, image and audio are found through their entry points, with no load errors."""
    assert {"text", "image", "audio"} <= set(registry.modalities.names())
    assert registry.modalities.errors() == {}


@pytest.mark.parametrize("name", registry.modalities.names())
def test_modality_loads_its_sample_and_encodes_a_batch(name: str, tmp_path: Path) -> None:
    """A registered modality loads its sample (bytes and file) and batches it as item_shape says."""
    mod = get_modality(name)
    assert isinstance(mod, Modality) and mod.name == name and mod.suffixes
    path = tmp_path / f"sample{mod.suffixes[0]}"
    path.write_bytes(mod.sample())
    parts = [mod.load(mod.sample()), mod.load(path)]
    assert parts[0].kind in mod.kinds
    t = mod.to_tensor(parts, SPEC)
    assert t.shape == (2, *mod.item_shape(parts[0], SPEC))
    assert bool(t.float().isfinite().all())
    if name in DOCUMENTED:
        assert t.dim() - 1 == DOCUMENTED[name]
    if name == "image":
        assert t.shape[1:] == (3, 14, 14) and 0 <= float(t.min()) <= float(t.max()) <= 1
    if name == "audio":
        assert t.shape[2] == 40
    assert isinstance(mod.describe(parts[0]), str)
    with pytest.raises(DataError):
        mod.to_tensor([], SPEC)


def test_modality_for_picks_by_suffix() -> None:
    """A file suffix finds its modality; an unknown one lists the readable suffixes."""
    assert modality_for(Path("a/b/DIGIT.PNG")).name == "image"
    assert modality_for(Path("seven.wav")).name == "audio"
    with pytest.raises(DataError, match=r"\.png"):
        modality_for(Path("movie.mp4"))


def test_spec_from_model_config_and_validation() -> None:
    """ModalitySpec follows [model] settings and rejects impossible ones."""
    spec = ModalitySpec.from_model_config(ModelConfig(image_size=14, sample_rate=16000))
    shape = (spec.image_size, spec.image_channels, spec.sample_rate, spec.n_mels)
    assert shape == (14, 1, 16000, 32)
    assert (spec.win_length, spec.hop_length, spec.n_fft) == (400, 160, 512)
    assert ModalitySpec.from_model_config(ModelConfig(), image_fit="crop").image_fit == "crop"
    with pytest.raises(ConfigError, match="image_channels"):
        ModalitySpec(image_channels=2)
    with pytest.raises(ConfigError, match="n_mels"):
        ModalitySpec(sample_rate=8000, n_mels=500)
