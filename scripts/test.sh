#!/usr/bin/env bash
# Run every check CI runs: lint, types, import contracts, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True
V=.venv/bin
echo "== ruff";          $V/ruff check harness tui modalities teachers tests
echo "== import-linter"; $V/lint-imports
echo "== mypy";          $V/mypy
echo "== pytest";        $V/pytest -q -n 2 --durations=15 "$@"
