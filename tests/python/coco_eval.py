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

Keypoint annotations (of categories that list `keypoints`) are judged
apart, by COCOeval's `keypoints` evaluation: every source skeleton must
have an exported one at an object keypoint similarity (OKS) of 1.0, and the
keypoint AP must be 1.0. The shape evaluations then cover only the other
categories.

Exits 0 when every AP is 1.0 (within 1e-9) and the export has as many
images and annotations as the source; 1 otherwise, saying why.
"""

import copy
import json
import sys
from collections import Counter

import numpy as np
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
        result = {
            "image_id": image_ids[ann["image_id"]],
            "category_id": category_ids[ann["category_id"]],
            "bbox": ann["bbox"],
            "segmentation": ann["segmentation"],
            "area": ann["area"],
            "score": 1.0,
        }
        if "keypoints" in ann:
            result["keypoints"] = ann["keypoints"]
        results.append(result)
    return results


def keypoint_category_ids(dataset):
    return {c["id"] for c in dataset["categories"] if c.get("keypoints")}


def judge_keypoints(ground_truth, results, category_ids, problems):
    """COCOeval's keypoint AP per keypoint category, and the best OKS of each source skeleton."""
    stats = [1.0] * 10
    for category in ground_truth.loadCats(sorted(category_ids)):
        category_stats = judge_keypoint_category(ground_truth, results, category, problems)
        if category_stats[0] < stats[0]:
            stats = category_stats
    return stats


def judge_keypoint_category(ground_truth, results, category, problems):
    detections = [
        {k: r[k] for k in ("image_id", "category_id", "keypoints", "score")}
        for r in results
        if r["category_id"] == category["id"]
    ]
    print(f"\n--- keypoints of {category['name']!r} ---", flush=True)
    if not detections:
        problems.append(f"the export has no {category['name']!r} keypoint annotations")
        return [0.0] * 10
    evaluation = COCOeval(ground_truth, ground_truth.loadRes(detections), "keypoints")
    evaluation.params.catIds = [category["id"]]
    # COCO's per-joint sigmas are for its 17 person joints; other skeletons
    # get one sigma for all. With identical points the OKS is 1.0 either way.
    joints = len(category["keypoints"])
    if joints != len(evaluation.params.kpt_oks_sigmas):
        evaluation.params.kpt_oks_sigmas = np.full(joints, 0.05)
    evaluation.evaluate()
    for (image_id, category_id), oks in evaluation.ious.items():
        gts = [g for g in ground_truth.imgToAnns[image_id] if g["category_id"] == category_id and g["num_keypoints"] > 0]
        if not gts:
            continue
        if len(oks) == 0:
            problems.append(f"image {image_id}: no exported skeleton for {len(gts)} source ones")
            continue
        # oks[d][g]: similarity of detection d and ground truth g.
        best = np.asarray(oks).max(axis=0)
        for gt, value in zip(gts, best):
            if abs(value - 1.0) > TOLERANCE:
                problems.append(f"source keypoint annotation {gt['id']}: best OKS {value!r}, not 1.0")
    evaluation.accumulate()
    evaluation.summarize()
    return list(evaluation.stats)


def as_rle(segmentation, height, width):
    """One RLE for polygon rings or an RLE object (compressed or not)."""
    if isinstance(segmentation, dict):
        if isinstance(segmentation["counts"], list):
            return mask_utils.frPyObjects(segmentation, height, width)
        return segmentation
    return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))


def judge_masks(source, results, problems):
    """Every RLE mask of the source must come back pixel for pixel: an
    exported mask of its image and category with an IoU of exactly 1."""
    images = {image["id"]: image for image in source["images"]}
    for ann in source["annotations"]:
        if not isinstance(ann.get("segmentation"), dict):
            continue
        image = images[ann["image_id"]]
        wanted = as_rle(ann["segmentation"], image["height"], image["width"])
        candidates = [
            as_rle(r["segmentation"], image["height"], image["width"])
            for r in results
            if r["image_id"] == ann["image_id"] and r["category_id"] == ann["category_id"]
            and isinstance(r["segmentation"], dict)
        ]
        same = [
            c for c in candidates
            if (mask_utils.decode(c) == mask_utils.decode(wanted)).all()
        ]
        if not same:
            problems.append(f"source mask annotation {ann['id']}: no exported mask has the same pixels")
    print(f"masks compared pixel by pixel: {sum(isinstance(a.get('segmentation'), dict) for a in source['annotations'])}")


def evaluate(ground_truth, results, iou_type, category_ids):
    """COCOeval's stats for one IoU type over some categories; stats[0] is AP at IoU .50:.95."""
    results = [r for r in results if r["category_id"] in category_ids]
    if iou_type == "bbox":
        # loadRes takes `bbox` over `segmentation` when both are there, and
        # derives the other: give each type only its own field.
        detections = [{k: r[k] for k in ("image_id", "category_id", "bbox", "score")} for r in results]
    else:
        # loadRes reads segmentation results as RLE masks only.
        detections = []
        for r in results:
            image = ground_truth.imgs[r["image_id"]]
            rle = as_rle(r["segmentation"], image["height"], image["width"])
            detections.append(
                {"image_id": r["image_id"], "category_id": r["category_id"], "segmentation": rle, "score": r["score"]}
            )
    print(f"\n--- {iou_type} ---", flush=True)
    if not detections:
        print("no detections")
        return [0.0] * 12
    evaluation = COCOeval(ground_truth, ground_truth.loadRes(detections), iou_type)
    evaluation.params.catIds = sorted(category_ids)
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
    keypoint_ids = keypoint_category_ids(source)
    shape_ids = {c["id"] for c in source["categories"]} - keypoint_ids
    stats = {}
    if any(a["category_id"] in shape_ids for a in source["annotations"]):
        stats["bbox"] = evaluate(coco_of(copy.deepcopy(source)), results, "bbox", shape_ids)
        stats["segm"] = evaluate(coco_of(with_box_polygons(source)), results, "segm", shape_ids)
    judge_masks(source, results, problems)
    if keypoint_ids:
        stats["keypoints"] = judge_keypoints(coco_of(copy.deepcopy(source)), results, keypoint_ids, problems)
    print()
    for iou_type, values in stats.items():
        # Shape stats end with AR at 1, 10, 100 detections and by area; keypoint stats have AR at index 5.
        recall = values[8] if len(values) == 12 else values[5]
        print(f"{iou_type}: AP={values[0]:.6f} AP50={values[1]:.6f} AP75={values[2]:.6f} AR={recall:.6f}")
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
