#!/usr/bin/env bash
# Krippendorff's alpha (nominal) and Dawid–Skene on 1,000,000 labels
# (100,000 tasks × 10 annotators, 5 classes, fixed seed), Gloss against the
# `krippendorff` package and crowd-kit on the same data. Target (issue 8):
# each ≤ 1 s, ≥ 20× faster than the references.
# Usage: bench/quality.sh   (release build; the references run in the venv
# of `scripts/python-env.sh quality`). Results go in docs/performance.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== Gloss (gloss-quality, release)"
cargo run --quiet --release -p gloss-quality --example quality_bench -- --write "$work/ratings.csv"
echo "== references"
python=$(scripts/python-env.sh quality)
"$python" bench/quality_reference.py "$work/ratings.csv"
