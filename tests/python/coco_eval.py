#!/usr/bin/env python3
"""Judges a Gloss COCO export against the COCO file it was imported from.

Usage: coco_eval.py SOURCE.json EXPORT.json

Both files are loaded with pycocotools. Gloss numbers images and categories
its own way (as Label Studio does), so the export's image ids are mapped to
the source's by `file_name` and its category ids by `name`. The export's
annotations then become detection results with score 1.0 and COCOeval scores
them against the source, once for `bbox` and once for `segm`. An export that
kept every shape has an AP of exactly 1.0 for both.

A source annotation without a polygon (`segmentation` missing or `[]`) is a
box: for `segm` it is given its box as a 4-corner polygon, which is what a
box is as a mask (Gloss exports boxes that way too).

Exits 0 when both APs are 1.0 (within 1e-9) and the export has as many
images and annotations as the source; 1 otherwise, saying why.
"""

import copy
import json
import sys
from collections import Counter

from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

TOLERANCE = 1e-9


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def coco_of(dataset):
    """A pycocotools COCO over an in-memory dataset (COCO() only reads files)."""
    coco = COCO()
    coco.dataset = dataset
    coco.createIndex()
    return coco


def box_polygon(bbox):
    x, y, w, h = bbox
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def with_box_polygons(dataset):
    """The dataset with each polygon-less annotation given its box as a polygon."""
    dataset = copy.deepcopy(dataset)
    for ann in dataset["annotations"]:
        if not ann.get("segmentation"):
            ann["segmentation"] = box_polygon(ann["bbox"])
    return dataset


def remap(source, export, problems):
    """The export's annotations as detection results in the source's ids."""
    image_ids = {}
    source_by_name = {image["file_name"]: image for image in source["images"]}
    for image in export["images"]:
        name = image["file_name"]
        if name not in source_by_name:
            problems.append(f"exported image {name!r} is not in the source")
            continue
        original = source_by_name[name]
        if (image["width"], image["height"]) != (original["width"], original["height"]):
            problems.append(
                f"image {name!r}: exported size {image['width']}x{image['height']}, "
                f"source {original['width']}x{original['height']}"
            )
        image_ids[image["id"]] = original["id"]
    duplicates = [n for n, c in Counter(i["file_name"] for i in export["images"]).items() if c > 1]
    if duplicates:
        problems.append(f"exported file_names repeat: {duplicates}")

    category_ids = {}
    source_categories = {c["name"]: c["id"] for c in source["categories"]}
    for category in export["categories"]:
        if category["name"] in source_categories:
            category_ids[category["id"]] = source_categories[category["name"]]

    results = []
    for ann in export["annotations"]:
        if ann["image_id"] not in image_ids:
            problems.append(f"exported annotation {ann['id']}: unknown image_id {ann['image_id']}")
            continue
        if ann["category_id"] not in category_ids:
            problems.append(
                f"exported annotation {ann['id']}: category_id {ann['category_id']} "
                "names no source category"
            )
            continue
        results.append(
            {
                "image_id": image_ids[ann["image_id"]],
                "category_id": category_ids[ann["category_id"]],
                "bbox": ann["bbox"],
                "segmentation": ann["segmentation"],
                "area": ann["area"],
                "score": 1.0,
            }
        )
    return results


def evaluate(ground_truth, results, iou_type):
    """COCOeval's stats for one IoU type; stats[0] is AP at IoU .50:.95."""
    if iou_type == "bbox":
        # loadRes takes `bbox` over `segmentation` when both are there, and
        # derives the other: give each type only its own field.
        detections = [{k: r[k] for k in ("image_id", "category_id", "bbox", "score")} for r in results]
    else:
        # loadRes reads segmentation results as RLE masks only.
        detections = []
        for r in results:
            image = ground_truth.imgs[r["image_id"]]
            rle = mask_utils.merge(mask_utils.frPyObjects(r["segmentation"], image["height"], image["width"]))
            detections.append(
                {"image_id": r["image_id"], "category_id": r["category_id"], "segmentation": rle, "score": r["score"]}
            )
    print(f"\n--- {iou_type} ---", flush=True)
    if not detections:
        print("no detections")
        return [0.0] * 12
    evaluation = COCOeval(ground_truth, ground_truth.loadRes(detections), iou_type)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return list(evaluation.stats)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source = load(argv[1])
    export = load(argv[2])
    problems = []

    counts = {
        "images": (len(source["images"]), len(export["images"])),
        "annotations": (len(source["annotations"]), len(export["annotations"])),
    }
    for what, (expected, found) in counts.items():
        print(f"{what}: source {expected}, export {found}")
        if expected != found:
            problems.append(f"the export has {found} {what}, the source {expected}")

    results = remap(source, export, problems)
    stats = {
        "bbox": evaluate(coco_of(copy.deepcopy(source)), results, "bbox"),
        "segm": evaluate(coco_of(with_box_polygons(source)), results, "segm"),
    }
    print()
    for iou_type, values in stats.items():
        print(f"{iou_type}: AP={values[0]:.6f} AP50={values[1]:.6f} AP75={values[2]:.6f} AR100={values[8]:.6f}")
        if abs(values[0] - 1.0) > TOLERANCE:
            problems.append(f"{iou_type} AP is {float(values[0])!r}, not 1.0")

    if problems:
        print("\nFAILED:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("OK: the export matches the source")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
