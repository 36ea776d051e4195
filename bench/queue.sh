#!/usr/bin/env bash
# The annotator queue under load: 64 annotators calling `next` and submit.
# Usage: bench/queue.sh [PATH_TO_GLOSS] [PATH_TO_GLOSS_QUEUE_LOAD] [SECONDS] [DATABASE_URL]
# Not a test: it prints numbers for docs/performance.md and never fails on slowness.
#
# On a fresh data folder (SQLite by default, or the PostgreSQL database given
# as DATABASE_URL, which must be empty), it creates 64 annotators and three
# projects of 200,000 tasks (overlap 1), starts `gloss serve`, and runs the
# load generator (bench/queue-load) three times, each on its own project:
#   1. closed loop: every annotator calls as fast as answers come (throughput);
#   2. open loop at 5,000 calls/s offered, and 3. at 10,000 calls/s offered
#      (latency at a given load: calls start on schedule, latency counts from then).
set -euo pipefail
gloss=$(realpath "${1:-target/release/gloss}")
load=$(realpath "${2:-target/release/gloss-queue-load}")
seconds=${3:-10}
database=${4:-}
annotators=64
tasks=200000
for binary in "$gloss" "$load"; do
  [ -x "$binary" ] || { echo "no binary at $binary (cargo build --release -p gloss -p gloss-queue-load)" >&2; exit 2; }
done
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

data=$work/data
db_args=()
[ -n "$database" ] && db_args=(--database "$database")
g() { "$gloss" --data "$data" "${db_args[@]}" --log warn "$@"; }

# GLOSS_BENCH_EXTRA_CHOICES=N adds N more choices to the label config (300
# make it 15 kB, a taxonomy's size): every queue call reads the project's
# row, config included, and a submit checks its result against the config.
extra_choices=$(python3 -c 'import sys; print("".join(f"<Choice value=\"Class number {i} of the taxonomy\"/>" for i in range(int(sys.argv[1]))))' "${GLOSS_BENCH_EXTRA_CHOICES:-0}")
cat > "$work/config.xml" <<XML
<View>
  <Image name="image" value="\$image"/>
  <Choices name="class" toName="image"><Choice value="Cat"/><Choice value="Dog"/>$extra_choices</Choices>
</View>
XML
python3 - "$work/tasks.json" "$tasks" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as out:
    out.write("[" + ",".join(json.dumps({"image": f"/img/{i}.png"}) for i in range(n)) + "]")
PY

echo "binary: $gloss"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d), database: ${database:+PostgreSQL}${database:-SQLite (synchronous=FULL)}"
projects=()
# The runs: "closed" or a rate in calls/s offered (GLOSS_BENCH_RUNS to choose
# others, for example "10000 10000 10000" to repeat one), a project each.
runs=(${GLOSS_BENCH_RUNS:-closed 5000 10000})
for run in "${runs[@]}"; do
  project=$(g project create --name "$run" --config "$work/config.xml")
  g import --project "$project" "$work/tasks.json" >/dev/null
  projects+=("$project")
done
: > "$work/tokens"
for i in $(seq 1 $annotators); do
  GLOSS_PASSWORD="bench password $i" g user create --username "a$i" --role annotator >/dev/null
  g user token "a$i" >> "$work/tokens"
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GLOSS_ADMIN_PASSWORD=bench-password-123 "$gloss" --data "$data" "${db_args[@]}" --log warn ${GLOSS_BENCH_SERVE_ARGS:-} \
  serve --bind "127.0.0.1:$port" >/dev/null 2>${GLOSS_BENCH_SERVER_LOG:-/dev/null} &
server_pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/openapi.json"; do sleep 0.05; done
admin=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "admin", "password": "bench-password-123"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
for project in "${projects[@]}"; do
  for i in $(seq 1 $annotators); do
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/projects/$project/members" \
      -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
      -d "{\"username\": \"a$i\", \"role\": \"annotator\"}"
  done
done

# On SQLite the server adds the imported tasks to the text index of the data
# manager's `contains` filters in the background once it starts: the runs
# below measure the queue at rest, after that (it prints how long it took),
# unless GLOSS_BENCH_DURING_INDEXING is set: then they run while it catches up.
if [ -z "$database" ] && [ -z "${GLOSS_BENCH_DURING_INDEXING:-}" ]; then
  python3 - "$data/gloss.db" <<'PY'
import sqlite3, sys, time
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
started = time.time()
while True:
    indexed, last = connection.execute(
        "SELECT indexed_to, (SELECT MAX(id) FROM tasks) FROM tasks_text_progress").fetchone()
    if indexed >= last:
        break
    time.sleep(0.2)
print(f"text index: caught up {time.time() - started:.1f} s after the members were added")
PY
  # Then the server makes the indexes of the data keys the text index found
  # (over every task of each project): the runs wait until it has gone idle
  # (under 3% of a core for a second, checked for up to two minutes).
  ticks() { awk '{print $14 + $15}' /proc/$server_pid/stat; }
  waited=0
  while [ $waited -lt 120 ]; do
    before_idle=$(ticks); sleep 1; waited=$((waited + 1))
    [ $(($(ticks) - before_idle)) -le $(($(getconf CLK_TCK) * 3 / 100)) ] && break
  done
  echo "server: idle after $waited s more"
fi

# The server's cost per call, read from /proc around each run: the bytes it
# handed to write calls (the database's log, mostly) and its CPU time, in
# all and on the queue writer thread (steadier than calls/s on a machine
# whose speed varies from run to run).
writer_thread() {
  for task in /proc/$server_pid/task/*; do
    [ "$(cat "$task/comm")" = gloss-sqlite-qu ] && { echo "$task"; return; }
  done
}
server_cost() {
  local writer
  writer=$(writer_thread)
  echo "$(awk '/^wchar/ {print $2}' /proc/$server_pid/io)" \
    "$(awk '{print $14 + $15}' /proc/$server_pid/stat)" \
    "$( [ -n "$writer" ] && awk '{print $14 + $15}' "$writer/stat" || echo 0)"
}
for index in "${!runs[@]}"; do
  run=${runs[$index]}
  before=$(server_cost)
  if [ "$run" = closed ]; then
    echo "--- closed loop, $annotators annotators, ${seconds} s"
    /usr/bin/time -f "load generator: %U s user, %S s system" -o "$work/time" \
      "$load" "127.0.0.1:$port" "${projects[$index]}" "$work/tokens" "$seconds" | tee "$work/out"
    cat "$work/time"
  else
    echo "--- open loop, $run calls/s offered"
    "$load" "127.0.0.1:$port" "${projects[$index]}" "$work/tokens" "$seconds" "$run" | tee "$work/out"
  fi
  calls=$(grep -o '[0-9]* calls:' "$work/out" | head -1 | cut -d' ' -f1)
  read -r written cpu writer_cpu <<< "$(server_cost)"
  read -r written0 cpu0 writer_cpu0 <<< "$before"
  ticks=$(getconf CLK_TCK)
  awk -v calls="$calls" -v w=$((written - written0)) -v c=$((cpu - cpu0)) -v q=$((writer_cpu - writer_cpu0)) -v t="$ticks" \
    'BEGIN { if (calls > 0) printf "server per call: %.1f kB written, CPU %.0f µs (queue writer thread %.0f µs)\n", w / calls / 1000, c * 1e6 / t / calls, q * 1e6 / t / calls }'
done
echo "server: peak RSS $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$server_pid/status), CPU $(awk '{printf "%.1f s", ($14 + $15) / 100}' /proc/$server_pid/stat)"
