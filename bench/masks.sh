#!/usr/bin/env bash
# Mask RLE encode and decode times: COCO RLE of a 4000×3000 mask, string
# form included (target: at most 5 ms each, release build), plus Label
# Studio's brush RLE and the row-major conversions for comparison.
# Usage: bench/masks.sh [RUNS]   (default 101; the noise mask gets a fifth)
# Not a test: it prints numbers for docs/performance.md and never fails on
# slowness. The target folder is wherever CARGO_TARGET_DIR points.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"
cargo run --quiet --release -p gloss-masks --example bench -- "$@"
