#!/usr/bin/env python3
"""Writes the datumaro-made datasets the Rust tests import
(crates/formats/tests/data/datumaro_voc, datumaro_cvat, datumaro_mot and
datumaro_segmentation).

Usage: datumaro_fixtures.py OUT_DIR

Each dataset is exported by datumaro itself (`Dataset.export(..., save_media=True)`,
with small black images) next to an `expected.json` in the form
datumaro_check.py reads: what datumaro holds, in pixels. The Rust tests read
the folders with Gloss's readers and compare with `expected.json`; running
datumaro_check.py on a folder checks that datumaro reads back what it wrote.

Needs datumaro 1.13 (see datumaro_check.py for a venv).
"""

import json
import os
import sys

import numpy as np


def image(width, height):
    from datumaro.components.media import Image

    return Image.from_numpy(data=np.zeros((height, width, 3), dtype=np.uint8))


def expected_of(dataset, image_sizes):
    from datumaro.components.annotation import AnnotationType

    names = [c.name for c in dataset.categories()[AnnotationType.label].items]
    items = {}
    for item in dataset:
        shapes = []
        for ann in item.annotations:
            label = names[ann.label]
            if ann.type == AnnotationType.bbox:
                shapes.append({"type": "bbox", "label": label, "bbox": [ann.x, ann.y, ann.w, ann.h]})
            elif ann.type == AnnotationType.rotated_bbox:
                shapes.append(
                    {"type": "rotated_bbox", "label": label, "rbox": [ann.cx, ann.cy, ann.w, ann.h, ann.r]}
                )
            elif ann.type in (AnnotationType.polygon, AnnotationType.polyline, AnnotationType.points):
                shapes.append({"type": ann.type.name, "label": label, "points": list(ann.points)})
            elif ann.type == AnnotationType.label:
                shapes.append({"type": "label", "label": label})
            elif ann.type == AnnotationType.mask:
                rows = ["".join("#" if pixel else "." for pixel in row) for row in ann.image]
                shapes.append({"type": "mask", "label": label, "pixels": int(ann.image.sum()), "rows": rows})
        width, height = image_sizes[item.id]
        items[item.id] = {"subset": item.subset, "width": width, "height": height, "shapes": shapes}
    return {"labels": names, "items": items}


def voc(out):
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType, Bbox, LabelCategories

    labels = LabelCategories.from_iterable(["car", "person"])
    sizes = {"img1": (64, 48), "img2": (40, 30), "img3": (32, 24)}
    dataset = dm.Dataset.from_iterable(
        [
            dm.DatasetItem(
                id="img1",
                subset="train",
                media=image(*sizes["img1"]),
                annotations=[
                    Bbox(5.5, 6.25, 20, 10.75, label=0, attributes={"difficult": True}),
                    Bbox(30, 20, 10, 10, label=1, attributes={"occluded": True, "truncated": True}),
                ],
            ),
            dm.DatasetItem(
                id="img2",
                subset="val",
                media=image(*sizes["img2"]),
                annotations=[Bbox(0, 0, 40, 30, label=0)],
            ),
            dm.DatasetItem(id="img3", subset="train", media=image(*sizes["img3"])),
        ],
        categories={AnnotationType.label: labels},
    )
    folder = os.path.join(out, "datumaro_voc")
    dataset.export(folder, "voc", save_media=True)
    expected = expected_of(dataset, sizes)
    # datumaro's VOC label map adds the background.
    expected["labels"] = ["background"] + expected["labels"]
    write_json(os.path.join(folder, "expected.json"), expected)


def cvat(out):
    import datumaro as dm
    from datumaro.components.annotation import (
        AnnotationType,
        Bbox,
        Label,
        LabelCategories,
        Points,
        Polygon,
        PolyLine,
        RotatedBbox,
    )

    labels = LabelCategories.from_iterable(["car", "road", "lane", "nose", "cat"])
    sizes = {"img1": (64, 48), "img2": (40, 30)}
    dataset = dm.Dataset.from_iterable(
        [
            dm.DatasetItem(
                id="img1",
                media=image(*sizes["img1"]),
                annotations=[
                    Bbox(5.5, 6.25, 20, 10.75, label=0),
                    RotatedBbox(40, 30, 16, 8, 30, label=0),
                    Polygon([1, 40, 20, 40, 10.5, 47], label=1),
                    PolyLine([0, 0, 10, 5.25, 20, 0], label=2),
                    Points([12.5, 13.75], label=3),
                    Label(4),
                ],
                attributes={"frame": 0},
            ),
            dm.DatasetItem(
                id="img2",
                media=image(*sizes["img2"]),
                annotations=[Bbox(0, 0, 40, 30, label=0)],
                attributes={"frame": 1},
            ),
        ],
        categories={AnnotationType.label: labels},
    )
    folder = os.path.join(out, "datumaro_cvat")
    dataset.export(folder, "cvat", save_media=True)
    expected = expected_of(dataset, sizes)
    # CVAT's subset is its annotation file's name.
    for item in expected["items"].values():
        item["subset"] = "default"
    write_json(os.path.join(folder, "expected.json"), expected)


def mot(out):
    """A MOT sequence of 6 frames (32x24): a car moving right on frames 1-4
    and back on frame 6 (gone on 5), an occluded person on frames 2-6."""
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType, Bbox, LabelCategories

    labels = LabelCategories.from_iterable(["car", "person"])
    boxes = {
        1: [Bbox(0, 2, 8, 6, label=0, attributes={"track_id": 1})],
        2: [Bbox(2, 2, 8, 6, label=0, attributes={"track_id": 1})],
        3: [Bbox(4, 2, 8, 6, label=0, attributes={"track_id": 1})],
        4: [Bbox(6, 2, 8, 6, label=0, attributes={"track_id": 1})],
        5: [],
        6: [Bbox(10, 2, 8, 6, label=0, attributes={"track_id": 1})],
    }
    for frame in range(2, 7):
        person = Bbox(20, 10, 4, 12, label=1, attributes={"track_id": 2, "occluded": True, "visibility": 0.0})
        boxes[frame] = boxes[frame] + [person]
    dataset = dm.Dataset.from_iterable(
        [
            dm.DatasetItem(id=str(frame), media=image(32, 24), annotations=annotations)
            for frame, annotations in boxes.items()
        ],
        categories={AnnotationType.label: labels},
    )
    folder = os.path.join(out, "datumaro_mot")
    dataset.export(folder, "mot_seq_gt", save_media=True)
    expected = expected_of(dataset, {str(frame): (32, 24) for frame in boxes})
    write_json(os.path.join(folder, "expected.json"), expected)


def segmentation(out):
    """A common_semantic_segmentation dataset of two 12x8 images, with
    colours of its own (not the VOC palette). Datumaro 1.13 reads the format
    but has no exporter for it, so the files are written with datumaro's own
    pieces (`save_meta_file`, `paint_mask`, `save_image`), and what datumaro
    reads back from them is the expectation."""
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType, LabelCategories, MaskCategories
    from datumaro.util.image import save_image
    from datumaro.util.mask_tools import paint_mask
    from datumaro.util.meta_file_util import save_meta_file

    colormap = {0: (0, 0, 0), 1: (10, 200, 30), 2: (250, 120, 5)}
    categories = {
        AnnotationType.label: LabelCategories.from_iterable(["background", "car", "road"]),
        AnnotationType.mask: MaskCategories(colormap),
    }
    first = np.zeros((8, 12), dtype=np.uint8)
    first[5:8, :] = 2  # road along the bottom
    first[1:4, 2:6] = 1  # a car
    first[4, 2] = 1  # ... with a wheel on the road's edge
    second = np.zeros((8, 12), dtype=np.uint8)
    second[0:2, 9:12] = 2
    folder = os.path.join(out, "datumaro_segmentation")
    os.makedirs(os.path.join(folder, "masks"), exist_ok=True)
    save_meta_file(folder, categories)
    for name, index_mask in (("first", first), ("second", second)):
        save_image(os.path.join(folder, "masks", name + ".png"), paint_mask(index_mask, colormap))
        image(12, 8).save(os.path.join(folder, "images", name + ".png"))
    dataset = dm.Dataset.import_from(folder, "common_semantic_segmentation")
    expected = expected_of(dataset, {"first": (12, 8), "second": (12, 8)})
    write_json(os.path.join(folder, "expected.json"), expected)


def coco_and_yolo(out):
    """Boxes and a polygon on two images, as datumaro's COCO instances and
    Ultralytics YOLO exporters write them."""
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType, Bbox, LabelCategories, Polygon

    labels = LabelCategories.from_iterable(["car", "person"])
    sizes = {"img1": (64, 48), "img2": (40, 30)}
    dataset = dm.Dataset.from_iterable(
        [
            dm.DatasetItem(
                id="img1",
                subset="train",
                media=image(*sizes["img1"]),
                annotations=[
                    Bbox(5.5, 6.25, 20, 10.75, label=0, id=1),
                    Bbox(30, 20, 10, 12, label=1, id=2),
                ],
            ),
            # Ultralytics YOLO needs a train and a val subset.
            dm.DatasetItem(
                id="img2",
                subset="val",
                media=image(*sizes["img2"]),
                annotations=[Polygon([1, 2, 30, 2, 15, 25], label=0, id=3)],
            ),
        ],
        categories={AnnotationType.label: labels},
    )
    for name, format_name in (("datumaro_coco", "coco_instances"), ("datumaro_yolo", "yolo_ultralytics")):
        folder = os.path.join(out, name)
        dataset.export(folder, format_name, save_media=True)
        expected = expected_of(dataset, sizes)
        write_json(os.path.join(folder, "expected.json"), expected)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    voc(argv[1])
    cvat(argv[1])
    mot(argv[1])
    segmentation(argv[1])
    coco_and_yolo(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
