#!/usr/bin/env python3
"""Judges a dataset folder (a Gloss VOC or CVAT export) by importing it with
datumaro and comparing what datumaro sees with what the dataset must hold.

Usage: datumaro_check.py FORMAT EXPORT_DIR EXPECTED.json

FORMAT is a datumaro format name (`voc`, `cvat`); the folder is read with
`datumaro.Dataset.import_from(EXPORT_DIR, FORMAT, **import_options)`.

EXPECTED.json, coordinates in pixels:

    {
      "labels": ["background", "car", ...],      # the label categories, any order
      "import_options": {"coordinate_mode": "voc-one-based"},   # optional
      "items": {
        "a": {                                   # item id: the image's file stem
          "subset": "train",                     # optional
          "width": 200, "height": 100,           # optional
          "shapes": [
            {"type": "bbox", "label": "car", "bbox": [x, y, w, h]},
            {"type": "rotated_bbox", "label": "car", "rbox": [cx, cy, w, h, degrees]},
            {"type": "polygon", "label": "road", "points": [x1, y1, x2, y2, ...]},
            {"type": "polyline", "label": "lane", "points": [...]},
            {"type": "points", "label": "nose", "points": [x, y]},
            {"type": "mask", "label": "road", "pixels": 1234},
            {"type": "mask", "label": "road", "pixels": 3, "rows": [".#.", "##."]},
            {"type": "label", "label": "cat"}
          ]
        }
      }
    }

The item count, each item's subset and size, the label categories, and the
shapes of each item are compared: shapes are paired by type and label, each
expected shape with the unpaired actual one closest to it, and coordinates
must agree within 0.01 px (rotations within 0.01 degrees); masks must have
exactly the expected number of pixels, and, where `rows` are given, exactly
those pixels (one string per image row, `#` set and `.` not).

Exits 0 when everything agrees, printing the counts and the largest
coordinate difference; 1 with one line per disagreement otherwise; 2 on
wrong usage.

The Rust tests of gloss-formats (voc, cvat, yolo, video_tracks) write
Gloss's exports of small samples with their expected.json and run this
script with the python GLOSS_TEST_PYTHON names (scripts/python-env.sh
installs datumaro from tests/python/requirements.txt). To keep the folders
for a look by hand, set GLOSS_DATUMARO_OUT to a folder outside the clone:

    GLOSS_DATUMARO_OUT="$OUT" GLOSS_TEST_PYTHON="$(scripts/python-env.sh)" \
        cargo test -p gloss-formats --test voc --test cvat --test yolo --test video_tracks
    "$(scripts/python-env.sh)" tests/python/datumaro_check.py voc "$OUT/voc" "$OUT/voc/expected.json"

datumaro_fixtures.py makes the reverse fixtures (datumaro's exports that
Gloss's readers are tested on).
"""

import json
import math
import sys

TOLERANCE = 0.01


def coordinates(shape):
    """The numbers of a shape (expected or actual) that must agree."""
    kind = shape["type"]
    if kind == "bbox":
        return list(shape["bbox"])
    if kind == "rotated_bbox":
        return list(shape["rbox"])
    if kind in ("polygon", "polyline", "points"):
        return list(shape["points"])
    if kind == "mask":
        return [shape["pixels"]]
    return []


def difference(expected, actual):
    """The largest difference between two shapes' numbers; inf when their
    counts differ. A rotation is compared modulo 360 degrees."""
    a, b = coordinates(expected), coordinates(actual)
    if len(a) != len(b):
        return math.inf
    if "rows" in expected and expected["rows"] != actual.get("rows"):
        return math.inf
    worst = 0.0
    for index, (x, y) in enumerate(zip(a, b)):
        d = abs(float(x) - float(y))
        if expected["type"] == "rotated_bbox" and index == 4:
            d = min(d % 360.0, 360.0 - d % 360.0)
        worst = max(worst, d)
    return worst


def actual_shapes(item, label_names):
    from datumaro.components.annotation import AnnotationType

    shapes = []
    for ann in item.annotations:
        label = getattr(ann, "label", None)
        shape = {"label": label_names[label] if label is not None else None}
        if ann.type == AnnotationType.bbox:
            shape.update(type="bbox", bbox=[ann.x, ann.y, ann.w, ann.h])
        elif ann.type == AnnotationType.rotated_bbox:
            shape.update(type="rotated_bbox", rbox=[ann.cx, ann.cy, ann.w, ann.h, ann.r])
        elif ann.type == AnnotationType.polygon:
            shape.update(type="polygon", points=list(ann.points))
        elif ann.type == AnnotationType.polyline:
            shape.update(type="polyline", points=list(ann.points))
        elif ann.type == AnnotationType.points:
            shape.update(type="points", points=list(ann.points))
        elif ann.type == AnnotationType.mask:
            rows = ["".join("#" if pixel else "." for pixel in row) for row in ann.image]
            shape.update(type="mask", pixels=int(ann.image.astype(bool).sum()), rows=rows)
        elif ann.type == AnnotationType.label:
            shape.update(type="label")
        else:
            shape.update(type=ann.type.name)
        shapes.append(shape)
    return shapes


def describe(shape):
    numbers = coordinates(shape)
    text = f"{shape['type']} {shape.get('label')!r}"
    text = f"{text} {numbers}" if numbers else text
    if "rows" in shape:
        text += " with pixels " + " ".join(shape["rows"])
    return text


def check(fmt, folder, expected):
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType

    dataset = dm.Dataset.import_from(folder, fmt, **expected.get("import_options", {}))
    label_names = [c.name for c in dataset.categories()[AnnotationType.label].items]

    problems = []
    if sorted(set(label_names)) != sorted(set(expected["labels"])):
        problems.append(f"labels: datumaro sees {sorted(set(label_names))}, expected {sorted(expected['labels'])}")

    items = {item.id: item for item in dataset}
    wanted = expected["items"]
    if len(items) != len(wanted):
        problems.append(f"items: datumaro sees {len(items)} ({sorted(items)}), expected {len(wanted)} ({sorted(wanted)})")

    shape_count = 0
    worst = 0.0
    for item_id, want in sorted(wanted.items()):
        item = items.get(item_id)
        if item is None:
            problems.append(f"item {item_id!r}: missing")
            continue
        if "subset" in want and item.subset != want["subset"]:
            problems.append(f"item {item_id!r}: subset {item.subset!r}, expected {want['subset']!r}")
        if "width" in want and item.media is not None and item.media.has_size:
            height, width = item.media.size
            if (width, height) != (want["width"], want["height"]):
                problems.append(
                    f"item {item_id!r}: size {width}x{height}, expected {want['width']}x{want['height']}"
                )
        actual = actual_shapes(item, label_names)
        shape_count += len(actual)
        if len(actual) != len(want["shapes"]):
            problems.append(f"item {item_id!r}: {len(actual)} shapes, expected {len(want['shapes'])}")
        unpaired = list(actual)
        for shape in want["shapes"]:
            candidates = [
                (difference(shape, other), index)
                for index, other in enumerate(unpaired)
                if other["type"] == shape["type"] and other["label"] == shape["label"]
            ]
            if not candidates:
                problems.append(f"item {item_id!r}: no {describe(shape)}")
                continue
            diff, index = min(candidates)
            other = unpaired.pop(index)
            limit = 0 if shape["type"] == "mask" else TOLERANCE
            if diff > limit:
                problems.append(
                    f"item {item_id!r}: {describe(shape)} came back as {describe(other)} (off by {diff:g})"
                )
            elif math.isfinite(diff) and shape["type"] != "mask":
                worst = max(worst, diff)
        for other in unpaired:
            problems.append(f"item {item_id!r}: unexpected {describe(other)}")

    summary = (
        f"{fmt}: {len(items)} items, {len(label_names)} labels, {shape_count} shapes; "
        f"largest coordinate difference {worst:.6f} px"
    )
    return problems, summary


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    _, fmt, folder, expected_path = argv
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    try:
        problems, summary = check(fmt, folder, expected)
    except Exception as error:  # datumaro's own errors say what it could not read
        print(f"datumaro could not import {folder} as {fmt}: {type(error).__name__}: {error}")
        # Datumaro wraps the reason; say it too.
        cause = error.__cause__
        while cause is not None:
            print(f"  because {type(cause).__name__}: {cause}")
            cause = cause.__cause__
        return 1
    print(summary)
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
