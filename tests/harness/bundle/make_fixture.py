"""Write the committed fixture bundle (run once per format version; later versions must read it).

    .venv/bin/python tests/harness/bundle/make_fixture.py

It evolves a tiny profile on a slice of tinyshakespeare in a temporary INSITU_HOME and exports
it to tests/harness/bundle/fixtures/bundle-v<MAJOR>.<MINOR>.insitu. Never regenerate an
existing fixture: it stands for the bundles people already have.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> Path:
    """Build the profile, export it, return the fixture path."""
    sys.path.insert(0, str(HERE.parents[2]))
    import torch

    torch.set_num_threads(1)
    from harness.bundle import VERSION, export_bundle
    from tests.harness.bundle.helpers import evolved_profile

    target = HERE / "fixtures" / f"bundle-v{VERSION}.insitu"
    if target.exists():
        raise SystemExit(f"{target} exists; fixtures are never rewritten")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INSITU_HOME"] = str(Path(tmp) / "home")
        with evolved_profile(Path(tmp), "fixture") as prof:
            export_bundle(prof, target, license="MIT")
    return target


if __name__ == "__main__":
    print(main())
