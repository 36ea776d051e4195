#!/usr/bin/env python3
"""Helper of bench/datamanager.sh (Python 3 standard library only).

  datamanager.py generate OUT_DIR TASKS FILES
      Writes FILES JSONL files of Label Studio tasks (TASKS in all) into
      OUT_DIR: data {image, city, width, caption}; about 5% of tasks with
      annotations by four annotators (ann1..ann4; one annotation for 4% of
      tasks, two for 1%), about 20% with one scored prediction. Seeded, so
      every run imports the same tasks.

  datamanager.py run --base URL --token T --project P --tasks N
                     --db SQLITE_PATH_OR_POSTGRES_URL
                     --created-window A,B --updated-window A,B [--reps R]
      Times GET /api/v1/projects/P/task-table for every case below (wall time
      of the HTTP request on a keep-alive connection, body read included) and
      prints a table (median / p95 / max over R repetitions after one
      warm-up call), then the same as JSON on the last line.

Cursors are opaque to API clients; this helper follows them as a client
does, and for "middle" and "end" pages it also builds them as the engine
does (base64url of {"s": sort, "v": value, "i": id}) from a row read in the
database (read-only: Python's sqlite3, or psql for PostgreSQL), so that the
page in the middle of a 1,000,000-row table is measured without walking
10,000 pages to it. The "middle page" of a sort order starts 10 rows before
the end of the run of equal sort values around row TASKS/2 (tasks imported
together share their creation time, 95% have no annotation), so that it
reads both the rest of the run and the next values.
"""

import base64
import http.client
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.parse

CITIES = ["Lyon", "Paris", "Nice", "Lille", "Nantes", "Brest", "Metz", "Dijon"]
ADJECTIVES = ["red", "blue", "busy", "quiet", "wet", "sunny", "narrow", "wide"]
THINGS = ["car", "bus", "bicycle", "crossing", "truck", "tram", "van", "scooter"]
PLACES = ["street", "square", "bridge", "avenue", "market", "station"]
ANNOTATORS = [("ann1", 50), ("ann2", 30), ("ann3", 15), ("ann4", 5)]
LABELS = [("Car", 60), ("Person", 25), ("Bicycle", 10), ("Truck", 5)]


def pick(rng, weighted):
    total = sum(weight for _, weight in weighted)
    x = rng.random() * total
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def box(rng, label, prefix):
    return {
        "id": prefix, "from_name": "box", "to_name": "image", "type": "rectanglelabels",
        "original_width": 640, "original_height": 480,
        "value": {"x": round(rng.random() * 50, 2), "y": round(rng.random() * 50, 2),
                  "width": 20, "height": 15, "rotation": 0, "rectanglelabels": [label]},
    }


def generate(out_dir, tasks, files):
    rng = random.Random(20261204)
    per_file = (tasks + files - 1) // files
    stats = {"annotated": 0, "completed": 0, "predicted": 0}
    for f in range(files):
        with open(f"{out_dir}/tasks-{f:03}.jsonl", "w", encoding="utf-8") as out:
            for i in range(f * per_file, min(tasks, (f + 1) * per_file)):
                data = {
                    "image": f"/img/{i}.jpg",
                    "city": CITIES[rng.randrange(len(CITIES))],
                    "width": rng.randrange(320, 4097),
                    "caption": f"a {rng.choice(ADJECTIVES)} {rng.choice(THINGS)} "
                               f"on the {rng.choice(PLACES)}, frame {i}",
                }
                # A few captions in other scripts, for `contains` of one or
                # two such characters (no draws of rng: the rest stays as it was).
                if i % 10007 == 0:
                    data["caption"] += ", 東京駅"
                elif i % 10009 == 0:
                    data["caption"] += ", Zürich"
                # A key in one task of a thousand, none of the first or last
                # hundred, so that it is not indexed ahead: a filter on it
                # makes its index.
                if i % 1000 == 500:
                    data["camera"] = f"C{i // 1000 % 50}"
                task = {"data": data}
                r = rng.random()
                if r < 0.05:
                    stats["annotated"] += 1
                    count = 2 if r < 0.01 else 1
                    stats["completed"] += count == 2
                    people = []
                    while len(people) < count:
                        who = pick(rng, ANNOTATORS)
                        if who not in people:
                            people.append(who)
                    task["annotations"] = [
                        {"completed_by": who, "lead_time": round(rng.random() * 30, 1),
                         "result": [box(rng, pick(rng, LABELS), f"a{i}_{n}")]}
                        for n, who in enumerate(people)
                    ]
                if rng.random() < 0.2:
                    stats["predicted"] += 1
                    task["predictions"] = [{
                        "model_version": "detector-v3", "score": round(rng.random(), 4),
                        "result": [box(rng, pick(rng, LABELS), f"p{i}")],
                    }]
                out.write(json.dumps(task, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{tasks} tasks in {files} files: {stats['annotated']} annotated "
          f"({stats['completed']} by two annotators), {stats['predicted']} with a prediction")


# --- timing -----------------------------------------------------------------

class Client:
    def __init__(self, base, token):
        url = urllib.parse.urlparse(base)
        self.host, self.port = url.hostname, url.port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn = None

    def get(self, path):
        """(seconds, status, body bytes) of one GET on the kept-alive connection."""
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
                self.conn.connect()
            try:
                start = time.perf_counter()
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                return time.perf_counter() - start, response.status, body
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def summary(samples):
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, max(0, int(round(0.95 * len(ms))) - 1))]
    return {"n": len(ms), "median": statistics.median(ms), "p95": p95, "max": ms[-1]}


def cursor(sort, value, task_id):
    text = json.dumps({"s": sort, "v": value, "i": task_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class Database:
    """Read-only access to the server's database, for building cursors."""

    def __init__(self, target):
        self.postgres = target.startswith("postgres")
        self.target = target
        if not self.postgres:
            import sqlite3
            self.conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)

    def one(self, sql, params=()):
        if not self.postgres:
            return self.conn.execute(sql, params).fetchone()
        for p in params:  # only integers are passed
            sql = sql.replace("?", str(int(p)), 1)
        out = subprocess.run(["psql", "-XAt", "-F", "\t", self.target, "-c", sql],
                             check=True, capture_output=True, text=True).stdout.rstrip("\n")
        return tuple(out.split("\t")) if out else None

    def sort_expr(self, key):
        """(expression, how the engine reads the value back) for a sort key."""
        columns = {"id": "id", "created": "created_at", "updated": "updated_at",
                   "annotation_count": "annotation_count", "prediction_score": "prediction_score"}
        if key in columns:
            kind = float if key == "prediction_score" else int
            return columns[key], kind
        field = key.removeprefix("data.")
        if self.postgres:
            return f"(CAST(data AS jsonb) -> '{field}')", "jsontext"
        return f"json_extract(data, '$.\"{field}\"')", "native"

    def literal(self, value, kind):
        """A value read by `cursor_at`'s query, written back into SQL."""
        if value is None:
            return None
        if kind in (int, float) or (kind == "native" and not isinstance(value, str)):
            return repr(value)
        text = "'" + str(value).replace("'", "''") + "'"
        return f"CAST({text} AS jsonb)" if kind == "jsontext" else text

    def cursor_at(self, project, sort, offset, straddle=False):
        """The cursor after the row at `offset` in `sort` order (NULLs first
        ascending, last descending, as the table orders them). With
        `straddle`, moved to 10 rows before the end of the run of rows that
        share that row's sort value, so that the next page reads the end of
        the run and then the next values."""
        descending = sort.startswith("-")
        key = sort.lstrip("-")
        expr, kind = self.sort_expr(key)
        direction = "DESC NULLS LAST" if descending else "ASC NULLS FIRST"
        iddir, backwards = ("DESC", "ASC") if descending else ("ASC", "DESC")
        selected = f"CAST({expr} AS TEXT)" if kind == "jsontext" else expr
        value, task_id = self.one(f"SELECT {selected}, id FROM tasks WHERE project_id = ? "
                                  f"ORDER BY {expr} {direction}, id {iddir} LIMIT 1 OFFSET ?",
                                  (project, offset))
        if value == "":
            value = None
        if straddle and key != "id":
            literal = self.literal(value, kind)
            same = f"{expr} IS NULL" if literal is None else f"{expr} = {literal}"
            row = self.one(f"SELECT id FROM tasks WHERE project_id = ? AND {same} "
                           f"ORDER BY id {backwards} LIMIT 1 OFFSET 10", (project,))
            if row and (int(row[0]) > int(task_id)) != descending:
                task_id = row[0]
        if value is None:
            pass
        elif kind is int:
            value = int(value)
        elif kind is float:
            value = float(value)
        return cursor(sort, value, int(task_id))


def run(args):
    client = Client(args["base"], args["token"])
    project = int(args["project"])
    reps = int(args.get("reps", 20))
    tasks = int(args["tasks"])
    db = Database(args["db"])
    created = args["created-window"].split(",")
    updated = args["updated-window"].split(",")
    results = []

    def path(params):
        return f"/api/v1/projects/{project}/task-table?" + urllib.parse.urlencode(params)

    def call(params):
        seconds, status, body = client.get(path(params))
        if status != 200:
            raise SystemExit(f"HTTP {status} for {params}: {body[:300]!r}")
        return seconds, json.loads(body)

    def measure(group, name, params, note=""):
        first, page = call(params)
        n = reps if first < 0.25 else max(3, reps // 4)
        samples = [call(params)[0] for _ in range(n)]
        row = {"group": group, "case": name, "rows": len(page["items"]),
               "total": page.get("total"), "first_ms": first * 1000, "note": note}
        row.update(summary(samples))
        results.append(row)
        print_row(row)
        return page

    def walk(group, name, params, pages):
        """Follows `next` for `pages` pages; every call timed once."""
        samples, page = [], None
        after = None
        for _ in range(pages):
            p = dict(params)
            if after:
                p["after"] = after
            seconds, page = call(p)
            samples.append(seconds)
            if not page["next"]:
                break  # the end (small runs): the last cursor is kept
            after = page["next"]
        row = {"group": group, "case": name, "rows": len(page["items"]), "total": None,
               "first_ms": samples[0] * 1000, "note": f"{len(samples)} pages, each timed once"}
        row.update(summary(samples))
        results.append(row)
        print_row(row)
        return after

    def flt(**filter_):
        return {"filter": json.dumps(filter_, separators=(",", ":"))}

    print_header()
    # Unsorted (by id).
    measure("pages", "first page", {})
    after = walk("pages", "pages 1-1000 by following next", {}, 1000)
    measure("pages", "page 1001 (cursor followed)", {"after": after})
    measure("pages", "middle page (row 500,000)", {"after": db.cursor_at(project, "id", tasks // 2)})
    measure("pages", "last page but one (row N-100)", {"after": db.cursor_at(project, "id", tasks - 100)})
    measure("pages", "first page, limit 500", {"limit": 500})

    # Filters before any sort. (Until 2026-12-06 the first sort by a data
    # field made its index: these ran without one. The server now makes them
    # after an import and at its start.)
    measure("filter", "data city = Lyon (before any sort)", flt(data=[{"key": "city", "op": "eq", "value": "Lyon"}]))
    measure("filter", "data width >= 4000 (before any sort)", flt(data=[{"key": "width", "op": "gte", "value": 4000}]))
    measure("filter", "created in the 5th import (before any sort)",
            {"created_after": created[0], "created_before": created[1]})
    measure("count", "created in the 5th import (before any sort), count=true",
            {"created_after": created[0], "created_before": created[1], "count": "true"})

    # Sorts: first page, a page reached by following 20 cursors, the middle
    # and the end. The first sort by a data field or by creation time is
    # reported on its own: it used to build the sort's index (since
    # 2026-12-06 a migration makes the creation-time index, and the server
    # makes a project's data-field indexes after an import or at its start,
    # before the cases run), so a slow first call would show.
    for sort in ["created", "-created", "-updated", "updated", "annotation_count", "-annotation_count",
                 "prediction_score", "-prediction_score", "data.city", "-data.city",
                 "data.width", "-data.width"]:
        if sort.startswith("data.") or sort == "created":
            seconds, _ = call({"sort": sort})
            row = {"group": "sort", "case": f"{sort}: first call", "rows": 50,
                   "total": None, "first_ms": seconds * 1000, "note": "once per sort key"}
            row.update(summary([seconds]))
            results.append(row)
            print_row(row)
        measure("sort", f"{sort}: first page", {"sort": sort})
        deep = walk("sort", f"{sort}: pages 1-20 followed", {"sort": sort}, 20)
        measure("sort", f"{sort}: page 21", {"sort": sort, "after": deep})
        measure("sort", f"{sort}: middle page", {"sort": sort, "after": db.cursor_at(project, sort, tasks // 2, True)})
        measure("sort", f"{sort}: last page but one", {"sort": sort, "after": db.cursor_at(project, sort, tasks - 100)})

    middle_id = db.cursor_at(project, "id", tasks // 2)
    filters = [
        ("status new", {"status": "new"}),
        ("status in_progress", {"status": "in_progress"}),
        ("status completed", {"status": "completed"}),
        ("annotator ann1", {"annotator": "ann1"}),
        ("annotator ann4 (rare)", {"annotator": "ann4"}),
        ("label Car", {"label": "Car"}),
        ("label Truck (rare)", {"label": "Truck"}),
        ("prediction score 0.90-0.95", {"prediction_score_min": 0.9, "prediction_score_max": 0.95}),
        ("prediction score >= 0.5", {"prediction_score_min": 0.5}),
        ("created in the 5th import", {"created_after": created[0], "created_before": created[1]}),
        ("updated in the 5th import", {"updated_after": updated[0], "updated_before": updated[1]}),
        ("data city = Lyon", flt(data=[{"key": "city", "op": "eq", "value": "Lyon"}])),
        ("data width = 1000", flt(data=[{"key": "width", "op": "eq", "value": 1000}])),
        ("data width >= 4000", flt(data=[{"key": "width", "op": "gte", "value": 4000}])),
        ("data caption contains 'bicycle'", flt(data=[{"key": "caption", "op": "contains", "value": "bicycle"}])),
        ("data caption contains 'frame 99999'", flt(data=[{"key": "caption", "op": "contains", "value": "frame 99999"}])),
        ("data city = Atlantis (no match)", flt(data=[{"key": "city", "op": "eq", "value": "Atlantis"}])),
        ("data city = null (no match)", flt(data=[{"key": "city", "op": "eq", "value": None}])),
        ("data width > 4090 (rare)", flt(data=[{"key": "width", "op": "gt", "value": 4090}])),
        ("data width > 5000 (no match)", flt(data=[{"key": "width", "op": "gt", "value": 5000}])),
        ("data caption contains 'zq' (two letters, no match)",
         flt(data=[{"key": "caption", "op": "contains", "value": "zq"}])),
        ("data caption contains 'a' (one letter, in every task)",
         flt(data=[{"key": "caption", "op": "contains", "value": "a"}])),
        ("data caption contains 'e,' (two letters, common)",
         flt(data=[{"key": "caption", "op": "contains", "value": "e,"}])),
        ("data image contains '7.' (two letters, 10%)",
         flt(data=[{"key": "image", "op": "contains", "value": "7."}])),
        ("data caption contains '駅' (one letter without case, 0.01%)",
         flt(data=[{"key": "caption", "op": "contains", "value": "駅"}])),
        ("data caption contains '大阪' (two letters without case, no match)",
         flt(data=[{"key": "caption", "op": "contains", "value": "大阪"}])),
        ("data caption contains 'ü' (one letter with case, 0.01%)",
         flt(data=[{"key": "caption", "op": "contains", "value": "ü"}])),
        ("data caption contains a line break (escaped when stored, no match)",
         flt(data=[{"key": "caption", "op": "contains", "value": "\n"}])),
        ("data caption contains '\\' (escaped when stored, no match)",
         flt(data=[{"key": "caption", "op": "contains", "value": "\\"}])),
        ("data caption contains '\"' (a quote, escaped when stored, no match)",
         flt(data=[{"key": "caption", "op": "contains", "value": "\""}])),
        ("data caption contains 'd\"' (escaped when stored, no match)",
         flt(data=[{"key": "caption", "op": "contains", "value": "d\""}])),
        ("data camera = C7 (a key not indexed ahead, 0.002%)",
         flt(data=[{"key": "camera", "op": "eq", "value": "C7"}])),
        ("status completed + label Truck", {"status": "completed", "label": "Truck"}),
        ("annotator ann2 + label Bicycle", {"annotator": "ann2", "label": "Bicycle"}),
        ("city Lyon + width 1000-1100", flt(data=[{"key": "city", "op": "eq", "value": "Lyon"},
                                                  {"key": "width", "op": "gte", "value": 1000},
                                                  {"key": "width", "op": "lte", "value": 1100}])),
    ]
    for name, params in filters:
        measure("filter", f"{name}: first page", params)
    for name, params in filters[:8]:
        measure("filter", f"{name}: middle page", dict(params, after=middle_id))

    combos = [
        ("status completed, sort -prediction_score", {"status": "completed", "sort": "-prediction_score"}),
        ("status new, sort -updated", {"status": "new", "sort": "-updated"}),
        ("label Car, sort data.city", {"label": "Car", "sort": "data.city"}),
        ("label Truck, sort -data.width", {"label": "Truck", "sort": "-data.width"}),
        ("annotator ann3, sort annotation_count", {"annotator": "ann3", "sort": "annotation_count"}),
        ("score 0.90-0.95, sort prediction_score", {"prediction_score_min": 0.9, "prediction_score_max": 0.95,
                                                    "sort": "prediction_score"}),
        ("score 0.90-0.95, sort data.width", {"prediction_score_min": 0.9, "prediction_score_max": 0.95,
                                              "sort": "data.width"}),
        ("city Lyon, sort -updated", dict(flt(data=[{"key": "city", "op": "eq", "value": "Lyon"}]), sort="-updated")),
        ("city Lyon, sort data.width", dict(flt(data=[{"key": "city", "op": "eq", "value": "Lyon"}]), sort="data.width")),
        ("width > 4090, sort -updated", dict(flt(data=[{"key": "width", "op": "gt", "value": 4090}]), sort="-updated")),
        ("caption contains 'tram', sort -data.width",
         dict(flt(data=[{"key": "caption", "op": "contains", "value": "tram"}]), sort="-data.width")),
        ("created in the 5th import, sort -updated",
         {"created_after": created[0], "created_before": created[1], "sort": "-updated"}),
        ("updated in the 5th import, sort data.city",
         {"updated_after": updated[0], "updated_before": updated[1], "sort": "data.city"}),
    ]
    for name, params in combos:
        measure("filter+sort", f"{name}: first page", params)

    counted = [
        ("no filter", {}),
        ("status completed", {"status": "completed"}),
        ("annotator ann1", {"annotator": "ann1"}),
        ("label Truck", {"label": "Truck"}),
        ("prediction score 0.90-0.95", {"prediction_score_min": 0.9, "prediction_score_max": 0.95}),
        ("created in the 5th import", {"created_after": created[0], "created_before": created[1]}),
        ("data city = Lyon", flt(data=[{"key": "city", "op": "eq", "value": "Lyon"}])),
        ("data caption contains 'bicycle'", flt(data=[{"key": "caption", "op": "contains", "value": "bicycle"}])),
        ("data width > 4090", flt(data=[{"key": "width", "op": "gt", "value": 4090}])),
    ]
    for name, params in counted:
        measure("count", f"{name}: first page with count=true", dict(params, count="true"))

    print("JSON " + json.dumps(results))


def print_header():
    print(f"{'group':<12} {'case':<58} {'rows':>4} {'total':>8} {'first':>9} "
          f"{'median':>9} {'p95':>9} {'max':>9}  (ms)")


def print_row(row):
    total = "" if row["total"] is None else str(row["total"])
    flag = "  > 50 ms" if row["median"] > 50 or row["p95"] > 50 else ""
    print(f"{row['group']:<12} {row['case'][:58]:<58} {row['rows']:>4} {total:>8} "
          f"{row['first_ms']:>9.1f} {row['median']:>9.1f} {row['p95']:>9.1f} {row['max']:>9.1f}"
          f"{flag}", flush=True)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        args, rest = {}, sys.argv[2:]
        while rest:
            name, value, rest = rest[0].removeprefix("--"), rest[1], rest[2:]
            args[name] = value
        run(args)
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
