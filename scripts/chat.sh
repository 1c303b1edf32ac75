#!/usr/bin/env bash
# Install insitu (if needed) and open the chat on the default profile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/insitu chat "$@"
