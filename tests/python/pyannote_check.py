#!/usr/bin/env python3
"""Judges a Gloss RTTM export with pyannote.

Usage: pyannote_check.py EXPORT.rttm EXPECTED.json

Loads the RTTM with pyannote.database's reader and compares each file's
annotation with EXPECTED.json: an object from file id to a list of
[start, end, speaker] segments (the annotation Gloss exported). Checks that:
- pyannote reads the same file ids;
- the diarization error rate (pyannote.metrics) of the export against the
  expected segments is 0 for every file;
- the speakers and their total speech time agree.

Exits 0 when everything agrees, 1 with one line per disagreement otherwise,
2 on wrong usage.
"""

import json
import sys
import warnings


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    from pyannote.core import Annotation, Segment
    from pyannote.database.util import load_rttm
    from pyannote.metrics.diarization import DiarizationErrorRate

    exported = load_rttm(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        expected = json.load(f)
    problems = []
    if sorted(exported) != sorted(expected):
        problems.append(f"file ids {sorted(exported)}, expected {sorted(expected)}")
    metric = DiarizationErrorRate()
    for uri, segments in expected.items():
        reference = Annotation(uri=uri)
        for index, (start, end, speaker) in enumerate(segments):
            reference[Segment(start, end), index] = speaker
        hypothesis = exported.get(uri, Annotation(uri=uri))
        der = metric(reference, hypothesis)
        if der != 0:
            problems.append(f"{uri}: diarization error rate {der}, expected 0")
        want = {label: round(reference.label_duration(label), 3) for label in reference.labels()}
        got = {label: round(hypothesis.label_duration(label), 3) for label in hypothesis.labels()}
        if want != got:
            problems.append(f"{uri}: speech time by speaker {got}, expected {want}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
