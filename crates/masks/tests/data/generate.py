"""Writes coco_vectors.json and label_studio_vectors.json, the golden
vectors of gloss-masks's tests, from the reference implementations:

- COCO RLE: pycocotools (2.0.11 when these were made): `mask.encode` for the
  compressed string, `frPyObjects` for uncompressed counts, `area`, `toBbox`,
  `decode`.
- Label Studio brush RLE: the JavaScript package `@thi.ng/rle-pack` (3.2.12),
  which Label Studio's editor encodes with, fed the RGBA bytes the editor
  produces (R = G = B = A, 255 where painted); and label-studio-converter
  (0.0.59), `label_studio_converter.brush`: `mask2rle`, `encode_rle`,
  `decode_rle`.

How to run it (from this folder, with a scratch folder for the packages):

    python3 -m venv VENV && VENV/bin/pip install pycocotools numpy label-studio-converter
    (cd SCRATCH && npm init -y && npm install @thi.ng/rle-pack)
    RLE_PACK_DIR=SCRATCH VENV/bin/python generate.py

Masks are given as rows of '#' (set) and '.' (unset), or as rectangles
[x, y, width, height] on an empty mask, so that the Rust tests can build
them without the reference code.
"""

import json
import os
import subprocess

import numpy as np
import pycocotools.mask as coco_mask
from label_studio_converter import brush


def from_rows(rows):
    return np.array([[c == "#" for c in row] for row in rows], dtype=np.uint8)


def from_rects(width, height, rects):
    mask = np.zeros((height, width), dtype=np.uint8)
    for x, y, w, h in rects:
        mask[y : y + h, x : x + w] = 1
    return mask


def to_rows(mask):
    return ["".join("#" if v else "." for v in row) for row in mask]


def ellipse_rows(width, height):
    # Two overlapping ellipses and a hole, integer arithmetic only.
    rows = []
    for y in range(height):
        row = ""
        for x in range(width):
            a = (x - 20) ** 2 * 14**2 + (y - 20) ** 2 * 17**2 <= 17**2 * 14**2
            b = (x - 45) ** 2 * 10**2 + (y - 30) ** 2 * 15**2 <= 15**2 * 10**2
            hole = (x - 20) ** 2 + (y - 22) ** 2 <= 16
            row += "#" if (a or b) and not hole else "."
        rows.append(row)
    return rows


MASKS = [
    {"name": "1x1 set", "rows": ["#"]},
    {"name": "1x1 unset", "rows": ["."]},
    {"name": "3x2 full", "rows": ["###", "###"]},
    {"name": "3x2 empty", "rows": ["...", "..."]},
    {"name": "5x4 shape", "rows": [".##..", "####.", "..#..", "....#"]},
    {"name": "single column 1x7", "rows": [".", "#", "#", ".", "#", "#", "#"]},
    {"name": "single row 9x1", "rows": [".##..####"]},
    {"name": "checkerboard 8x5", "rows": ["".join("#" if (x + y) % 2 == 0 else "." for x in range(8)) for y in range(5)]},
    {"name": "diagonal 13x11", "rows": ["".join("#" if x == y or x == 12 - y else "." for x in range(13)) for y in range(11)]},
    {"name": "ellipses 64x48", "rows": ellipse_rows(64, 48)},
    {"name": "rectangles 257x301", "width": 257, "height": 301, "rects": [[10, 40, 100, 200], [150, 0, 60, 301], [200, 290, 57, 11]]},
    {"name": "full 300x200", "width": 300, "height": 200, "rects": [[0, 0, 300, 200]]},
    {"name": "last pixel 170x130", "width": 170, "height": 130, "rects": [[169, 129, 1, 1]]},
]


def mask_of(case):
    if "rows" in case:
        return from_rows(case["rows"])
    return from_rects(case["width"], case["height"], case["rects"])


def shape_fields(case, mask):
    height, width = mask.shape
    fields = {"name": case["name"], "width": width, "height": height}
    fields.update({k: case[k] for k in ("rows", "rects") if k in case})
    return fields


def uncompressed_counts(mask):
    # Run lengths over the column-major pixels, starting with unset ones.
    counts, previous, run = [], 0, 0
    for value in mask.ravel(order="F"):
        if value != previous:
            counts.append(run)
            previous, run = value, 0
        run += 1
    counts.append(run)
    return counts


def coco_vectors():
    cases = []
    for case in MASKS:
        mask = mask_of(case)
        rle = coco_mask.encode(np.asfortranarray(mask))
        counts = uncompressed_counts(mask)
        # The uncompressed counts must compress to pycocotools's own string.
        again = coco_mask.frPyObjects({"size": list(mask.shape), "counts": counts}, *mask.shape)
        assert again["counts"] == rle["counts"], case["name"]
        assert (coco_mask.decode(rle) == mask).all()
        fields = shape_fields(case, mask)
        fields.update(
            {
                "counts": [int(c) for c in counts],
                "compressed": rle["counts"].decode(),
                "area": int(coco_mask.area(rle)),
                "bbox": [int(v) for v in coco_mask.toBbox(rle)],
            }
        )
        cases.append(fields)
    # Counts pycocotools accepts but never writes: empty runs inside.
    odd_counts = {"size": [3, 4], "counts": [2, 0, 3, 4, 0, 2, 1]}
    rle = coco_mask.frPyObjects(odd_counts, 3, 4)
    cases.append(
        {
            "name": "empty runs inside 4x3",
            "width": 4,
            "height": 3,
            "counts": odd_counts["counts"],
            "compressed": rle["counts"].decode(),
            "area": int(coco_mask.area(rle)),
            "decoded_rows": to_rows(coco_mask.decode(rle)),
        }
    )
    return cases


NODE_ENCODE = """
import { encode } from "@thi.ng/rle-pack";
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const images = JSON.parse(input);
  console.log(JSON.stringify(images.map((rgba) => Array.from(encode(rgba, rgba.length)))));
});
"""


def rle_pack_encode(images):
    """@thi.ng/rle-pack's encode of each RGBA byte list, as the editor calls it."""
    done = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_ENCODE],
        cwd=os.environ["RLE_PACK_DIR"],
        input=json.dumps(images),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def editor_rgba(mask):
    # Label Studio's exportRLE: R = G = B = alpha; alpha 255 where painted.
    return np.repeat(mask.ravel() * 255, 4).astype(np.uint8)


def coloured_rgba():
    # A brush drawn the converter's contour2rle way, colour (0, 255, 0, 100),
    # with anti-aliased alpha at the edge and colour left under alpha 0:
    # bytes differ within a pixel, so the encoders write literal blocks.
    width, height = 7, 5
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[1:4, 1:5] = (0, 255, 0, 100)
    rgba[2, 5] = (0, 255, 0, 30)
    rgba[0, 6] = (12, 34, 56, 0)
    rgba[4, 0] = (0, 0, 0, 1)
    return width, height, rgba


def label_studio_vectors():
    masks = [mask_of(case) for case in MASKS]
    editor = rle_pack_encode([editor_rgba(m).tolist() for m in masks])
    cases = []
    for case, mask, rle in zip(MASKS, masks, editor):
        rgba = editor_rgba(mask)
        assert (brush.decode_rle(rle) == rgba).all(), case["name"]
        converter = brush.mask2rle(mask * 255)
        assert (brush.decode_rle(converter) == rgba).all(), case["name"]
        fields = shape_fields(case, mask)
        fields.update({"rle_editor": rle, "rle_converter": [int(v) for v in converter]})
        cases.append(fields)

    width, height, rgba = coloured_rgba()
    flat = rgba.ravel()
    [editor_rle] = rle_pack_encode([flat.tolist()])
    converter_rle = [int(v) for v in brush.encode_rle(flat.astype(int))]
    for rle in (editor_rle, converter_rle):
        assert (brush.decode_rle(rle) == flat).all()
    alpha = brush.decode_rle(editor_rle).reshape(height, width, 4)[:, :, 3]
    coloured = {
        "name": "coloured 7x5 with literal blocks",
        "width": width,
        "height": height,
        "rle_editor": editor_rle,
        "rle_converter": converter_rle,
        "alpha_set_rows": to_rows(alpha > 0),
    }
    return {"masks": cases, "coloured": coloured}


def write(name, value):
    with open(name, "w") as out:
        json.dump(value, out, separators=(",", ":"))
        out.write("\n")


if __name__ == "__main__":
    write(
        "coco_vectors.json",
        {"generated_by": "generate.py, pycocotools 2.0.11", "cases": coco_vectors()},
    )
    write(
        "label_studio_vectors.json",
        {"generated_by": "generate.py, @thi.ng/rle-pack 3.2.12 and label-studio-converter 0.0.59", **label_studio_vectors()},
    )
