// The mask codecs and painting buffer of the labeling workspace
// (web/app/labeling/rle.js, mask.js), under node: COCO RLE and Label
// Studio's brush RLE against the masks crate's vectors, which pycocotools,
// @thi.ng/rle-pack and label-studio-converter made
// (crates/masks/tests/data/*.json), so the browser and the server read and
// write the same masks. Run: cd web && node --test tests/masks.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsToString, countsFromString, labelStudioRuns } from '../app/labeling/rle.js';
import { maskFromCounts, maskFromValue, maskValue, maskContains, brushStamp, stampOrigin, PaintBuffer } from '../app/labeling/mask.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const vectors = (/** @type {string} */ name) => JSON.parse(readFileSync(path.join(here, '../../crates/masks/tests/data', name), 'utf8'));
const COCO = vectors('coco_vectors.json');
const LABEL_STUDIO = vectors('label_studio_vectors.json');

/** Rows of '#' and '.' of a case: its `rows`, or its `rects` on an empty grid. */
function caseRows(c) {
  if (c.rows) return c.rows;
  const grid = Array.from({ length: c.height }, () => Array(c.width).fill('.'));
  for (const [x, y, w, h] of c.rects) for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) grid[j][i] = '#';
  return grid.map((row) => row.join(''));
}

/** A paint buffer over the whole grid holding the '#' pixels of `rows`. */
function bufferOfRows(rows) {
  const buffer = new PaintBuffer(rows[0].length, rows.length, [0, 0, rows[0].length, rows.length]);
  rows.forEach((row, y) => [...row].forEach((c, x) => {
    buffer.data[y * buffer.w + x] = c === '#' ? 1 : 0;
  }));
  return buffer;
}

/** The rows of '#' and '.' a mask decodes to, by its own hit test. */
function maskRows(mask) {
  return Array.from({ length: mask.height }, (_, y) => Array.from({ length: mask.width }, (_, x) => (maskContains(mask, x, y) ? '#' : '.')).join(''));
}

test('COCO RLE: counts, compressed strings, area and bbox as pycocotools has them', () => {
  assert.ok(COCO.cases.length >= 14);
  for (const c of COCO.cases) {
    const counts = c.rows || c.rects ? bufferOfRows(caseRows(c)).counts() : c.counts;
    assert.deepEqual(counts, c.counts, `${c.name}: counts of the pixels`);
    assert.equal(countsToString(c.counts), c.compressed, `${c.name}: compressed`);
    assert.deepEqual(countsFromString(c.compressed), c.counts, `${c.name}: decompressed`);
    const mask = maskFromCounts(c.width, c.height, countsFromString(c.compressed));
    assert.equal(mask.area, c.area, `${c.name}: area`);
    assert.deepEqual(maskRows(mask), c.rows || c.rects ? caseRows(c) : c.decoded_rows, `${c.name}: pixels`);
    if (c.bbox) {
      const [x0, y0, x1, y1] = mask.bbox;
      assert.deepEqual([x0, y0, x1 - x0, y1 - y0], c.bbox, `${c.name}: bbox`);
    }
    // Written and read back through a result value.
    const value = maskValue(mask);
    assert.deepEqual(value, { format: 'coco_rle', counts: c.compressed }, `${c.name}: value`);
    assert.deepEqual([...maskFromValue(value, c.width, c.height).counts], c.counts);
  }
});

test('COCO RLE: big counts and negative deltas round-trip; bad strings are refused', () => {
  const counts = [0, 1, 31, 32, 2 ** 28, 0, 5, 2 ** 28, 3, 70000, 0xffffffff, 0, 17];
  const text = countsToString(counts);
  assert.ok([...text].every((ch) => ch >= '0' && ch <= 'o'));
  assert.deepEqual(countsFromString(text), counts);
  assert.throws(() => countsFromString('0p'), /bad character/);
  assert.throws(() => countsFromString('0`'), /ends inside a count/); // 0x30 | 0x20: more chunks follow
  assert.throws(() => countsFromString('1N'), /count 1 is -/);
  assert.throws(() => maskFromCounts(4, 3, [5, 6]), /add up to 11 pixels/);
  assert.throws(() => maskFromValue({ format: 'coco_rle', counts: '52203' }, 4, 3), /add up/);
  assert.throws(() => maskFromValue({ format: 'png' }, 4, 3), /"png" is not read/);
});

test('Label Studio RLE: both encoders decode to the same pixels; only alpha counts', () => {
  assert.equal(LABEL_STUDIO.masks.length, 13);
  for (const c of LABEL_STUDIO.masks) {
    const rows = caseRows(c);
    for (const key of ['rle_editor', 'rle_converter']) {
      const mask = maskFromValue({ format: 'rle', rle: c[key] }, c.width, c.height);
      assert.deepEqual(maskRows(mask), rows, `${c.name} (${key})`);
      // Untouched, it is written back as it came; its counts are pycocotools'.
      assert.deepEqual(maskValue(mask), { format: 'rle', rle: c[key] });
      const coco = COCO.cases.find((k) => k.name === c.name);
      if (coco) assert.deepEqual([...mask.counts], coco.counts, `${c.name}: the same counts as COCO's`);
    }
  }
  const coloured = LABEL_STUDIO.coloured;
  for (const key of ['rle_editor', 'rle_converter']) {
    const mask = maskFromValue({ format: 'rle', rle: coloured[key] }, coloured.width, coloured.height);
    assert.deepEqual(maskRows(mask), coloured.alpha_set_rows, key);
  }
});

test('Label Studio RLE: a wrong size, a short stream and an overrun are refused', () => {
  const rle = LABEL_STUDIO.masks.find((c) => c.name === '5x4 shape').rle_editor;
  assert.throws(() => labelStudioRuns(rle, 4, 4), /holds 80 values, not 64/);
  assert.throws(() => labelStudioRuns(rle.slice(0, 12), 5, 4), /ends early/);
  assert.throws(() => labelStudioRuns([0, 1, 2], 5, 4), /ends early/);
  // Header for 4 values, then a run of 8 (flag 1, size class 0, length − 1 = 7).
  const overrun = [0, 0, 0, 4, 0b00111_001, 0b0_0011_011, 0b1_1111_1_00, 0b111_00000, 0];
  assert.throws(() => labelStudioRuns(overrun, 1, 1), /past the end/);
});

test('the round brush: the pixels whose centres lie in the circle, snapped to the grid', () => {
  const shape = (/** @type {number} */ d) => {
    const spans = brushStamp(d);
    return Array.from({ length: d }, (_, j) => Array.from({ length: d }, (_, i) => (i >= spans[2 * j] && i < spans[2 * j + 1] ? '#' : '.')).join(''));
  };
  assert.deepEqual(shape(1), ['#']);
  assert.deepEqual(shape(2), ['##', '##']);
  assert.deepEqual(shape(4), ['.##.', '####', '####', '.##.']);
  assert.deepEqual(shape(5), ['.###.', '#####', '#####', '#####', '.###.']);
  for (const d of [3, 7, 10, 33]) {
    const r = d / 2;
    shape(d).forEach((row, j) => [...row].forEach((c, i) => {
      assert.equal(c === '#', (i + 0.5 - r) ** 2 + (j + 0.5 - r) ** 2 <= r * r, `d ${d} pixel ${i},${j}`);
    }));
  }
  // Odd sizes centre on the pixel under the pointer, even ones on the nearest corner.
  assert.deepEqual(stampOrigin(10.3, 20.9, 1), [10, 20]);
  assert.deepEqual(stampOrigin(10.3, 20.9, 5), [8, 18]);
  assert.deepEqual(stampOrigin(10.3, 20.9, 4), [8, 19]);
});

test('a paint buffer grows with the stroke, erases, fills holes and clears patches', () => {
  const buffer = new PaintBuffer(60, 40, [20, 10, 21, 11]);
  buffer.line([2, 2], [50, 2], 3, 1); // a bar 3 high over the whole width it passes
  buffer.stamp(0, 30, 4, 1);
  let mask = buffer.toMask();
  assert.deepEqual(mask.bbox, [0, 2, 53, 34]);
  assert.equal(mask.area, 51 * 3 + 12);
  buffer.line([10, 2], [12, 2], 1, 0); // erase 3 pixels of the bar's top row
  mask = buffer.toMask(); // from the columns the eraser touched and the runs of the mask before
  assert.deepEqual([...mask.counts], buffer.counts(), 'the same counts as reading the whole buffer');
  assert.equal(mask.area, 51 * 3 + 12 - 3);
  assert.equal(maskContains(mask, 11, 2), false);
  assert.equal(maskContains(mask, 11, 3), true);

  // Strokes that move the bounds, grow the buffer and cross the grid's edges, made into masks one after another.
  const seeded = PaintBuffer.fromMask(mask, [0, 0, 1, 1]);
  for (const [from, to, d, value] of [[[-5, 30], [20, 45], 7, 1], [[40, -3], [40, 50], 4, 0], [[55, 10], [70, 12], 9, 1], [[-40, -40], [-40, -40], 150, 0]]) {
    seeded.line(from, to, d, value);
    const next = seeded.toMask();
    assert.deepEqual([...next.counts], seeded.counts(), `after a stroke from ${from} to ${to}`);
  }
  assert.equal(seeded.toMask().area, 0);

  // A ring of width 1 around a 3×3 hole: the hole fills, the outside does not.
  const ring = bufferOfRows(['.......', '.#####.', '.#...#.', '.#...#.', '.#...#.', '.#####.', '.......']);
  const bounds = ring.toMask().bbox;
  assert.equal(ring.flood(0, 0, 'hole', bounds), false, 'outside the mask: not a hole');
  assert.equal(ring.flood(3, 3, 'hole', bounds), true);
  assert.deepEqual(maskRows(ring.toMask()), ['.......', '.#####.', '.#####.', '.#####.', '.#####.', '.#####.', '.......']);
  // A gap in the ring: the inside leaks to the edge of the bounds, nothing is filled.
  const open = bufferOfRows(['.......', '.##.##.', '.#...#.', '.#...#.', '.#####.']);
  assert.equal(open.flood(3, 2, 'hole', open.toMask().bbox), false);
  assert.deepEqual(maskRows(open.toMask()), ['.......', '.##.##.', '.#...#.', '.#...#.', '.#####.']);
  // Clearing takes one 4-connected patch.
  const patches = bufferOfRows(['##..#', '##..#', '...#.']);
  assert.equal(patches.flood(0, 1, 'clear', [0, 0, 5, 3]), true);
  assert.deepEqual(maskRows(patches.toMask()), ['....#', '....#', '...#.']);
});
