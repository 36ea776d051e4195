#!/usr/bin/env bash
# Waveform peaks of one hour of sound, as `GET /api/v1/media/{key}/peaks`
# computes them the first time (later calls read the cache): a WAV at
# 16 kHz mono and at 44.1 kHz stereo, the same hours as MP3, and FLAC and
# Ogg Vorbis, made with ffmpeg from pink noise. Target: 2 s (issue 7).
# Usage: bench/audio.sh [--release]   (default: the dev profile CI and
# `cargo run` use). Results go in docs/performance.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v ffmpeg >/dev/null || { echo "bench/audio.sh needs ffmpeg" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
make() { ffmpeg -loglevel error -y "$@"; }
make -f lavfi -i "anoisesrc=d=3600:c=pink:r=16000:a=0.3" -ac 1 -c:a pcm_s16le "$work/hour-16k-mono.wav"
make -f lavfi -i "anoisesrc=d=3600:c=pink:r=44100:a=0.3" -ac 2 -c:a pcm_s16le "$work/hour-44k-stereo.wav"
make -i "$work/hour-16k-mono.wav" -c:a libmp3lame -b:a 64k "$work/hour.mp3"
make -i "$work/hour-44k-stereo.wav" -c:a libmp3lame -b:a 128k "$work/hour-44k-stereo.mp3"
make -i "$work/hour-16k-mono.wav" -c:a flac "$work/hour.flac"
make -i "$work/hour-16k-mono.wav" -c:a libvorbis -q:a 3 "$work/hour.ogg"
cargo run --quiet ${1:-} -p gloss-media --example peaks_bench -- "$work"/hour*
