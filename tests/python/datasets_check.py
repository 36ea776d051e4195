#!/usr/bin/env python3
"""Loads a Gloss preference-jsonl export with Hugging Face's `datasets`.

Usage: datasets_check.py EXPORT.jsonl EXPECTED.json

EXPECTED.json: {"rows": N, "conversational": bool, "lines": [each line as
Gloss meant it]}. Checks that `datasets.load_dataset("json", data_files=...)`
gives one train split of N rows with the columns prompt, chosen and rejected
(TRL's preference layout) and Gloss's task_id, annotator, source, strength;
that every row reads back as the line it came from; and, for the
conversational form, that the prompt is a list of {role, content} messages
and chosen / rejected a list of one assistant message.

Exits 0 when everything agrees, 1 with one line per disagreement otherwise,
2 on wrong usage.
"""

import json
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    import datasets

    with open(sys.argv[2], encoding="utf-8") as f:
        expected = json.load(f)
    loaded = datasets.load_dataset("json", data_files=sys.argv[1])
    problems = []
    if list(loaded.keys()) != ["train"]:
        problems.append(f"splits are {list(loaded.keys())}, not ['train']")
    train = loaded["train"]
    columns = ["prompt", "chosen", "rejected", "task_id", "annotator", "source", "strength"]
    if sorted(train.column_names) != sorted(columns):
        problems.append(f"columns are {train.column_names}, not {columns}")
    if train.num_rows != expected["rows"]:
        problems.append(f"{train.num_rows} rows, not {expected['rows']}")
    for index, (row, line) in enumerate(zip(train, expected["lines"])):
        if row != line:
            problems.append(f"row {index} reads {row!r}, not {line!r}")
        if expected["conversational"]:
            prompt_ok = isinstance(row["prompt"], list) and all(
                set(m) == {"role", "content"} for m in row["prompt"]
            )
            answers_ok = all(
                isinstance(row[k], list) and len(row[k]) == 1 and row[k][0]["role"] == "assistant"
                for k in ("chosen", "rejected")
            )
            if not (prompt_ok and answers_ok):
                problems.append(f"row {index} is not TRL's conversational form: {row!r}")
        elif not all(isinstance(row[k], str) for k in ("prompt", "chosen", "rejected")):
            problems.append(f"row {index} is not TRL's standard form: {row!r}")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"datasets {datasets.__version__} loaded {train.num_rows} rows: {train.column_names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
