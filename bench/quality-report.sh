#!/usr/bin/env bash
# The project quality report (the dashboard's one request) on a big project.
# Usage: bench/quality-report.sh [PATH_TO_GLOSS] [TASKS] [ANNOTATORS] [REPETITIONS]
# Not a test: it prints numbers for docs/performance.md and never fails on slowness.
# Target (issue 8): a project with 1,000,000 annotations loads in at most 1 s.
#
# On a fresh SQLite data folder it creates ANNOTATORS accounts and a project
# with one single-choice control of 5 classes, imports TASKS tasks each
# annotated by every annotator (an annotator agrees with a task's true class
# 80% of the time, with a fixed seed), starts `gloss serve` on 127.0.0.1 and
# times GET /api/v1/projects/{id}/quality: the first request right after
# the server started on the fresh import (which waits for the server's
# start-up read of every annotation), the first one right after a restart
# (the answers the first server saved are read back), the first one 5 s
# after a start, REPETITIONS more with nothing changed, and REPETITIONS
# after one annotation was changed each time (which reads that task again),
# and REPETITIONS after one task was deleted each time.
set -euo pipefail
gloss=$(realpath "${1:-target/debug/gloss}")
tasks=${2:-100000}
annotators=${3:-10}
reps=${4:-5}
[ -x "$gloss" ] || { echo "no gloss binary at $gloss (cargo build -p gloss)" >&2; exit 2; }
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "${GLOSS_BENCH_KEEP:-}" ] && echo "kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
data=$work/data
g() { "$gloss" --data "$data" --log warn "$@"; }

cat > "$work/config.xml" <<'XML'
<View>
  <Text name="text" value="$text"/>
  <Choices name="class" toName="text" choice="single">
    <Choice value="a"/><Choice value="b"/><Choice value="c"/><Choice value="d"/><Choice value="e"/>
  </Choices>
</View>
XML
echo "binary: $gloss"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"
project=$(g project create --name "quality bench" --config "$work/config.xml")
for i in $(seq 1 "$annotators"); do
  GLOSS_PASSWORD="bench password $i" g user create --username "ann$i" --role annotator >/dev/null
done
python3 - "$work/tasks.jsonl" "$tasks" "$annotators" <<'PY'
import json, random, sys
path, tasks, annotators = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(8)
classes = "abcde"
with open(path, "w") as out:
    for t in range(tasks):
        truth = rng.choice(classes)
        annotations = []
        for a in range(1, annotators + 1):
            label = truth if rng.random() < 0.8 else rng.choice(classes)
            annotations.append({"completed_by": {"username": f"ann{a}"}, "lead_time": 12,
                "result": [{"id": "c", "from_name": "class", "to_name": "text", "type": "choices",
                            "value": {"choices": [label]}}]})
        out.write(json.dumps({"data": {"text": f"task {t}"}, "annotations": annotations}) + "\n")
PY
start=$(date +%s.%N)
g import --project "$project" "$work/tasks.jsonl" >/dev/null
end=$(date +%s.%N)
echo "import: $tasks tasks × $annotators annotations in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$start" "$end")"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
serve() {
  GLOSS_ADMIN_PASSWORD=bench-password-123 "$gloss" --data "$data" --log warn serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  server_pid=$!
  until curl -sf -o /dev/null "$base/api/v1/openapi.json"; do sleep 0.05; done
  token=$(curl -sf -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"username": "admin", "password": "bench-password-123"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
}
report() { curl -sf -o "$work/report.json" -w '%{time_total}' -H "Authorization: Bearer $token" "$base/api/v1/projects/$project/quality"; }
# At start the server reads the answers of the projects worked on last: a
# request at once waits for that; one a few seconds later does not.
serve
cold=$(report)
sleep 2 # the server saves the answers it read, in the background
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
serve
restarted=$(report)
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
serve
sleep 5
settled=$(report)
times=()
for i in $(seq 1 "$reps"); do times+=("$(report)"); done
# One annotation changed (as a submit or an update would): the next report
# reads that task again, not the project.
changes=()
for i in $(seq 1 "$reps"); do
  version=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/annotations/$i" | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
  curl -sf -o /dev/null -X PUT "$base/api/v1/annotations/$i" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"version\": $version, \"result\": [{\"id\": \"c\", \"from_name\": \"class\", \"to_name\": \"text\", \"type\": \"choices\", \"value\": {\"choices\": [\"e\"]}}]}"
  changes+=("$(report)")
done
# One task deleted (a deletion changes no annotation's time): the report
# compares each task's counts and drops that task's answers.
deletions=()
for i in $(seq 1 "$reps"); do
  task=$((1000 + i))
  curl -sf -o /dev/null -X POST "$base/api/v1/projects/$project/tasks/bulk" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"action\": \"delete\", \"tasks\": [$task]}"
  deletions+=("$(report)")
done
python3 - "$work/report.json" "$cold" "${times[*]}" "${changes[*]}" "$settled" "$restarted" "${deletions[*]}" <<'PY'
import json, statistics, sys
report = json.load(open(sys.argv[1]))
cold = float(sys.argv[2])
warm = sorted(float(t) for t in sys.argv[3].split())
changed = sorted(float(t) for t in sys.argv[4].split())
settled = float(sys.argv[5])
restarted = float(sys.argv[6])
deleted = sorted(float(t) for t in sys.argv[7].split())
control = report["controls"][0]
print(f"report: {report['annotations']:,} annotations on {report['tasks']:,} tasks; agreement {control['agreement']:.4f}, alpha {control['alpha']:.4f}")
print(f"GET /quality, first, right after the server started (waits for it to read every annotation): {cold * 1000:.0f} ms")
print(f"GET /quality, first, right after a restart (reads the saved answers back): {restarted * 1000:.0f} ms")
print(f"GET /quality, first, 5 s after the server started: {settled * 1000:.0f} ms")
print(f"GET /quality, nothing changed: median {statistics.median(warm) * 1000:.0f} ms, max {warm[-1] * 1000:.0f} ms ({len(warm)} runs)")
print(f"GET /quality, after one annotation changed: median {statistics.median(changed) * 1000:.0f} ms, max {changed[-1] * 1000:.0f} ms ({len(changed)} runs)")
print(f"GET /quality, after one task deleted: median {statistics.median(deleted) * 1000:.0f} ms, max {deleted[-1] * 1000:.0f} ms ({len(deleted)} runs)")
PY
echo "server: peak RSS $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$server_pid/status)"
