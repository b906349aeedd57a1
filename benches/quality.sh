#!/usr/bin/env bash
# The semantic cache's quality benchmark: the local embeddings model
# (all-MiniLM-L6-v2, installed by scripts/fetch-model) on the evaluation pairs
# in ../shared/eval. Prints a markdown table of hit and wrong-hit rates per
# distance threshold, and the embedding throughput. Not part of CI.
#
#   benches/quality.sh                         # ../shared/eval
#   benches/quality.sh --eval /path/to/eval    # arguments go to the binary
#
# Takes a few minutes on two cores: a release build with the
# `local-embeddings` feature, then about 10,000 texts to embed.
set -euo pipefail
cd "$(dirname "$0")/.."

model="$(scripts/fetch-model)"
exec cargo run --release --quiet -p sluice-benches --features local-embeddings \
  --bin semantic_quality -- --model "$model" "$@"
