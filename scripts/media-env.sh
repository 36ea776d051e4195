#!/usr/bin/env bash
# Makes sure ffmpeg and ffprobe are installed (from Debian's packages, with
# apt-get, when missing and running as root) and prints ffmpeg's path.
# The video tests generate their videos with ffmpeg and judge Gloss's frame
# index against ffprobe; nothing generated is kept.
set -euo pipefail

log() { printf 'media-env: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        die "ffmpeg not found. Install it (Debian: apt-get install -y ffmpeg)."
    fi
    log "installing ffmpeg (apt-get install ffmpeg)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q ffmpeg >&2
fi
command -v ffmpeg
