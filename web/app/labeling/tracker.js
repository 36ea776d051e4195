// Tracker assist: follows a box from one video frame to the next by
// normalized cross-correlation (NCC) of grayscale pixels, coarse to fine.
// Pure functions over ImageData-like frames ({width, height, data: RGBA}),
// no DOM, so tests run it on synthetic frames.
//
// Each step searches the new frame around the last box: first on a copy
// shrunk so the template is about 16 pixels on its short side (a wide window
// stays cheap), then at each finer level within 2 pixels of the estimate,
// down to full resolution. The template is taken again from every frame the
// box is found in, so the object may slowly change its looks.

/** @typedef {{width: number, height: number, data: Uint8ClampedArray | Uint8Array}} Frame */
/** @typedef {{width: number, height: number, data: Float32Array}} Gray */
/** @typedef {{x: number, y: number, width: number, height: number}} Rect */
/** @typedef {{x: number, y: number, score: number}} Match */

/** Short side of the coarsest template, in its pixels. */
const COARSE_SIDE = 16;
/** How far the box may move between two frames, in box sizes, at most. */
const DEFAULT_REACH = 1;
/** Below this correlation the object counts as lost. */
const DEFAULT_MIN_SCORE = 0.3;

/**
 * The grayscale of `rect` (whole pixels; may reach outside the frame, whose
 * edge pixels are then repeated), shrunk by `factor`: each pixel the mean of
 * a factor × factor block.
 * @param {Frame} frame @param {Rect} rect @param {number} factor
 * @returns {Gray}
 */
export function grayRegion(frame, rect, factor) {
  const width = Math.max(1, Math.floor(rect.width / factor));
  const height = Math.max(1, Math.floor(rect.height / factor));
  const data = new Float32Array(width * height);
  const { data: rgba, width: fw, height: fh } = frame;
  const area = factor * factor;
  for (let gy = 0; gy < height; gy++) {
    for (let gx = 0; gx < width; gx++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const y = Math.min(fh - 1, Math.max(0, rect.y + gy * factor + dy));
        for (let dx = 0; dx < factor; dx++) {
          const x = Math.min(fw - 1, Math.max(0, rect.x + gx * factor + dx));
          const i = (y * fw + x) * 4;
          sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
        }
      }
      data[gy * width + gx] = sum / area;
    }
  }
  return { width, height, data };
}

/**
 * Summed-area tables of a gray image and of its squares, one row and column
 * larger, so the sum over any window is four lookups.
 * @param {Gray} image
 */
function integrals(image) {
  const w = image.width + 1;
  const sum = new Float64Array(w * (image.height + 1));
  const squares = new Float64Array(w * (image.height + 1));
  for (let y = 0; y < image.height; y++) {
    let row = 0;
    let rowSquares = 0;
    for (let x = 0; x < image.width; x++) {
      const v = image.data[y * image.width + x];
      row += v;
      rowSquares += v * v;
      sum[(y + 1) * w + x + 1] = sum[y * w + x + 1] + row;
      squares[(y + 1) * w + x + 1] = squares[y * w + x + 1] + rowSquares;
    }
  }
  return { w, sum, squares };
}

/**
 * Where `template` matches `image` best by normalized cross-correlation:
 * the top-left position (with a sub-pixel correction from the scores
 * around the best one) and its score in [-1, 1]. Positions are those where
 * the template lies wholly inside the image.
 * @param {Gray} image @param {Gray} template
 * @returns {Match}
 */
export function matchTemplate(image, template) {
  const tw = template.width;
  const th = template.height;
  const n = tw * th;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += template.data[i];
  mean /= n;
  const centred = new Float32Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    centred[i] = template.data[i] - mean;
    norm += centred[i] * centred[i];
  }
  const cols = image.width - tw + 1;
  const rows = image.height - th + 1;
  if (cols < 1 || rows < 1) return { x: 0, y: 0, score: -1 };
  const { w, sum, squares } = integrals(image);
  const scores = new Float32Array(cols * rows);
  let best = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      let cross = 0;
      for (let ty = 0; ty < th; ty++) {
        const row = (y + ty) * image.width + x;
        const trow = ty * tw;
        for (let tx = 0; tx < tw; tx++) cross += image.data[row + tx] * centred[trow + tx];
      }
      const a = y * w + x;
      const b = (y + th) * w + x;
      const s = sum[b + tw] - sum[b] - sum[a + tw] + sum[a];
      const s2 = squares[b + tw] - squares[b] - squares[a + tw] + squares[a];
      const variance = s2 - (s * s) / n;
      // A flat window or template correlates with nothing.
      const score = variance > 1e-6 && norm > 1e-6 ? cross / Math.sqrt(variance * norm) : 0;
      scores[y * cols + x] = score;
      if (score > scores[best]) best = y * cols + x;
    }
  }
  const bx = best % cols;
  const by = Math.floor(best / cols);
  const at = (/** @type {number} */ x, /** @type {number} */ y) => scores[y * cols + x];
  const dx = bx > 0 && bx < cols - 1 ? peakOffset(at(bx - 1, by), at(bx, by), at(bx + 1, by)) : 0;
  const dy = by > 0 && by < rows - 1 ? peakOffset(at(bx, by - 1), at(bx, by), at(bx, by + 1)) : 0;
  return { x: bx + dx, y: by + dy, score: at(bx, by) };
}

/**
 * Where the top of a parabola through three equally spaced scores lies,
 * relative to the middle one, within half a step.
 * @param {number} left @param {number} middle @param {number} right
 */
function peakOffset(left, middle, right) {
  const curvature = left - 2 * middle + right;
  if (curvature >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (left - right)) / curvature));
}

/**
 * The shrink factors searched, coarsest first, for a box of this size:
 * halving down to 1.
 * @param {Rect} box
 */
export function pyramid(box) {
  const factors = [];
  let factor = Math.max(1, Math.floor(Math.min(box.width, box.height) / COARSE_SIDE));
  for (;;) {
    factors.push(factor);
    if (factor === 1) return factors;
    factor = Math.max(1, Math.floor(factor / 2));
  }
}

/** @param {Rect} box @returns {Rect} whole pixels */
const pixelRect = (box) => ({ x: Math.round(box.x), y: Math.round(box.y), width: Math.max(1, Math.round(box.width)), height: Math.max(1, Math.round(box.height)) });

/**
 * Follows one box through frames: `next(frame)` finds it in the following
 * frame. Boxes are in pixels of the frames.
 */
export class BoxTracker {
  /**
   * @param {Frame} frame where `box` is known
   * @param {Rect} box
   * @param {{reach?: number, minScore?: number}} [options] reach: the largest move between two frames, in box sizes
   */
  constructor(frame, box, options = {}) {
    this.box = { ...box };
    this.reach = options.reach ?? DEFAULT_REACH;
    this.minScore = options.minScore ?? DEFAULT_MIN_SCORE;
    this.factors = pyramid(box);
    /** The box's pixels at each factor, from the last frame it was found in. @type {Gray[]} */
    this.templates = this.cut(frame);
    /** The last step's coarse score. */
    this.score = 1;
  }

  /** @param {Frame} frame */
  cut(frame) {
    const rect = pixelRect(this.box);
    return this.factors.map((factor) => grayRegion(frame, rect, factor));
  }

  /**
   * The box in the next frame, or null when the object is lost (the best
   * match correlates less than `minScore`).
   * @param {Frame} frame
   * @returns {Rect | null}
   */
  next(frame) {
    const rect = pixelRect(this.box);
    const coarse = this.factors[0];
    const mx = Math.ceil(rect.width * this.reach);
    const my = Math.ceil(rect.height * this.reach);
    let window = { x: rect.x - mx, y: rect.y - my, width: rect.width + 2 * mx, height: rect.height + 2 * my };
    let found = this.search(frame, window, 0);
    if (found.score < this.minScore) return null;
    this.score = found.score;
    for (let level = 1; level < this.factors.length; level++) {
      // The previous level placed the box within one of its pixels: look 2 around.
      const margin = 2 * this.factors[level] + this.factors[level - 1];
      window = { x: Math.round(found.x) - margin, y: Math.round(found.y) - margin, width: rect.width + 2 * margin, height: rect.height + 2 * margin };
      found = this.search(frame, window, level);
    }
    if (coarse === 1 && found.score < this.minScore) return null;
    this.box = { ...this.box, x: found.x, y: found.y };
    this.templates = this.cut(frame);
    return { ...this.box };
  }

  /**
   * The template of one level matched in `window` of `frame`: the box's
   * top-left corner in frame pixels.
   * @param {Frame} frame @param {Rect} window @param {number} level
   */
  search(frame, window, level) {
    const factor = this.factors[level];
    const match = matchTemplate(grayRegion(frame, window, factor), this.templates[level]);
    return { x: window.x + match.x * factor, y: window.y + match.y * factor, score: match.score };
  }
}

/**
 * Intersection over union of two boxes.
 * @param {Rect} a @param {Rect} b
 */
export function iou(a, b) {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}
