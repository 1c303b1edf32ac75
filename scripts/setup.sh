#!/usr/bin/env bash
# Install insitu into ./.venv on a fresh machine: system audio/speech libraries where apt is
# available, the CPU build of torch where possible, then the project (with dev tools if --dev).
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
PY="${PYTHON:-python3}"
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. Python 3.11 or newer.
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "insitu needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and run again"; exit 1
fi

# 2. PortAudio (microphone), espeak-ng (speech for tests) and a C compiler (the native step
#    engine) when apt can install them.
SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null && SUDO="sudo -n"
if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  if ! dpkg -s libportaudio2 espeak-ng tmux >/dev/null 2>&1 || ! command -v cc >/dev/null; then
    say "installing libportaudio2, espeak-ng, tmux and gcc with apt"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        libportaudio2 espeak-ng tmux gcc libc6-dev >/dev/null; } \
      || say "apt could not install libportaudio2/espeak-ng/gcc: \`insitu doctor\` says what is missing"
  fi
else
  say "no apt (or no root): skipping libportaudio2/espeak-ng; \`insitu doctor\` tells what is missing"
fi

# 3. A virtual environment.
[ -x .venv/bin/python ] || { say "creating .venv"; "$PY" -m venv .venv; }
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# 4. torch: the CPU build first (a plain requirement pulls a multi-GB CUDA build).
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  say "installing torch (CPU build)"
  "${PIP[@]}" install -q "torch==2.13.0+cpu" 2>/dev/null \
    || "${PIP[@]}" install -q --timeout 30 torch --index-url https://download.pytorch.org/whl/cpu \
    || say "no CPU build of torch found; the project install will pick torch from PyPI"
fi

# 5. insitu itself, editable, with its dependencies (and the test tools with --dev).
say "installing insitu$([ $DEV = 1 ] && echo ' with dev tools')"
if [ $DEV = 1 ]; then "${PIP[@]}" install -q -e ".[dev]"; else "${PIP[@]}" install -q -e .; fi
say "done: run \`.venv/bin/insitu doctor\` to see what this machine has"
