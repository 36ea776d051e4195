// Pixel masks (brush regions). A stored mask is its COCO counts over the
// whole grid: a few hundred numbers for a blob however big the image, so
// hundreds of masks cost little and an undo step keeps one array of them.
// Painting works on a `PaintBuffer`, one byte a pixel over the mask's
// bounds (growing as the stroke goes), made when a stroke starts and
// turned back into counts when it ends. No DOM here: node runs it too.

import { countsToString, countsFromString, labelStudioRuns } from './rle.js';

/**
 * A mask on a `width × height` grid (the image's natural size), immutable.
 * `counts` are COCO's: alternating runs over the pixels in column-major
 * order, unset first. `bbox` bounds the set pixels, [x0, y0, x1, y1] with
 * x1 and y1 exclusive ([0, 0, 0, 0] when none is set). `value` is the
 * result value's mask keys it was read from (`format` and `rle` or
 * `counts`), written back as they came while the mask is unchanged.
 * @typedef {{
 *   width: number,
 *   height: number,
 *   counts: Uint32Array,
 *   bbox: [number, number, number, number],
 *   area: number,
 *   value: Record<string, unknown> | null,
 * }} Mask
 */

/** The value keys that hold a mask; the rest of a brush value is kept as it came. */
export const MASK_KEYS = ['format', 'rle', 'counts'];

/**
 * A mask from COCO counts; throws when they do not add up to the grid.
 * @param {number} width @param {number} height
 * @param {ArrayLike<number>} counts
 * @param {Record<string, unknown> | null} [value]
 * @returns {Mask}
 */
export function maskFromCounts(width, height, counts, value = null) {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i];
  if (sum !== width * height) throw new Error(`the counts add up to ${sum} pixels, not ${width} × ${height}`);
  const stored = Uint32Array.from(counts);
  const { bbox, area } = boundsOfCounts(stored, height);
  return Object.freeze({ width, height, counts: stored, bbox, area, value });
}

/**
 * The bounds and area of the set pixels, from the counts alone.
 * @param {Uint32Array} counts @param {number} height
 * @returns {{bbox: [number, number, number, number], area: number}}
 */
function boundsOfCounts(counts, height) {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  let area = 0;
  let position = 0;
  for (let i = 0; i < counts.length; i++) {
    const start = position;
    position += counts[i];
    if (i % 2 === 0 || counts[i] === 0) continue;
    area += counts[i];
    const first = Math.floor(start / height);
    const last = Math.floor((position - 1) / height);
    x0 = Math.min(x0, first);
    x1 = Math.max(x1, last);
    if (first === last) {
      y0 = Math.min(y0, start % height);
      y1 = Math.max(y1, (position - 1) % height);
    } else {
      // A run over a column's end reaches the bottom row, and the top row of the next.
      y0 = 0;
      y1 = height - 1;
    }
  }
  return area ? { bbox: [x0, y0, x1 + 1, y1 + 1], area } : { bbox: [0, 0, 0, 0], area: 0 };
}

/**
 * The mask of a brush result's value on a `width × height` grid (its
 * `original_width` and `original_height`): Gloss's `coco_rle` or Label
 * Studio's `rle`. Throws when it does not decode at that size.
 * @param {Record<string, any>} value @param {number} width @param {number} height
 * @returns {Mask}
 */
export function maskFromValue(value, width, height) {
  if (!(width > 0 && height > 0)) throw new Error('a mask needs original_width and original_height');
  if (value.format === 'coco_rle' && typeof value.counts === 'string') {
    return maskFromCounts(width, height, countsFromString(value.counts), { format: value.format, counts: value.counts });
  }
  if (value.format === 'rle' && Array.isArray(value.rle)) {
    const runs = labelStudioRuns(value.rle, width, height);
    return maskFromRowRuns(width, height, runs, { format: value.format, rle: value.rle });
  }
  throw new Error(`mask format ${JSON.stringify(value.format)} is not read`);
}

/**
 * A mask from runs of row-major pixel indexes, [start, end, ...].
 * @param {number} width @param {number} height @param {number[]} runs
 * @param {Record<string, unknown> | null} value
 */
function maskFromRowRuns(width, height, runs, value) {
  if (!runs.length) return maskFromCounts(width, height, [width * height], value);
  let x0 = width;
  let x1 = 0;
  const y0 = Math.floor(runs[0] / width);
  const y1 = Math.floor((runs[runs.length - 1] - 1) / width) + 1;
  for (let i = 0; i < runs.length; i += 2) {
    const firstRow = Math.floor(runs[i] / width);
    const lastRow = Math.floor((runs[i + 1] - 1) / width);
    if (firstRow !== lastRow) {
      x0 = 0;
      x1 = width;
      break;
    }
    x0 = Math.min(x0, runs[i] % width);
    x1 = Math.max(x1, ((runs[i + 1] - 1) % width) + 1);
  }
  const buffer = new PaintBuffer(width, height, [x0, y0, x1, y1]);
  for (let i = 0; i < runs.length; i += 2) {
    for (let p = runs[i]; p < runs[i + 1];) {
      const y = Math.floor(p / width);
      const end = Math.min(runs[i + 1], (y + 1) * width);
      const row = (y - buffer.y) * buffer.w - buffer.x;
      buffer.data.fill(1, row + (p % width), row + (p % width) + (end - p));
      p = end;
    }
  }
  const counts = buffer.counts();
  return maskFromCounts(width, height, counts, value);
}

/** The compressed counts of masks written already, so a result is encoded once. @type {WeakMap<Mask, string>} */
const compressed = new WeakMap();

/**
 * The value keys a mask is written with: as it was read while unchanged,
 * else Gloss's `coco_rle`.
 * @param {Mask} mask
 * @returns {Record<string, unknown>}
 */
export function maskValue(mask) {
  if (mask.value) return { ...mask.value };
  let counts = compressed.get(mask);
  if (counts === undefined) {
    counts = countsToString(mask.counts);
    compressed.set(mask, counts);
  }
  return { format: 'coco_rle', counts };
}

/** Where each run starts, per mask, made when first needed. @type {WeakMap<Mask, Float64Array>} */
const runStarts = new WeakMap();

/** @param {Mask} mask */
function startsOf(mask) {
  let starts = runStarts.get(mask);
  if (!starts) {
    starts = new Float64Array(mask.counts.length);
    let position = 0;
    for (let i = 0; i < mask.counts.length; i++) {
      starts[i] = position;
      position += mask.counts[i];
    }
    runStarts.set(mask, starts);
  }
  return starts;
}

/**
 * The index of the run that holds column-major pixel `position`: a binary search.
 * @param {Float64Array} starts @param {number} position
 */
function runAt(starts, position) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Whether grid pixel (x, y) is set.
 * @param {Mask} mask @param {number} x @param {number} y
 */
export function maskContains(mask, x, y) {
  const [x0, y0, x1, y1] = mask.bbox;
  const px = Math.floor(x);
  const py = Math.floor(y);
  if (px < x0 || py < y0 || px >= x1 || py >= y1) return false;
  return runAt(startsOf(mask), px * mask.height + py) % 2 === 1;
}

/**
 * Calls `segment(x, top, bottom)` for every column stretch of set pixels
 * inside columns x0 to x1 and rows y0 to y1 (ends exclusive): a binary
 * search per column, then the runs there, so a part of a big mask costs
 * what that part holds.
 * @param {Mask} mask @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1
 * @param {(x: number, top: number, bottom: number) => void} segment
 */
export function forEachSegmentIn(mask, x0, y0, x1, y1, segment) {
  const { counts, height } = mask;
  const starts = startsOf(mask);
  for (let x = x0; x < x1; x++) {
    const top = x * height + y0;
    const bottom = x * height + y1;
    for (let i = runAt(starts, top); i < counts.length && starts[i] < bottom; i++) {
      if (i % 2 === 0) continue;
      const start = Math.max(starts[i], top);
      const end = Math.min(starts[i] + counts[i], bottom);
      if (end > start) segment(x, start - x * height, end - x * height);
    }
  }
}

/**
 * Calls `segment(x, y0, y1)` for every column stretch of set pixels
 * (rows y0 to y1 exclusive of column x), in column-major order.
 * @param {Mask} mask @param {(x: number, y0: number, y1: number) => void} segment
 */
export function forEachSegment(mask, segment) {
  const { height } = mask;
  forEachRun(mask, (start, end) => {
    for (let p = start; p < end;) {
      const x = Math.floor(p / height);
      const y = p - x * height;
      const stop = Math.min(end, (x + 1) * height);
      segment(x, y, y + stop - p);
      p = stop;
    }
  }, mask.width * height);
}

/**
 * Calls `run(start, end)` for the set runs of a mask (column-major pixel
 * positions) that end after `from` and start before `to`.
 * @param {Mask} mask @param {(start: number, end: number) => void} run
 * @param {number} to @param {number} [from]
 */
function forEachRun(mask, run, to, from = 0) {
  let position = 0;
  for (let i = 0; i < mask.counts.length && position < to; i++) {
    const start = position;
    position += mask.counts[i];
    if (i % 2 === 1 && position > from) run(start, position);
  }
}

/**
 * The pixels (i, j) of a round brush `diameter` pixels wide, as the row
 * spans [j][0], [j][1] (start, end exclusive) of its `diameter × diameter`
 * square: a pixel is painted when its centre lies within the circle
 * inscribed in the square. Cached per diameter.
 * @type {Map<number, Int32Array>}
 */
const stamps = new Map();

/** @param {number} diameter @returns {Int32Array} [start, end] per row */
export function brushStamp(diameter) {
  let spans = stamps.get(diameter);
  if (spans) return spans;
  spans = new Int32Array(diameter * 2);
  const r = diameter / 2;
  for (let j = 0; j < diameter; j++) {
    const dy = j + 0.5 - r;
    let start = diameter;
    let end = 0;
    for (let i = 0; i < diameter; i++) {
      const dx = i + 0.5 - r;
      // Halves squared are exact in floating point: the test is exact.
      if (dx * dx + dy * dy <= r * r) {
        start = Math.min(start, i);
        end = i + 1;
      }
    }
    spans[2 * j] = start;
    spans[2 * j + 1] = Math.max(start, end);
  }
  stamps.set(diameter, spans);
  return spans;
}

/**
 * Where a brush of `diameter` pixels lands for a pointer at image point
 * (x, y): the top-left pixel of its square. The brush snaps to the pixel
 * grid (centred on a pixel for odd sizes, on a pixel corner for even
 * ones), so a dab covers the same pixels wherever in a pixel it lands.
 * @param {number} x @param {number} y @param {number} diameter
 * @returns {[number, number]}
 */
export function stampOrigin(x, y, diameter) {
  return [Math.round(x - diameter / 2), Math.round(y - diameter / 2)];
}

/** Pixels added around a buffer's bounds when it grows, so a stroke rarely grows it twice. */
const GROW_MARGIN = 128;

/**
 * A mask being painted: one byte a pixel (1 set, 0 not) over a rectangle
 * of the grid that holds every set pixel and grows as the brush leaves it.
 * `dirty` bounds what changed since the preview last drew it.
 */
export class PaintBuffer {
  /**
   * @param {number} width @param {number} height the grid
   * @param {[number, number, number, number]} bounds [x0, y0, x1, y1] to cover, clamped to the grid
   */
  constructor(width, height, bounds) {
    this.width = width;
    this.height = height;
    this.x = clampInt(bounds[0], 0, width);
    this.y = clampInt(bounds[1], 0, height);
    this.w = clampInt(bounds[2], this.x, width) - this.x;
    this.h = clampInt(bounds[3], this.y, height) - this.y;
    this.data = new Uint8Array(this.w * this.h);
    /** @type {[number, number, number, number] | null} */
    this.dirty = null;
    /** Whether the rectangle moved or grew since the preview last drew it (it then redraws all). */
    this.resized = true;
    /** Whether any pixel changed since `changed` was last cleared. */
    this.changed = false;
    /** The mask the buffer held when it last was one (null: none), and the columns changed since ([x0, x1]). */
    /** @type {Mask | null} */
    this.base = null;
    /** @type {[number, number] | null} */
    this.touched = null;
  }

  /**
   * A buffer holding `mask`, with room for `bounds` around it.
   * @param {Mask} mask @param {[number, number, number, number]} bounds
   */
  static fromMask(mask, bounds) {
    const buffer = PaintBuffer.around(mask.width, mask.height, mask.area ? unionBounds(mask.bbox, bounds) : bounds);
    buffer.base = mask;
    const { data, w } = buffer;
    forEachSegment(mask, (x, top, bottom) => {
      for (let y = top, i = (top - buffer.y) * w + (x - buffer.x); y < bottom; y++, i += w) data[i] = 1;
    });
    return buffer;
  }

  /**
   * An empty buffer over `bounds` and a margin around them.
   * @param {number} width @param {number} height @param {[number, number, number, number]} bounds
   */
  static around(width, height, [x0, y0, x1, y1]) {
    return new PaintBuffer(width, height, [x0 - GROW_MARGIN, y0 - GROW_MARGIN, x1 + GROW_MARGIN, y1 + GROW_MARGIN]);
  }

  /** @param {number} x @param {number} y grid pixel */
  get(x, y) {
    const i = x - this.x;
    const j = y - this.y;
    return i >= 0 && j >= 0 && i < this.w && j < this.h ? this.data[j * this.w + i] : 0;
  }

  /**
   * Make the rectangle cover [x0, y0, x1, y1] (clamped to the grid),
   * growing it with a margin when it does not.
   * @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1
   */
  cover(x0, y0, x1, y1) {
    const X0 = Math.max(0, x0);
    const Y0 = Math.max(0, y0);
    const X1 = Math.min(this.width, x1);
    const Y1 = Math.min(this.height, y1);
    if (X0 >= this.x && Y0 >= this.y && X1 <= this.x + this.w && Y1 <= this.y + this.h) return;
    const margin = Math.max(GROW_MARGIN, this.w >> 1, this.h >> 1);
    const next = new PaintBuffer(this.width, this.height, [
      Math.min(this.x, X0 - margin), Math.min(this.y, Y0 - margin),
      Math.max(this.x + this.w, X1 + margin), Math.max(this.y + this.h, Y1 + margin),
    ]);
    for (let j = 0; j < this.h; j++) {
      next.data.set(this.data.subarray(j * this.w, (j + 1) * this.w), (this.y + j - next.y) * next.w + (this.x - next.x));
    }
    Object.assign(this, { x: next.x, y: next.y, w: next.w, h: next.h, data: next.data, resized: true });
  }

  /** @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1 */
  markDirty(x0, y0, x1, y1) {
    this.touched = this.touched ? [Math.min(this.touched[0], x0), Math.max(this.touched[1], x1)] : [x0, x1];
    const d = this.dirty;
    this.dirty = d ? [Math.min(d[0], x0), Math.min(d[1], y0), Math.max(d[2], x1), Math.max(d[3], y1)] : [x0, y0, x1, y1];
  }

  /**
   * Paint (value 1) or erase (0) one dab of the round brush with its
   * top-left pixel at (tx, ty).
   * @param {number} tx @param {number} ty @param {number} diameter @param {0 | 1} value
   */
  stamp(tx, ty, diameter, value) {
    this.cover(tx, ty, tx + diameter, ty + diameter);
    const spans = brushStamp(diameter);
    const top = Math.max(ty, this.y);
    const bottom = Math.min(ty + diameter, this.y + this.h);
    for (let y = top; y < bottom; y++) {
      const j = y - ty;
      const start = Math.max(tx + spans[2 * j], this.x);
      const end = Math.min(tx + spans[2 * j + 1], this.x + this.w);
      if (end <= start) continue;
      const row = (y - this.y) * this.w - this.x;
      const pixels = this.data.subarray(row + start, row + end);
      if (!this.changed && pixels.some((p) => p !== value)) this.changed = true;
      pixels.fill(value);
    }
    if (bottom > top) this.markDirty(Math.max(tx, this.x), top, Math.min(tx + diameter, this.x + this.w), bottom);
  }

  /**
   * Dabs along a line, at every grid step from one brush position to the
   * next (Bresenham), so a fast stroke leaves no gaps and covers exactly
   * the pixels the brush passes over.
   * @param {[number, number]} from @param {[number, number]} to top-left pixels of the dabs
   * @param {number} diameter @param {0 | 1} value
   */
  line(from, to, diameter, value) {
    let [x, y] = from;
    const [x1, y1] = to;
    const dx = Math.abs(x1 - x);
    const dy = -Math.abs(y1 - y);
    const sx = x < x1 ? 1 : -1;
    const sy = y < y1 ? 1 : -1;
    let error = dx + dy;
    for (;;) {
      this.stamp(x, y, diameter, value);
      if (x === x1 && y === y1) return;
      const e2 = 2 * error;
      if (e2 >= dy) {
        error += dy;
        x += sx;
      }
      if (e2 <= dx) {
        error += dx;
        y += sy;
      }
    }
  }

  /**
   * Flood fill from grid pixel (x, y), 4-connected. `fill: 'hole'` sets
   * the unset area around an unset pixel when the mask encloses it: the
   * area may not reach the edge of `within` (the mask's bounds), else it
   * is outside the mask and nothing changes. `fill: 'clear'` unsets the
   * set area around a set pixel (removes one painted patch).
   * @param {number} x @param {number} y @param {'hole' | 'clear'} fill
   * @param {[number, number, number, number]} within
   * @returns {boolean} whether anything changed
   */
  flood(x, y, fill, within) {
    const from = fill === 'hole' ? 0 : 1;
    const [bx0, by0, bx1, by1] = fill === 'hole' ? within : [this.x, this.y, this.x + this.w, this.y + this.h];
    if (x < bx0 || y < by0 || x >= bx1 || y >= by1 || this.get(x, y) !== from) return false;
    // A mark for pixels taken so far: a hole that leaks is put back.
    const MARK = 2;
    const { data, w } = this;
    /** @param {number} px @param {number} py */
    const at = (px, py) => (py - this.y) * w + (px - this.x);
    /** Spans filled: y, x0, x1 triples. @type {number[]} */
    const spans = [];
    const seeds = [x, y];
    let leaks = false;
    while (seeds.length && !leaks) {
      const sy = /** @type {number} */ (seeds.pop());
      const sx = /** @type {number} */ (seeds.pop());
      if (data[at(sx, sy)] !== from) continue;
      let left = sx;
      while (left > bx0 && data[at(left - 1, sy)] === from) left--;
      let right = sx + 1;
      while (right < bx1 && data[at(right, sy)] === from) right++;
      data.fill(MARK, at(left, sy), at(right, sy));
      spans.push(sy, left, right);
      if (fill === 'hole' && (left === bx0 || right === bx1 || sy === by0 || sy === by1 - 1)) leaks = true;
      for (const ny of [sy - 1, sy + 1]) {
        if (ny < by0 || ny >= by1) continue;
        for (let nx = left; nx < right; nx++) {
          if (data[at(nx, ny)] === from && (nx === left || data[at(nx - 1, ny)] !== from)) seeds.push(nx, ny);
        }
      }
    }
    const value = leaks ? from : 1 - from;
    for (let i = 0; i < spans.length; i += 3) {
      data.fill(value, at(spans[i + 1], spans[i]), at(spans[i + 2], spans[i]));
      if (!leaks) this.markDirty(spans[i + 1], spans[i], spans[i + 2], spans[i] + 1);
    }
    if (!leaks) this.changed = true;
    return !leaks;
  }

  /**
   * The COCO counts of the whole grid: the buffer read down its columns
   * (nothing is set outside it).
   * @returns {number[]}
   */
  counts() {
    return this.countsWith(null, this.x, this.x + this.w);
  }

  /**
   * The COCO counts of the grid with columns x0 to x1 (exclusive) read from
   * the buffer and the rest taken from `base`'s runs: after a stroke, the
   * columns it touched, so a stroke on a big mask reads only those.
   * @param {Mask | null} base what the buffer held before, null for nothing outside x0..x1
   * @param {number} x0 @param {number} x1
   * @returns {number[]}
   */
  countsWith(base, x0, x1) {
    const { data, w, h, height } = this;
    const total = this.width * height;
    /** Set runs as [start, end, start, end, ...], touching ones merged. @type {number[]} */
    const edges = [];
    /** @param {number} start @param {number} end */
    const add = (start, end) => {
      if (end <= start) return;
      if (edges.length && edges[edges.length - 1] === start) edges[edges.length - 1] = end;
      else edges.push(start, end);
    };
    if (base) forEachRun(base, (start, end) => add(start, Math.min(end, x0 * height)), x0 * height);
    for (let x = Math.max(x0, this.x); x < Math.min(x1, this.x + w); x++) {
      const column = x * height + this.y;
      let start = -1;
      for (let j = 0, k = x - this.x; j < h; j++, k += w) {
        if (data[k] && start < 0) start = j;
        else if (!data[k] && start >= 0) {
          add(column + start, column + j);
          start = -1;
        }
      }
      if (start >= 0) add(column + start, column + h);
    }
    if (base) forEachRun(base, (start, end) => add(Math.max(start, x1 * height), end), total, x1 * height);
    /** @type {number[]} */
    const counts = [];
    let last = 0;
    for (const edge of edges) {
      counts.push(edge - last);
      last = edge;
    }
    if (last < total || !edges.length) counts.push(total - last);
    return counts;
  }

  /**
   * The mask painted: from the columns changed since the buffer last
   * became a mask, when it did.
   */
  toMask() {
    const counts = this.base && this.touched ? this.countsWith(this.base, this.touched[0], this.touched[1]) : this.counts();
    const mask = maskFromCounts(this.width, this.height, counts);
    this.base = mask;
    this.touched = null;
    return mask;
  }
}

/** @param {number} v @param {number} lo @param {number} hi */
function clampInt(v, lo, hi) {
  return Math.max(lo, Math.min(hi, Math.floor(v)));
}

/**
 * @param {[number, number, number, number]} a @param {[number, number, number, number]} b
 * @returns {[number, number, number, number]}
 */
function unionBounds(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

export { countsToString, countsFromString };
