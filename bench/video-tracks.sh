#!/usr/bin/env bash
# Export of a 10,000-frame video with 20 box tracks as CVAT for video and
# MOT, in memory (the writers' own cost; the engine adds reading the
# annotation from the database), and the same files read back as the video
# dataset import reads them. Results go in docs/performance.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo run --quiet --release -p gloss-formats --example video_tracks_bench
