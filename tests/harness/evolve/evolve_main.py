"""Run `insitu` with the evolution commands registered; INSITU_FAKE_EVAL=1 swaps in fake_eval.

Used by the subprocess tests, so they work whether or not the entry points are installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from harness import registry  # noqa: E402
from harness.cli import main  # noqa: E402
from harness.evolve import cli, pool  # noqa: E402

for name in ("evolve", "leaderboard", "lineage"):
    if name not in registry.commands:
        registry.commands.register(name, getattr(cli, name))
if os.environ.get("INSITU_FAKE_EVAL") == "1":
    from helpers import fake_eval  # noqa: E402

    pool.EVAL_FN = fake_eval

if __name__ == "__main__":
    main()
