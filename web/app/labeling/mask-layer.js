// Drawing masks on the overlay. The image is cut in tiles of 256 × 256
// pixels of a level of detail (at level k a tile pixel is 2^k image pixels
// square, its colour the masks over it blended by the share of those image
// pixels each sets), and the tiles in view are composited from the masks'
// counts (only the columns and runs inside the tile are read) and cached,
// least recently used out first, within a memory budget. Panning and
// zooming within a level draw a few cached tiles however many masks there
// are; an edit recomposes only the tiles under its mask; no mask ever gets
// a canvas of its own (one of a 4000×3000 image's size would take 48 MB).
// The mask being painted is drawn from its paint buffer instead
// (`PaintPreview`), updated where the brush went.

import { forEachSegmentIn } from './mask.js';

/** @typedef {import('./mask.js').Mask} Mask */
/** @typedef {import('./mask.js').PaintBuffer} PaintBuffer */
/** @typedef {import('./geometry.js').View} View */

/** What to draw: a mask, its colour, its opacity. @typedef {{mask: Mask, color: string, alpha: number}} MaskItem */

/** Tile size, pixels of its level. */
const TILE = 256;
/** Memory kept for tiles, per editor: 192 tiles. */
const BUDGET_BYTES = 48 * 1024 * 1024;
/** Compositing stops for this frame after this long; the rest follow in the next frames. */
const FRAME_BUDGET_MS = 6;
/** Coarsest level: a tile pixel of 128 × 128 image pixels. */
const MAX_LEVEL = 7;

/**
 * The level whose pixels are nearest one device pixel each (between 0.7
 * and 1.4): masks are flat colour, so a little blur zoomed out costs
 * nothing and a coarser level a quarter of the pixels.
 * @param {number} devicePixelsPerImagePixel
 */
export function maskLevel(devicePixelsPerImagePixel) {
  if (!(devicePixelsPerImagePixel > 0)) return 0;
  return Math.max(0, Math.min(MAX_LEVEL, Math.round(Math.log2(1 / devicePixelsPerImagePixel))));
}

/**
 * A composited tile, kept while the same masks (colours, opacities) lie
 * over it; `complete` false while it is a stand-in.
 * @typedef {{source: CanvasImageSource, items: MaskItem[], complete: boolean}} Tile
 */

export class MaskLayer {
  constructor() {
    /** Tiles by `level column row`, least recently used first. @type {Map<string, Tile>} */
    this.tiles = new Map();
  }

  /**
   * Draw masks over the image (screen = image pixels × scale + offset).
   * Returns true when some were left for the next frame.
   * @param {CanvasRenderingContext2D} ctx in CSS pixels
   * @param {MaskItem[]} items bottom first
   * @param {View} view
   * @param {{dpr: number, width: number, height: number}} screen the canvas, CSS pixels
   * @param {number} imageWidth @param {number} imageHeight
   */
  draw(ctx, items, view, screen, imageWidth, imageHeight) {
    const deviceScale = view.scale * screen.dpr;
    const level = maskLevel(deviceScale);
    const size = TILE * 2 ** level; // image pixels a tile covers
    const [vx0, vy0] = view.toImage(0, 0);
    const [vx1, vy1] = view.toImage(screen.width, screen.height);
    const columns = [Math.max(0, Math.floor(vx0 / size)), Math.min(Math.ceil(imageWidth / size), Math.ceil(vx1 / size))];
    const rows = [Math.max(0, Math.floor(vy0 / size)), Math.min(Math.ceil(imageHeight / size), Math.ceil(vy1 / size))];
    const deadline = performance.now() + FRAME_BUDGET_MS;
    let pending = false;
    ctx.imageSmoothingEnabled = deviceScale < 2; // zoomed in, crisp pixels: a mask's edge is where it is
    const drawn = size * view.scale;
    for (let row = rows[0]; row < rows[1]; row++) {
      for (let column = columns[0]; column < columns[1]; column++) {
        const rect = [column * size, row * size, (column + 1) * size, (row + 1) * size];
        const over = items.filter(({ mask }) => overlaps(mask, rect, imageWidth, imageHeight));
        if (!over.length) continue;
        const tile = this.tile(`${level} ${column} ${row}`, over, level, rect, imageWidth, imageHeight, deadline);
        if (!tile?.complete) pending = true;
        if (tile) ctx.drawImage(tile.source, rect[0] * view.scale + view.offsetX, rect[1] * view.scale + view.offsetY, drawn, drawn);
        else this.drawStandIn(ctx, level, column, row, rect, view);
      }
    }
    ctx.imageSmoothingEnabled = true;
    this.evict();
    return pending;
  }

  /**
   * The tile `key` holding `over`: the cached one if it holds them, else
   * composited again while the frame's budget lasts; past it, the cached
   * one as it is (an edit shows a frame later), else null.
   * @param {string} key @param {MaskItem[]} over @param {number} level
   * @param {number[]} rect image pixels @param {number} imageWidth @param {number} imageHeight @param {number} deadline
   * @returns {Tile | null}
   */
  tile(key, over, level, rect, imageWidth, imageHeight, deadline) {
    const cached = this.tiles.get(key);
    if (cached) {
      this.tiles.delete(key);
      this.tiles.set(key, cached);
      if (sameItems(cached.items, over)) return cached;
    }
    if (performance.now() > deadline) return cached ? { ...cached, complete: false } : null;
    const pixels = composite(over, level, rect, imageWidth, imageHeight);
    if (cached) close(cached);
    /** @type {Tile} */
    const tile = { source: toBitmap(pixels, TILE, TILE), items: over, complete: true };
    this.tiles.set(key, tile);
    return tile;
  }

  /**
   * Until a tile is made, the one a level coarser or the four a level
   * finer over the same place, if they are there.
   * @param {CanvasRenderingContext2D} ctx @param {number} level @param {number} column @param {number} row
   * @param {number[]} rect image pixels @param {View} view
   */
  drawStandIn(ctx, level, column, row, rect, view) {
    const [x, y] = [rect[0] * view.scale + view.offsetX, rect[1] * view.scale + view.offsetY];
    const drawn = (rect[2] - rect[0]) * view.scale;
    const coarser = this.tiles.get(`${level + 1} ${column >> 1} ${row >> 1}`);
    if (coarser) {
      const half = TILE / 2;
      ctx.drawImage(coarser.source, (column & 1) * half, (row & 1) * half, half, half, x, y, drawn, drawn);
      return;
    }
    for (const [i, j] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      const finer = this.tiles.get(`${level - 1} ${2 * column + i} ${2 * row + j}`);
      if (finer) ctx.drawImage(finer.source, x + (i * drawn) / 2, y + (j * drawn) / 2, drawn / 2, drawn / 2);
    }
  }

  /** Free the least recently used tiles over the budget. */
  evict() {
    for (const [key, tile] of this.tiles) {
      if (this.tiles.size * TILE * TILE * 4 <= BUDGET_BYTES) break;
      close(tile);
      this.tiles.delete(key);
    }
  }

  /** Free every tile (the editor goes). */
  clear() {
    for (const tile of this.tiles.values()) close(tile);
    this.tiles.clear();
  }
}

/** Let a tile's bitmap go now rather than at some garbage collection. @param {Tile} tile */
function close(tile) {
  if (typeof ImageBitmap !== 'undefined' && tile.source instanceof ImageBitmap) tile.source.close();
}

/** Let a canvas's memory go now. @param {OffscreenCanvas | HTMLCanvasElement} canvas */
function releaseCanvas(canvas) {
  canvas.width = 0;
  canvas.height = 0;
}

/** @returns {OffscreenCanvas | HTMLCanvasElement} */
function newCanvas() {
  return typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
}

/**
 * Whether a mask's bounds meet `rect` (image pixels).
 * @param {Mask} mask @param {number[]} rect @param {number} imageWidth @param {number} imageHeight
 */
function overlaps(mask, rect, imageWidth, imageHeight) {
  const sx = imageWidth / mask.width;
  const sy = imageHeight / mask.height;
  const [x0, y0, x1, y1] = mask.bbox;
  return mask.area > 0 && x1 * sx > rect[0] && y1 * sy > rect[1] && x0 * sx < rect[2] && y0 * sy < rect[3];
}

/** @param {MaskItem[]} a @param {MaskItem[]} b */
function sameItems(a, b) {
  return a.length === b.length && a.every((item, i) => item.mask === b[i].mask && item.color === b[i].color && item.alpha === b[i].alpha);
}

/** Scratch arrays for compositing one tile: premultiplied colour and coverage. */
const premultiplied = new Float32Array(TILE * TILE * 4);
const coverage = new Float32Array(TILE * TILE);

/**
 * The RGBA pixels of one tile: the masks blended bottom first ("source
 * over"), each at its opacity times the share of the tile pixel's image
 * pixels it sets, read from its counts inside the tile alone.
 * @param {MaskItem[]} items @param {number} level @param {number[]} rect image pixels
 * @param {number} imageWidth @param {number} imageHeight
 */
function composite(items, level, rect, imageWidth, imageHeight) {
  const f = 2 ** level;
  /** The tile pixels any mask touched, [x0, y0, x1, y1]: the only ones cleared and converted. */
  const used = [TILE, TILE, 0, 0];
  for (const { mask, color, alpha } of items) {
    // Grid pixel → tile pixel: scaled when the mask's grid is not the image's size.
    const kx = imageWidth / mask.width / f;
    const ky = imageHeight / mask.height / f;
    const [bx0, by0, bx1, by1] = mask.bbox;
    const gx0 = Math.max(bx0, Math.floor(rect[0] / f / kx));
    const gy0 = Math.max(by0, Math.floor(rect[1] / f / ky));
    const gx1 = Math.min(bx1, Math.ceil(rect[2] / f / kx));
    const gy1 = Math.min(by1, Math.ceil(rect[3] / f / ky));
    const ox = rect[0] / f;
    const oy = rect[1] / f;
    // The tile pixels the mask may touch: the only ones to blend and clear.
    const tx0 = Math.max(0, Math.floor(gx0 * kx - ox));
    const ty0 = Math.max(0, Math.floor(gy0 * ky - oy));
    const tx1 = Math.min(TILE, Math.ceil(gx1 * kx - ox));
    const ty1 = Math.min(TILE, Math.ceil(gy1 * ky - oy));
    if (tx1 <= tx0 || ty1 <= ty0) continue;
    if (tx0 < used[0] || ty0 < used[1] || tx1 > used[2] || ty1 > used[3]) grow(used, tx0, ty0, tx1, ty1);
    forEachSegmentIn(mask, gx0, gy0, gx1, gy1, (gx, top, bottom) => addCoverage(gx * kx - ox, (gx + 1) * kx - ox, top * ky - oy, bottom * ky - oy));
    const [r, g, b] = rgbaOf(color);
    for (let y = ty0; y < ty1; y++) {
      for (let x = tx0, i = y * TILE + tx0; x < tx1; x++, i++) {
        const cover = coverage[i];
        if (!cover) continue;
        coverage[i] = 0;
        const a = alpha * Math.min(1, cover);
        const keep = 1 - a;
        const p = 4 * i;
        premultiplied[p] = premultiplied[p] * keep + r * a;
        premultiplied[p + 1] = premultiplied[p + 1] * keep + g * a;
        premultiplied[p + 2] = premultiplied[p + 2] * keep + b * a;
        premultiplied[p + 3] = premultiplied[p + 3] * keep + a;
      }
    }
  }
  const pixels = new Uint8ClampedArray(TILE * TILE * 4);
  for (let y = used[1]; y < used[3]; y++) {
    for (let p = 4 * (y * TILE + used[0]); p < 4 * (y * TILE + used[2]); p += 4) {
      const a = premultiplied[p + 3];
      if (!a) continue;
      pixels[p] = premultiplied[p] / a;
      pixels[p + 1] = premultiplied[p + 1] / a;
      pixels[p + 2] = premultiplied[p + 2] / a;
      pixels[p + 3] = a * 255;
      premultiplied[p] = 0;
      premultiplied[p + 1] = 0;
      premultiplied[p + 2] = 0;
      premultiplied[p + 3] = 0;
    }
  }
  return pixels;
}

/**
 * Widen `used` to hold [x0, y0, x1, y1], clearing the colour scratch in
 * what it newly takes in (what it held is clear or being blended).
 * @param {number[]} used @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1
 */
function grow(used, x0, y0, x1, y1) {
  const next = [Math.min(used[0], x0), Math.min(used[1], y0), Math.max(used[2], x1), Math.max(used[3], y1)];
  const row = (/** @type {number} */ y, /** @type {number} */ from, /** @type {number} */ to) => {
    if (to > from) premultiplied.fill(0, 4 * (y * TILE + from), 4 * (y * TILE + to));
  };
  for (let y = next[1]; y < next[3]; y++) {
    if (y >= used[1] && y < used[3] && used[2] > used[0]) {
      row(y, next[0], used[0]);
      row(y, used[2], next[2]);
    } else {
      row(y, next[0], next[2]);
    }
  }
  used.splice(0, 4, ...next);
}

/**
 * Add to `coverage` the share of each tile pixel that the rectangle
 * [x0, x1) × [y0, y1) (tile pixels, fractional) covers.
 * @param {number} x0 @param {number} x1 @param {number} y0 @param {number} y1
 */
function addCoverage(x0, x1, y0, y1) {
  for (let x = Math.max(0, Math.floor(x0)); x < Math.min(TILE, Math.ceil(x1)); x++) {
    const width = Math.min(x1, x + 1) - Math.max(x0, x);
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(TILE, Math.ceil(y1)); y++) {
      coverage[y * TILE + x] += width * (Math.min(y1, y + 1) - Math.max(y0, y));
    }
  }
}

/** An RGBA pixel as one 32-bit word (little-endian, as every browser's platform is). @param {[number, number, number]} rgb @param {number} alpha */
function packRgba(rgb, alpha) {
  return ((alpha << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0;
}

/** @type {Map<string, [number, number, number]>} */
const colourCache = new Map();
/** @type {OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null} */
let colourContext = null;

/**
 * The red, green and blue of a CSS colour (labels may use any CSS colour).
 * @param {string} color
 * @returns {[number, number, number]}
 */
export function rgbaOf(color) {
  let rgb = colourCache.get(color);
  if (rgb) return rgb;
  if (!colourContext) {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    colourContext = /** @type {OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
  }
  colourContext.clearRect(0, 0, 1, 1);
  colourContext.fillStyle = color;
  colourContext.fillRect(0, 0, 1, 1);
  const [r, g, b] = colourContext.getImageData(0, 0, 1, 1).data;
  rgb = [r, g, b];
  colourCache.set(color, rgb);
  return rgb;
}

/** One canvas every bitmap is made on, then taken from as an ImageBitmap. @type {OffscreenCanvas | null} */
let scratch = null;

/**
 * A drawable bitmap of RGBA pixels: an ImageBitmap (closed when evicted,
 * so its memory goes at once), else a canvas.
 * @param {Uint8ClampedArray<ArrayBuffer>} pixels @param {number} w @param {number} h
 * @returns {CanvasImageSource}
 */
function toBitmap(pixels, w, h) {
  const image = new ImageData(pixels, w, h);
  if (typeof OffscreenCanvas !== 'undefined') {
    scratch ??= new OffscreenCanvas(1, 1);
    scratch.width = w;
    scratch.height = h;
    /** @type {OffscreenCanvasRenderingContext2D} */ (scratch.getContext('2d')).putImageData(image, 0, 0);
    return scratch.transferToImageBitmap();
  }
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')).putImageData(image, 0, 0);
  return canvas;
}

/** The paint preview is brought up to date in blocks this many pixels a side, those in view only. */
const PREVIEW_BLOCK = 256;

/**
 * The mask being painted, drawn from its paint buffer at full resolution:
 * a canvas the size of the buffer, whose blocks are redrawn from the buffer
 * when the brush changed them and they are in view, so the first stroke
 * into a big mask zoomed in does not redraw all of it.
 */
export class PaintPreview {
  constructor() {
    /** @type {OffscreenCanvas | HTMLCanvasElement | null} */
    this.canvas = null;
    /** @type {PaintBuffer | null} */
    this.buffer = null;
    this.color = '';
    /** Per block of the canvas, whether it shows the buffer. */
    this.valid = new Uint8Array(0);
    this.across = 0;
  }

  /**
   * Bring the part in view up to date with the buffer and draw it.
   * @param {CanvasRenderingContext2D} ctx @param {PaintBuffer} buffer
   * @param {string} color @param {number} alpha @param {View} view
   * @param {{dpr: number, width: number, height: number}} screen
   */
  draw(ctx, buffer, color, alpha, view, screen) {
    this.sync(buffer, color);
    const [vx0, vy0] = view.toImage(0, 0);
    const [vx1, vy1] = view.toImage(screen.width, screen.height);
    // The part of the buffer in view, buffer pixels.
    const x0 = Math.max(0, Math.floor(vx0) - buffer.x);
    const y0 = Math.max(0, Math.floor(vy0) - buffer.y);
    const x1 = Math.min(buffer.w, Math.ceil(vx1) - buffer.x);
    const y1 = Math.min(buffer.h, Math.ceil(vy1) - buffer.y);
    const canvas = this.canvas;
    if (!canvas || x1 <= x0 || y1 <= y0) return;
    for (let by = Math.floor(y0 / PREVIEW_BLOCK); by * PREVIEW_BLOCK < y1; by++) {
      for (let bx = Math.floor(x0 / PREVIEW_BLOCK); bx * PREVIEW_BLOCK < x1; bx++) {
        if (!this.valid[by * this.across + bx]) this.repaint(buffer, bx, by);
      }
    }
    ctx.imageSmoothingEnabled = view.scale * screen.dpr < 2;
    ctx.globalAlpha = alpha;
    const [sx, sy] = view.toScreen(buffer.x + x0, buffer.y + y0);
    ctx.drawImage(canvas, x0, y0, x1 - x0, y1 - y0, sx, sy, (x1 - x0) * view.scale, (y1 - y0) * view.scale);
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = true;
  }

  /**
   * Start again for another buffer, colour or size; else mark the blocks the
   * brush changed since the last frame.
   * @param {PaintBuffer} buffer @param {string} color
   */
  sync(buffer, color) {
    if (buffer !== this.buffer || color !== this.color || buffer.resized || !this.canvas) {
      this.canvas ??= newCanvas();
      this.canvas.width = buffer.w;
      this.canvas.height = buffer.h;
      this.across = Math.ceil(buffer.w / PREVIEW_BLOCK);
      this.valid = new Uint8Array(this.across * Math.ceil(buffer.h / PREVIEW_BLOCK));
    } else if (buffer.dirty) {
      const [dx0, dy0, dx1, dy1] = buffer.dirty.map((v, i) => v - (i % 2 ? buffer.y : buffer.x));
      for (let by = Math.floor(dy0 / PREVIEW_BLOCK); by * PREVIEW_BLOCK < dy1; by++) {
        for (let bx = Math.floor(dx0 / PREVIEW_BLOCK); bx * PREVIEW_BLOCK < dx1; bx++) this.valid[by * this.across + bx] = 0;
      }
    }
    buffer.dirty = null;
    buffer.resized = false;
    this.buffer = buffer;
    this.color = color;
  }

  /** Redraw one block from the buffer. @param {PaintBuffer} buffer @param {number} bx @param {number} by */
  repaint(buffer, bx, by) {
    const x0 = bx * PREVIEW_BLOCK;
    const y0 = by * PREVIEW_BLOCK;
    const w = Math.min(buffer.w, x0 + PREVIEW_BLOCK) - x0;
    const h = Math.min(buffer.h, y0 + PREVIEW_BLOCK) - y0;
    const on = packRgba(rgbaOf(this.color), 255);
    const pixels = new Uint8ClampedArray(w * h * 4);
    const words = new Uint32Array(pixels.buffer);
    for (let j = 0; j < h; j++) {
      const from = (y0 + j) * buffer.w + x0;
      for (let i = 0; i < w; i++) if (buffer.data[from + i]) words[j * w + i] = on;
    }
    const ctx = /** @type {OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D} */ (this.canvas?.getContext('2d'));
    ctx.putImageData(new ImageData(pixels, w, h), x0, y0);
    this.valid[by * this.across + bx] = 1;
  }

  /** Let the canvas go (its memory with it). */
  release() {
    if (this.canvas) releaseCanvas(this.canvas);
    this.canvas = null;
    this.buffer = null;
  }
}
