#!/usr/bin/env bash
# The data manager's task table at 1,000,000 tasks: how long one page takes.
# Usage: bench/datamanager.sh [PATH_TO_GLOSS] [TASKS] [REPETITIONS] [DATABASE_URL]
# Not a test: it prints numbers for docs/performance.md and never fails on slowness.
# Target: every page (any filter, any sort, any position) in at most 50 ms.
#
# On a fresh data folder (SQLite by default; or the PostgreSQL database given
# as DATABASE_URL or in GLOSS_BENCH_PG_URL, which must be empty), it:
#   1. creates a project (overlap 2) and four annotator accounts, and imports
#      TASKS tasks with `gloss import` in ten JSONL files, one import each (so
#      that creation times differ by import): data {image, city, width,
#      caption}, about 5% annotated (4% once, so in progress; 1% twice, so
#      completed) with box labels Car/Person/Bicycle/Truck by ann1..ann4
#      (weights 50/30/15/5), about 20% with one scored prediction;
#   2. starts `gloss serve` on 127.0.0.1, changes the priority of 20,000
#      random tasks by one bulk action (so that update times differ) and
#      waits until the server has made the data fields' indexes and, on
#      SQLite, added every task to the text index of `contains` filters (on
#      PostgreSQL: made the trigram index of task data), printing how long
#      that took;
#   3. times GET /api/v1/projects/{id}/task-table (bench/datamanager.py run):
#      first, followed, middle and last pages unsorted and in every sort
#      order, filters alone and with sorts, and first pages with count=true,
#      each repeated REPETITIONS times after one warm-up call (median, p95,
#      max); the first sort by a data field or by creation time is reported
#      on its own.
# GLOSS_BENCH_KEEP=1 keeps the data folder (its path is printed at the end),
# e.g. to look at query plans in the database afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gloss=$(realpath "${1:-target/debug/gloss}")
tasks=${2:-1000000}
reps=${3:-20}
database=${4:-${GLOSS_BENCH_PG_URL:-}}
files=10
[ -x "$gloss" ] || { echo "no gloss binary at $gloss (cargo build -p gloss)" >&2; exit 2; }
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  if [ -n "${GLOSS_BENCH_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

data=$work/data
db_args=()
[ -n "$database" ] && db_args=(--database "$database")
g() { "$gloss" --data "$data" "${db_args[@]}" --log warn "$@"; }
now() { date +%s.%N; }
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.%3NZ; }

cat > "$work/config.xml" <<'XML'
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Person"/><Label value="Bicycle"/><Label value="Truck"/>
  </RectangleLabels>
</View>
XML

echo "binary: $gloss"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d), database: $([ -n "$database" ] && echo PostgreSQL || echo SQLite)"
python3 "$here/datamanager.py" generate "$work" "$tasks" "$files"
echo "input: $(du -cm "$work"/tasks-*.jsonl | tail -1 | cut -f1) MB of JSONL"

project=$(g project create --name "data manager bench" --config "$work/config.xml")
g project set "$project" --overlap 2 >/dev/null
for i in 1 2 3 4; do
  GLOSS_PASSWORD="bench password $i" g user create --username "ann$i" --role annotator >/dev/null
done

# 1. Imports, one per file; the fifth one's time window is a date filter below.
import_start=$(now)
n=0
for file in "$work"/tasks-*.jsonl; do
  n=$((n + 1))
  start=$(now)
  g import --project "$project" "$file" >/dev/null
  end=$(now)
  if [ "$n" = 5 ]; then window_start=$(rfc3339 "$start"); window_end=$(rfc3339 "$end"); fi
  sleep 0.01
done
import_end=$(now)
python3 -c "import sys; n, a, b = map(float, sys.argv[1:]); print(f'import: {int(n):,} tasks in {b - a:.1f} s, {n / (b - a):,.0f} tasks/s ($files gloss import runs, annotations and predictions included)')" \
  "$tasks" "$import_start" "$import_end"

# 2. The server.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
serve_start=$(now)
GLOSS_ADMIN_PASSWORD=bench-password-123 "$gloss" --data "$data" "${db_args[@]}" --log warn \
  serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/openapi.json"; do sleep 0.05; done
base=http://127.0.0.1:$port
token=$(curl -sf -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "admin", "password": "bench-password-123"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
first_id=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/projects/$project/task-table?limit=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
python3 - "$first_id" "$tasks" > "$work/bulk.json" <<'PY'
import json, random, sys
first, n = int(sys.argv[1]), int(sys.argv[2])
ids = random.Random(7).sample(range(first, first + n), min(20000, n))
print(json.dumps({"action": "set_priority", "priority": 3, "tasks": ids}))
PY
start=$(now)
curl -sf -X POST "$base/api/v1/projects/$project/tasks/bulk" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary "@$work/bulk.json" >/dev/null
end=$(now)
echo "bulk set_priority of $(( tasks < 20000 ? tasks : 20000 )) listed tasks: $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$start" "$end")"

# Once started, the server makes the project's data-field indexes (image,
# city, width, caption) and, on SQLite, adds the imported tasks to the text
# index of `contains` filters, in the background: wait for both, so that the
# cases below run on a server at rest.
if [ -z "$database" ]; then
  python3 - "$data/gloss.db" "$serve_start" <<'PY'
import sqlite3, sys, time
db, started = sys.argv[1], float(sys.argv[2])
connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
fields = None
while True:
    if fields is None and connection.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'tasks_data_%'").fetchone()[0] >= 4:
        fields = time.time() - started
    indexed, last = connection.execute(
        "SELECT indexed_to, (SELECT MAX(id) FROM tasks) FROM tasks_text_progress").fetchone()
    if fields is not None and indexed >= last:
        break
    time.sleep(0.2)
print(f"indexes: the 4 data fields' {fields:.1f} s and the text index {time.time() - started:.1f} s after the server started")
PY
elif command -v psql >/dev/null; then
  start=$(now)
  until [ "$(psql "$database" -Atc "SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE 'tasks_data_%'")" -ge 4 ]; do
    sleep 0.2
  done
  echo "indexes: the 4 data fields' $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$serve_start" "$(now)") s after the server started"
  # The trigram index of task data (pg_trgm), which the server makes once;
  # without the extension it never comes (at most 10 minutes).
  trgm="SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'tasks_text_trgm' AND i.indisvalid"
  for _ in $(seq 3000); do
    [ "$(psql "$database" -Atc "$trgm")" -ge 1 ] && break
    sleep 0.2
  done
  if [ "$(psql "$database" -Atc "$trgm")" -ge 1 ]; then
    echo "indexes: the trigram index of task data $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$serve_start" "$(now)") s after the server started"
  else
    echo "indexes: no trigram index of task data (is pg_trgm installed?)"
  fi
fi

# 3. The table.
if [ -n "$database" ]; then db_target=$database; else db_target=$data/gloss.db; fi
python3 "$here/datamanager.py" run --base "$base" --token "$token" --project "$project" --tasks "$tasks" \
  --db "$db_target" --created-window "$window_start,$window_end" --updated-window "$window_start,$window_end" \
  --reps "$reps"
echo "server: peak RSS $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$server_pid/status), CPU $(awk '{printf "%.1f s", ($14 + $15) / 100}' /proc/$server_pid/stat)"
if [ -z "$database" ]; then
  echo "database: $(du -m "$data/gloss.db" | cut -f1) MB"
fi
