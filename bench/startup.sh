#!/usr/bin/env bash
# Start-up time to the first answered request, and idle memory, of `gloss serve`.
# Usage: bench/startup.sh [PATH_TO_GLOSS_BINARY] [RUNS]
# Not a test: it prints numbers for docs/performance.md and never fails on slowness.
set -euo pipefail
gloss=${1:-target/release/gloss}
runs=${2:-5}
[ -x "$gloss" ] || { echo "no gloss binary at $gloss (cargo build --release -p gloss)" >&2; exit 2; }

now_ms() { date +%s%3N; }

measure() { # $1: data dir; prints "startup_ms rss_kb"
  local data=$1 port started pid deadline
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  started=$(now_ms)
  GLOSS_ADMIN_PASSWORD=bench-password-123 "$gloss" --data "$data" --log warn serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  deadline=$(( started + 10000 ))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/openapi.json"; do
    if [ "$(now_ms)" -gt "$deadline" ]; then kill "$pid"; echo "no answer within 10 s" >&2; exit 1; fi
    sleep 0.005
  done
  local ready=$(( $(now_ms) - started ))
  sleep 2 # idle
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$ready $rss"
}

echo "binary: $gloss"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"
for kind in first-start restart; do
  results=()
  for _ in $(seq "$runs"); do
    data=$(mktemp -d)
    if [ "$kind" = restart ]; then measure "$data" >/dev/null; fi
    results+=("$(measure "$data")")
    rm -rf "$data"
  done
  median() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
  read -r ms_median ms_min ms_max < <(printf '%s\n' "${results[@]}" | cut -d' ' -f1 | median)
  read -r rss_median _ _ < <(printf '%s\n' "${results[@]}" | cut -d' ' -f2 | median)
  printf '%-12s start-up to first answer: median %d ms (min %d, max %d); idle RSS median %.1f MB\n' \
    "$kind" "$ms_median" "$ms_min" "$ms_max" "$(echo "$rss_median / 1024" | bc -l)"
done
