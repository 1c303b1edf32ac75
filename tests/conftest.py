"""Shared fixtures: every test gets its own data folder, never the user's home."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

# Micro-graphs are fastest with one intra-op thread; parallelism comes from processes.
torch.set_num_threads(1)

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# the native step engine is compiled once per test session into a temp folder, not ~/.cache
if "INSITU_CACHE" not in os.environ:
    os.environ["INSITU_CACHE"] = tempfile.mkdtemp(prefix="insitu-test-cache-")
    atexit.register(shutil.rmtree, os.environ["INSITU_CACHE"], ignore_errors=True)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"


@pytest.fixture(autouse=True)
def insitu_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point INSITU_HOME at a fresh temp folder for each test; profiles start blank."""
    home = tmp_path / "insitu-home"
    monkeypatch.setenv("INSITU_HOME", str(home))
    # profiles start from seeds unless a test asks for a template's shipped champion
    monkeypatch.setenv("INSITU_BLANK_PROFILES", "1")
    return home


@pytest.fixture
def shared_data() -> Path:
    """Return ../shared/data, skipping nothing: the datasets are required beside the checkout."""
    assert DATA.is_dir(), f"expected the shared datasets at {DATA}"
    return DATA
