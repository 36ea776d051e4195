#!/usr/bin/env python3
"""Judges `gloss agreement --metric mask-iou` and `--metric oks` against
pycocotools, to 1e-9, item by item.

Usage: objects_check.py GLOSS_BINARY WORK_DIR

Masks: random masks (blobs and noise, several sizes) are encoded with
pycocotools' `mask.encode` and given to Gloss as `brushlabels` results in
COCO RLE. Each item's mask-iou must equal pycocotools' `mask.iou` of the two
annotators' masks, or for items with several labels the mean over labels of
the IoU of each label's masks merged with `mask.merge`.

Keypoints: person skeletons with COCO's 17 joints, some not placed by the
reference, and a candidate that moves each joint. Each item's oks must equal
COCOeval's `computeOks` (the `keypoints` evaluation's ious) with COCO's
sigmas, the reference as ground truth and, as its area, the box around its
placed joints (the scale Gloss documents).

Runs in the consumer checks' venv (`scripts/python-env.sh`). Prints what it
checked and exits 1 on the first disagreement.
"""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

TOLERANCE = 1e-9
GLOSS = sys.argv[1]
WORK = Path(sys.argv[2])
JOINTS = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]


def fail(message):
    print(f"objects_check: {message}")
    sys.exit(1)


def agreement(metric, rows):
    path = WORK / f"{metric}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = subprocess.run(
        [GLOSS, "agreement", "--metric", metric, "--annotators", "ref,cand", str(path)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        fail(f"gloss agreement --metric {metric} failed: {done.stderr}")
    return {entry["item"]: entry["value"] for entry in json.loads(done.stdout)["per_item"]}


def random_mask(rng, height, width):
    """A union of a few rectangles and ellipses, plus sparse noise."""
    mask = np.zeros((height, width), dtype=np.uint8)
    ys, xs = np.mgrid[0:height, 0:width]
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = rng.uniform(0.5, max(1, height / 2)), rng.uniform(0.5, max(1, width / 2))
        if rng.random() < 0.5:
            mask |= (((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1).astype(np.uint8)
        else:
            mask |= ((abs(ys - cy) <= ry) & (abs(xs - cx) <= rx)).astype(np.uint8)
    mask |= (rng.random((height, width)) < 0.02).astype(np.uint8)
    return mask


def encode(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    return rle


def brush(index, label, rle, height, width):
    return {
        "id": f"m{index}", "from_name": "seg", "to_name": "image", "type": "brushlabels",
        "original_width": width, "original_height": height,
        "value": {"format": "coco_rle", "counts": rle["counts"].decode("ascii"),
                  "brushlabels": [label]},
    }


def check_masks(rng):
    rows, expected = [], {}
    for item in range(60):
        height, width = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        labels = ["road"] if item % 3 else ["road", "car"]
        sides = {"ref": [], "cand": []}
        per_label = []
        for label in labels:
            merged = {}
            for side in sides:
                masks = [random_mask(rng, height, width) for _ in range(rng.integers(1, 3))]
                rles = [encode(m) for m in masks]
                for rle in rles:
                    sides[side].append(brush(len(sides[side]), label, rle, height, width))
                merged[side] = mask_utils.merge(rles, intersect=False)
            iou = mask_utils.iou([merged["cand"]], [merged["ref"]], [0])
            per_label.append(float(np.asarray(iou).reshape(-1)[0]))
        expected[str(item)] = sum(per_label) / len(per_label)
        for side, results in sides.items():
            rows.append({"item": str(item), "annotator": side, "result": results})
    got = agreement("mask-iou", rows)
    for item, value in expected.items():
        if abs(got[item] - value) > TOLERANCE:
            fail(f"mask-iou of item {item}: gloss {got[item]!r}, pycocotools {value!r}")
    print(f"objects_check: mask-iou equals pycocotools on {len(expected)} items")


def check_keypoints(rng):
    width, height = 640, 480
    rows, gt_annotations, dt_results = [], [], []
    for item in range(40):
        placed = rng.random(17) < 0.8
        placed[0] = True
        spread = rng.uniform(5, 150)
        centre = rng.uniform([100, 100], [540, 380])
        gt = centre + rng.normal(0, spread, (17, 2))
        dt = gt + rng.normal(0, rng.uniform(0.5, 25), (17, 2))
        occluded = rng.random(17) < 0.2
        ref, cand, gt_flat, dt_flat = [], [], [], []
        for j, name in enumerate(JOINTS):
            def point(side, xy, hidden):
                # Percent of the image, as Label Studio stores points.
                value = {"x": xy[0] * 100 / width, "y": xy[1] * 100 / height,
                         "keypointlabels": [name]}
                if hidden:
                    value["visibility"] = "occluded"
                return {"id": f"{side}{j}", "parentID": "person", "from_name": "pose",
                        "to_name": "image", "type": "keypointlabels",
                        "original_width": width, "original_height": height, "value": value}
            # Gloss works in pixels: percent × (size / 100), done the same way here.
            gx, gy = gt[j][0] * 100 / width * (width / 100), gt[j][1] * 100 / height * (height / 100)
            dx, dy = dt[j][0] * 100 / width * (width / 100), dt[j][1] * 100 / height * (height / 100)
            if placed[j]:
                ref.append(point("r", gt[j], occluded[j]))
                gt_flat += [gx, gy, 1 if occluded[j] else 2]
            else:
                gt_flat += [0, 0, 0]
            cand.append(point("c", dt[j], False))
            dt_flat += [dx, dy, 2]
        xs = [gt_flat[3 * j] for j in range(17) if placed[j]]
        ys = [gt_flat[3 * j + 1] for j in range(17) if placed[j]]
        box_w, box_h = max(xs) - min(xs), max(ys) - min(ys)
        area = box_w * box_h if box_w * box_h > 0 else width * height
        gt_annotations.append({
            "id": item + 1, "image_id": item + 1, "category_id": 1, "iscrowd": 0,
            "keypoints": gt_flat, "num_keypoints": int(placed.sum()), "area": area,
            "bbox": [min(xs), min(ys), box_w, box_h],
        })
        dt_results.append({"image_id": item + 1, "category_id": 1, "keypoints": dt_flat,
                           "score": 1.0})
        rows.append({"item": str(item), "annotator": "ref", "result": ref})
        rows.append({"item": str(item), "annotator": "cand", "result": cand})
    got = agreement("oks", rows)
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO()
        ground_truth.dataset = {
            "images": [{"id": i + 1, "width": width, "height": height} for i in range(40)],
            "annotations": gt_annotations,
            "categories": [{"id": 1, "name": "person", "keypoints": JOINTS, "skeleton": []}],
        }
        ground_truth.createIndex()
        detections = ground_truth.loadRes(dt_results)
        evaluation = COCOeval(ground_truth, detections, "keypoints")
        evaluation.evaluate()
    for item in range(40):
        expected = float(np.asarray(evaluation.ious[(item + 1, 1)]).reshape(-1)[0])
        if abs(got[str(item)] - expected) > TOLERANCE:
            fail(f"oks of item {item}: gloss {got[str(item)]!r}, COCOeval {expected!r}")
    print("objects_check: oks equals COCOeval's computeOks on 40 skeletons")


rng = np.random.default_rng(20261205)
check_masks(rng)
check_keypoints(rng)
