#!/usr/bin/env bash
# Pre-train the champion the `chat` template ships (profiles/chat.champion.safetensors).
# Reproducible: a blank chat profile in a scratch INSITU_HOME, the chit-chat corpus, a fixed seed
# and time budget; the champion's metrics are printed at the end (see docs/pretrained.md).
#   usage: bash scripts/pretrain-chat.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-30}
TRAIN_SECONDS=${TRAIN_SECONDS:-90}
DATA=${INSITU_DATA:-../shared/data}
export INSITU_HOME=${PRETRAIN_HOME:-$(mktemp -d -t insitu-pretrain-XXXX)}
export INSITU_BLANK_PROFILES=1  # start from seeds, not from the champion shipped today
I=.venv/bin/insitu
# the chat template with a longer training budget per individual (offspring inherit weights, so
# the champion's lineage accumulates training) and a smaller population
TEMPLATE="$INSITU_HOME/chat-pretrain.toml"
sed -e "s/^train_seconds = .*/train_seconds = $TRAIN_SECONDS/" -e "s/^population = .*/population = 4/" \
  profiles/chat.toml > "$TEMPLATE"
$I profile create chat-pretrain --from "$TEMPLATE"
$I data add -p chat-pretrain "$DATA/chatterbot-corpus/english" --task chat
$I evolve -p chat-pretrain --seed 0 --workers 1 --minutes "$MINUTES"
$I leaderboard -p chat-pretrain
$I graph export -p chat-pretrain profiles/chat.champion.safetensors
echo "wrote profiles/chat.champion.safetensors (profile kept in $INSITU_HOME)"
