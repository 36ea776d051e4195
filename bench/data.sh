#!/usr/bin/env bash
# Import and export throughput on SQLite, and the export's peak memory.
# Usage: bench/data.sh [PATH_TO_GLOSS_BINARY] [TASKS] [ANNOTATED_TASKS]
# Not a test: it prints numbers for docs/performance.md and never fails on slowness.
#
# Measures, each on a fresh data folder:
#   1. `gloss import` of TASKS bare tasks from one JSON file (tasks/s);
#   2. a raw bulk insert of the same rows into SQLite by Python's sqlite3
#      module in one transaction (the baseline the API is compared with);
#   3. POST /api/v1/projects/{id}/tasks of the same file to a running server;
#   4. `gloss export` of ANNOTATED_TASKS tasks with one annotation of three
#      results each, in every format (annotations/s and peak RSS).
set -euo pipefail
gloss=$(realpath "${1:-target/release/gloss}")
tasks=${2:-1000000}
annotated=${3:-200000}
[ -x "$gloss" ] || { echo "no gloss binary at $gloss (cargo build --release -p gloss)" >&2; exit 2; }
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
rate() { python3 -c "import sys; n, a, b = map(float, sys.argv[1:]); print(f'{n / (b - a):,.0f}/s ({b - a:.2f} s)')" "$@"; }
peak_rss_mb() { awk '/Maximum resident/ {printf "%.0f MB", $6 / 1024}' "$1"; }

config=$work/config.xml
cat > "$config" <<'EOF'
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/><Label value="Person"/></RectangleLabels>
  <Choices name="scene" toName="image"><Choice value="Urban"/><Choice value="Rural"/></Choices>
</View>
EOF

echo "binary: $gloss"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"

python3 - "$work" "$tasks" "$annotated" <<'EOF'
import json, sys
work, n, annotated = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/tasks.json", "w") as out:
    out.write("[")
    for i in range(n):
        out.write(("," if i else "") + json.dumps({"image": f"/img/{i}.png", "text": f"street scene {i}"}))
    out.write("]")
with open(f"{work}/annotated.json", "w") as out:
    out.write("[")
    for i in range(annotated):
        result = [
            {"id": f"a{i}", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
             "original_width": 640, "original_height": 480,
             "value": {"x": 10.5, "y": 20, "width": 30.25, "height": 15, "rotation": 0, "rectanglelabels": ["Car"]}},
            {"id": f"b{i}", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
             "original_width": 640, "original_height": 480,
             "value": {"x": 50, "y": 40, "width": 10, "height": 20, "rotation": 0, "rectanglelabels": ["Person"]}},
            {"id": f"c{i}", "from_name": "scene", "to_name": "image", "type": "choices", "value": {"choices": ["Urban"]}},
        ]
        task = {"data": {"image": f"/img/{i}.png"}, "annotations": [{"result": result, "lead_time": 12.5}]}
        out.write(("," if i else "") + json.dumps(task))
    out.write("]")
EOF
echo "input: $tasks bare tasks ($(du -m "$work/tasks.json" | cut -f1) MB), $annotated annotated tasks ($(du -m "$work/annotated.json" | cut -f1) MB)"

# 1. CLI import.
data=$work/cli
project=$("$gloss" --data "$data" --log warn project create --name bench --config "$config")
start=$(now)
/usr/bin/time -v -o "$work/import.time" "$gloss" --data "$data" --log warn import --project "$project" "$work/tasks.json" >/dev/null
end=$(now)
echo "CLI import:           $(rate "$tasks" "$start" "$end"), peak RSS $(peak_rss_mb "$work/import.time")"

# 2. Raw bulk insert baseline: the same rows, one transaction, Python's sqlite3.
python3 - "$work/tasks.json" "$work/raw.db" "$tasks" <<'EOF'
import json, sqlite3, sys, time
path, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.dumps(task, separators=(",", ":")) for task in json.load(open(path))]
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=FULL")
conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, project_id INTEGER, data TEXT, status TEXT, created_at INTEGER)")
conn.execute("CREATE INDEX t1 ON tasks (project_id, id)")
start = time.time()
conn.execute("BEGIN")
conn.executemany("INSERT INTO tasks (project_id, data, status, created_at) VALUES (1, ?, 'new', 0)", ((r,) for r in rows))
conn.execute("COMMIT")
elapsed = time.time() - start
print(f"raw SQLite insert:    {n / elapsed:,.0f}/s ({elapsed:.2f} s; rows already in memory, no parsing)")
EOF

# 3. API import.
data=$work/api
project=$("$gloss" --data "$data" --log warn project create --name bench --config "$config")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GLOSS_ADMIN_PASSWORD=bench-password-123 "$gloss" --data "$data" --log warn serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
server_pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/openapi.json"; do sleep 0.05; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "admin", "password": "bench-password-123"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
start=$(now)
curl -sf -X POST "http://127.0.0.1:$port/api/v1/projects/$project/tasks" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary "@$work/tasks.json" >/dev/null
end=$(now)
echo "API import:           $(rate "$tasks" "$start" "$end") (upload over loopback included)"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=

# 4. Exports.
data=$work/export
project=$("$gloss" --data "$data" --log warn project create --name bench --config "$config")
"$gloss" --data "$data" --log warn import --project "$project" "$work/annotated.json" >/dev/null
for format in json label-studio coco; do
  extra=()
  [ "$format" = coco ] && extra=(--no-images)
  start=$(now)
  /usr/bin/time -v -o "$work/export.time" "$gloss" --data "$data" --log warn export --project "$project" \
    --format "$format" "${extra[@]}" --out "$work/out.$format" 2>/dev/null
  end=$(now)
  annotations=$((annotated))
  echo "export $format:$(printf '%*s' $((14 - ${#format})) '')$(rate "$annotations" "$start" "$end") annotations, peak RSS $(peak_rss_mb "$work/export.time"), $(du -m "$work/out.$format" | cut -f1) MB written"
done
