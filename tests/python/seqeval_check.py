#!/usr/bin/env python3
"""Judges a Gloss CoNLL-2003 export with seqeval.

Usage: seqeval_check.py EXPORT.conll EXPECTED.json

Reads the file as CoNLL-2003 (`-DOCSTART-` lines and blank lines between
sentences, the tag in the last column), with every warning an error, and
checks that:
- seqeval scores the tags against themselves at F1 = 1.0 (it warns on tags
  it cannot read, which fails the check);
- the entities seqeval finds in each sentence are EXPECTED.json's: a list,
  one per sentence in file order, of [label, first token, last token]
  (0-based, inclusive) lists.

Exits 0 when everything agrees, 1 with one line per disagreement otherwise,
2 on wrong usage.
"""

import json
import sys
import warnings


def sentences(path):
    found, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = line.split()
            if not cells or cells[0] == "-DOCSTART-":
                if current:
                    found.append(current)
                current = []
                continue
            current.append(cells[-1])
    if current:
        found.append(current)
    return found


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    warnings.simplefilter("error")
    from seqeval.metrics import f1_score
    from seqeval.metrics.sequence_labeling import get_entities

    tags = sentences(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        expected = json.load(f)
    problems = []
    score = f1_score(tags, tags)
    if score != 1.0:
        problems.append(f"F1 of the tags against themselves is {score}, not 1.0")
    if len(tags) != len(expected):
        problems.append(f"{len(tags)} sentences, expected {len(expected)}")
    for index, (sentence, want) in enumerate(zip(tags, expected)):
        got = [list(entity) for entity in get_entities(sentence)]
        if got != want:
            problems.append(f"sentence {index}: seqeval finds {got}, expected {want}")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    entities = sum(len(e) for e in expected)
    print(f"seqeval: {len(tags)} sentences, {entities} entities, F1 {score}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
