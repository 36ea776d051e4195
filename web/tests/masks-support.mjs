// Masks as the browser tests check them: the pixels a round brush paints,
// worked out from its geometry (not with the app's code), COCO counts made
// plainly from a set of pixels, and strokes painted with the mouse whose
// pixels are read off the workspace's status line. Pixels are "x,y" strings.

/**
 * The pixels a round brush `d` pixels wide paints with its square's
 * top-left pixel at (ox, oy): those whose centres lie in the circle.
 * @param {number} ox @param {number} oy @param {number} d @param {Set<string>} [into]
 */
export function dab(ox, oy, d, into = new Set()) {
  const r = d / 2;
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < d; i++) if ((i + 0.5 - r) ** 2 + (j + 0.5 - r) ** 2 <= r * r) into.add(`${ox + i},${oy + j}`);
  }
  return into;
}

/**
 * Where the brush lands for image point (x, y): snapped to the pixel grid.
 * @param {number[]} point @param {number} d
 */
export const brushOrigin = ([x, y], d) => [Math.round(x - d / 2), Math.round(y - d / 2)];

/**
 * COCO counts of a set of pixels on a w×h grid: runs down each column, unset first.
 * @param {Set<string>} pixels @param {number} w @param {number} h
 */
export function cocoCounts(pixels, w, h) {
  /** @type {number[]} */
  const counts = [];
  let state = false;
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const on = pixels.has(`${x},${y}`);
      if (on !== state) {
        counts.push(run);
        run = 0;
        state = on;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/**
 * The pixels that COCO counts on a grid of height h set.
 * @param {number[]} counts @param {number} h
 */
export function pixelsOf(counts, h) {
  const pixels = new Set();
  let position = 0;
  counts.forEach((count, i) => {
    if (i % 2) for (let p = position; p < position + count; p++) pixels.add(`${Math.floor(p / h)},${p % h}`);
    position += count;
  });
  return pixels;
}

/** A pixel set as sorted strings, so a failed comparison shows the difference. @param {Set<string>} pixels */
export const sorted = (pixels) => [...pixels].sort();

/** [x, y, width, height] of a pixel set, as COCO's bbox. @param {Set<string>} pixels */
export function bboxOf(pixels) {
  const xy = [...pixels].map((p) => p.split(',').map(Number));
  const x0 = Math.min(...xy.map(([x]) => x));
  const y0 = Math.min(...xy.map(([, y]) => y));
  return [x0, y0, Math.max(...xy.map(([x]) => x)) - x0 + 1, Math.max(...xy.map(([, y]) => y)) - y0 + 1];
}

/**
 * Paints a straight stroke along a row or a column of client pixels on the
 * labeling page with a brush `d` (odd) pixels wide, and returns the pixels
 * it must have painted. With an odd width the brush centres on the pixel
 * under the pointer, which the status line shows, so no view transform is
 * needed: every brush position from the first pixel to the last, one
 * pixel apart.
 * @param {{evaluate: Function, mouse: {move: Function, down: Function, up: Function}}} page playwright's or puppeteer's
 * @param {number[]} from @param {number[]} to client points, the same x or the same y
 * @param {number} d
 */
export async function paintLine(page, from, to, d) {
  if (d % 2 !== 1) throw new Error('paintLine needs an odd brush width');
  const pixelUnder = async () => (await page.evaluate(() => document.querySelector('.gl-status span')?.textContent ?? '')).match(/(\d+), (\d+) px/).slice(1).map(Number);
  await page.mouse.move(from[0], from[1]);
  const [x0, y0] = await pixelUnder();
  await page.mouse.down();
  await page.mouse.move(to[0], to[1], { steps: 12 });
  const [x1, y1] = await pixelUnder();
  await page.mouse.up();
  if (x0 !== x1 && y0 !== y1) throw new Error(`not a straight stroke: ${[x0, y0]} to ${[x1, y1]}`);
  const half = (d - 1) / 2;
  const pixels = new Set();
  for (let x = Math.min(x0, x1); x <= Math.max(x0, x1); x++) {
    for (let y = Math.min(y0, y1); y <= Math.max(y0, y1); y++) dab(x - half, y - half, d, pixels);
  }
  return pixels;
}
