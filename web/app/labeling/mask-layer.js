// Drawing masks on the overlay. Each mask is drawn from a bitmap of its
// bounds only, rasterised from its counts at the level of detail the zoom
// needs (at level k a bitmap pixel is 2^k image pixels square, its alpha
// the share of them set), cut in tiles so that a big mask zoomed in makes
// only the tiles in view, and cached, least recently used out first,
// within a memory budget; a full-image canvas per mask would take 48 MB
// each at 4000×3000. The masks are composited in tiles of the image at
// each level, so panning and zooming within a level draw a few bitmaps
// however many masks there are, and an edit recomposes only the tiles under
// its mask. The mask being painted is drawn
// from its paint buffer instead (`PaintPreview`), updated where the brush went.

import { forEachSegmentIn } from './mask.js';

/** @typedef {import('./mask.js').Mask} Mask */
/** @typedef {import('./mask.js').PaintBuffer} PaintBuffer */
/** @typedef {import('./geometry.js').View} View */

/** What to draw: a mask, its colour, its opacity. @typedef {{mask: Mask, color: string, alpha: number}} MaskItem */

/** Bitmap memory kept for the masks' tiles, per editor. */
const BUDGET_BYTES = 128 * 1024 * 1024;
/** Memory kept for composited tiles, per editor. */
const COMPOSITE_BYTES = 48 * 1024 * 1024;
/** Rasterising and compositing stop for this frame after this long; the rest follow in the next frames. */
const FRAME_BUDGET_MS = 6;
/** Coarsest level: a bitmap pixel of 128 × 128 image pixels (coverage counts fit 16 bits). */
const MAX_LEVEL = 7;
/** A mask's bitmap at a level is cut in tiles of at most this many pixels a side, so one is quick to make and only those in view are. */
const TILE = 256;
/** Composited tiles are this many pixels a side (of their level). */
const COMPOSITE_TILE = 256;

/**
 * The level whose bitmap pixels are nearest one device pixel each (between
 * 0.7 and 1.4): masks are flat colour, so a little blur zoomed out costs
 * nothing and a coarser level a quarter of the pixels.
 * @param {number} devicePixelsPerImagePixel
 */
export function maskLevel(devicePixelsPerImagePixel) {
  if (!(devicePixelsPerImagePixel > 0)) return 0;
  return Math.max(0, Math.min(MAX_LEVEL, Math.round(Math.log2(1 / devicePixelsPerImagePixel))));
}

/**
 * A cached tile: level pixels [x, y, x + w, y + h] of one mask's bitmap.
 * @typedef {{tiles: Map<number, Tile>, index: number, source: CanvasImageSource, x: number, y: number, w: number, h: number, bytes: number}} Tile
 */

/**
 * A composited tile: the masks over level pixels [x, y] to
 * [x + COMPOSITE_TILE, y + COMPOSITE_TILE], drawn from their tiles; kept
 * while the same masks (colours, opacities) lie over it.
 * @typedef {{key: string, canvas: OffscreenCanvas | HTMLCanvasElement, items: MaskItem[], complete: boolean}} Composite
 */

/**
 * Where a mask's bitmap lies at a level: its bounds in level pixels and
 * its tiles across and down.
 * @param {Mask} mask @param {number} level
 */
function levelBounds(mask, level) {
  const [x0, y0, x1, y1] = mask.bbox;
  const ox = x0 >> level;
  const oy = y0 >> level;
  const w = ((x1 - 1) >> level) - ox + 1;
  const h = ((y1 - 1) >> level) - oy + 1;
  return { ox, oy, w, h, across: Math.ceil(w / TILE), down: Math.ceil(h / TILE) };
}

/** @returns {OffscreenCanvas | HTMLCanvasElement} */
function newCanvas() {
  return typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
}

export class MaskLayer {
  constructor() {
    /** Tiles per mask, per `level colour`, by index. @type {WeakMap<Mask, Map<string, Map<number, Tile>>>} */
    this.byMask = new WeakMap();
    /** Every tile, least recently used first. @type {Set<Tile>} */
    this.lru = new Set();
    this.bytes = 0;
    /**
     * Composited tiles by `level column row`, least recently used first:
     * panning and zooming within a level draw the few in view, however many
     * masks there are, and an edit recomposes only those under its mask.
     * @type {Map<string, Composite>}
     */
    this.composites = new Map();
    /** What the last frame did, for the benchmark. */
    this.stats = { composed: 0, tiles: 0, rasterised: 0, rasteriseMs: 0 };
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
    const size = COMPOSITE_TILE * 2 ** level; // image pixels a composited tile covers
    const [vx0, vy0] = view.toImage(0, 0);
    const [vx1, vy1] = view.toImage(screen.width, screen.height);
    const columns = [Math.max(0, Math.floor(vx0 / size)), Math.min(Math.ceil(imageWidth / size), Math.ceil(vx1 / size))];
    const rows = [Math.max(0, Math.floor(vy0 / size)), Math.min(Math.ceil(imageHeight / size), Math.ceil(vy1 / size))];
    this.stats = { composed: 0, tiles: 0, rasterised: 0, rasteriseMs: 0 };
    const deadline = performance.now() + FRAME_BUDGET_MS;
    let pending = false;
    ctx.imageSmoothingEnabled = deviceScale < 2; // zoomed in, crisp pixels: a mask's edge is where it is
    const drawn = size * view.scale;
    for (let row = rows[0]; row < rows[1]; row++) {
      for (let column = columns[0]; column < columns[1]; column++) {
        const rect = [column * size, row * size, (column + 1) * size, (row + 1) * size];
        const over = items.filter(({ mask }) => overlaps(mask, rect, imageWidth, imageHeight));
        const composite = this.composite(level, column, row, over, rect, imageWidth, imageHeight, deadline);
        if (!composite?.complete) pending = true;
        if (composite) {
          ctx.drawImage(composite.canvas, rect[0] * view.scale + view.offsetX, rect[1] * view.scale + view.offsetY, drawn, drawn);
        } else {
          this.drawStandIn(ctx, level, column, row, rect, view);
        }
      }
    }
    ctx.imageSmoothingEnabled = true;
    this.evict();
    return pending;
  }

  /**
   * The composited tile at `level column row` holding `over`: the cached one
   * if it holds them, else made again while the frame's budget lasts; null
   * when it is not and could not be.
   * @param {number} level @param {number} column @param {number} row @param {MaskItem[]} over
   * @param {number[]} rect image pixels @param {number} imageWidth @param {number} imageHeight @param {number} deadline
   * @returns {Composite | null}
   */
  composite(level, column, row, over, rect, imageWidth, imageHeight, deadline) {
    const key = `${level} ${column} ${row}`;
    const cached = this.composites.get(key);
    if (cached) {
      this.composites.delete(key);
      this.composites.set(key, cached);
      if (cached.complete && sameItems(cached.items, over)) return cached;
    }
    if (performance.now() > deadline) return null;
    const canvas = cached?.canvas ?? newCanvas();
    if (canvas.width !== COMPOSITE_TILE || canvas.height !== COMPOSITE_TILE) {
      canvas.width = COMPOSITE_TILE;
      canvas.height = COMPOSITE_TILE;
    }
    const ctx = /** @type {OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ctx.clearRect(0, 0, COMPOSITE_TILE, COMPOSITE_TILE);
    const f = 2 ** level;
    let complete = true;
    for (const item of over) {
      const sx = imageWidth / item.mask.width;
      const sy = imageHeight / item.mask.height;
      const area = [rect[0] / sx, rect[1] / sy, rect[2] / sx, rect[3] / sy];
      const found = this.tilesFor(item, level, area, deadline) ?? this.otherLevel(item, level, area);
      if (!found || found.level !== level) complete = false;
      if (!found) continue;
      const g = 2 ** found.level;
      ctx.globalAlpha = item.alpha;
      for (const tile of found.tiles) {
        // Tile → grid pixels → image pixels → this tile's pixels.
        ctx.drawImage(tile.source, (tile.x * g * sx - rect[0]) / f, (tile.y * g * sy - rect[1]) / f, (tile.w * g * sx) / f, (tile.h * g * sy) / f);
      }
      this.stats.tiles += found.tiles.length;
    }
    ctx.globalAlpha = 1;
    /** @type {Composite} */
    const composite = { key, canvas, items: over, complete };
    this.composites.set(key, composite);
    this.stats.composed++;
    return composite;
  }

  /**
   * Until a composited tile is made, the one a level coarser or the four a
   * level finer over the same place, if they are there.
   * @param {CanvasRenderingContext2D} ctx @param {number} level @param {number} column @param {number} row
   * @param {number[]} rect image pixels @param {View} view
   */
  drawStandIn(ctx, level, column, row, rect, view) {
    const [x, y] = [rect[0] * view.scale + view.offsetX, rect[1] * view.scale + view.offsetY];
    const drawn = (rect[2] - rect[0]) * view.scale;
    const coarser = this.composites.get(`${level + 1} ${column >> 1} ${row >> 1}`);
    if (coarser) {
      const half = COMPOSITE_TILE / 2;
      ctx.drawImage(coarser.canvas, (column & 1) * half, (row & 1) * half, half, half, x, y, drawn, drawn);
      return;
    }
    for (const [i, j] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      const finer = this.composites.get(`${level - 1} ${2 * column + i} ${2 * row + j}`);
      if (finer) ctx.drawImage(finer.canvas, x + (i * drawn) / 2, y + (j * drawn) / 2, drawn / 2, drawn / 2);
    }
  }

  /**
   * A mask's tiles at a level over `area` (grid pixels), made where
   * missing while the frame's budget lasts; null when some could not be.
   * @param {MaskItem} item @param {number} level @param {number[]} area @param {number} deadline
   * @returns {{level: number, tiles: Tile[]} | null}
   */
  tilesFor(item, level, area, deadline) {
    const { mask, color } = item;
    const bounds = levelBounds(mask, level);
    const key = `${level} ${color}`;
    let cached = this.byMask.get(mask);
    if (!cached) this.byMask.set(mask, (cached = new Map()));
    let tiles = cached.get(key);
    if (!tiles) cached.set(key, (tiles = new Map()));
    /** @type {Tile[]} */
    const out = [];
    for (const index of tileIndexes(bounds, level, area)) {
      let tile = tiles.get(index);
      if (!tile) {
        if (performance.now() > deadline) return null;
        const t = performance.now();
        tile = this.rasterise(mask, level, color, bounds, index, tiles);
        this.stats.rasterised++;
        this.stats.rasteriseMs += performance.now() - t;
      }
      this.lru.delete(tile);
      this.lru.add(tile);
      out.push(tile);
    }
    return { level, tiles: out };
  }

  /**
   * The nearest other level of a mask with every tile over `area` made
   * already, to show until this level's are.
   * @param {MaskItem} item @param {number} level @param {number[]} area
   */
  otherLevel(item, level, area) {
    const cached = this.byMask.get(item.mask);
    for (let distance = 1; distance <= MAX_LEVEL; distance++) {
      for (const other of [level + distance, level - distance]) {
        const tiles = cached?.get(`${other} ${item.color}`);
        if (!tiles || other < 0 || other > MAX_LEVEL) continue;
        const needed = [...tileIndexes(levelBounds(item.mask, other), other, area)].map((index) => tiles.get(index));
        if (needed.every((tile) => tile)) return { level: other, tiles: /** @type {Tile[]} */ (needed) };
      }
    }
    return null;
  }

  /**
   * Make and cache one tile of a mask at a level.
   * @param {Mask} mask @param {number} level @param {string} color
   * @param {ReturnType<typeof levelBounds>} bounds @param {number} index
   * @param {Map<number, Tile>} tiles where it is kept
   * @returns {Tile}
   */
  rasterise(mask, level, color, bounds, index, tiles) {
    const x = bounds.ox + (index % bounds.across) * TILE;
    const y = bounds.oy + Math.floor(index / bounds.across) * TILE;
    const w = Math.min(bounds.ox + bounds.w, x + TILE) - x;
    const h = Math.min(bounds.oy + bounds.h, y + TILE) - y;
    const pixels = rasteriseMask(mask, level, rgbaOf(color), [x, y, w, h]);
    /** @type {Tile} */
    const tile = { tiles, index, source: toBitmap(pixels, w, h), x, y, w, h, bytes: w * h * 4 };
    tiles.set(index, tile);
    this.lru.add(tile);
    this.bytes += tile.bytes;
    return tile;
  }

  /** Free the least recently used tiles and composited tiles over their budgets. */
  evict() {
    for (const tile of this.lru) {
      if (this.bytes <= BUDGET_BYTES) break;
      this.remove(tile);
    }
    const limit = Math.floor(COMPOSITE_BYTES / (COMPOSITE_TILE * COMPOSITE_TILE * 4));
    for (const [key, composite] of this.composites) {
      if (this.composites.size <= limit) break;
      releaseCanvas(composite.canvas);
      this.composites.delete(key);
    }
  }

  /** @param {Tile} tile */
  remove(tile) {
    this.lru.delete(tile);
    tile.tiles.delete(tile.index);
    this.bytes -= tile.bytes;
    if (typeof ImageBitmap !== 'undefined' && tile.source instanceof ImageBitmap) tile.source.close();
  }

  /** Free every bitmap (the editor goes). */
  clear() {
    for (const tile of [...this.lru]) this.remove(tile);
    for (const composite of this.composites.values()) releaseCanvas(composite.canvas);
    this.composites.clear();
  }
}

/** Let a canvas's memory go now rather than at some garbage collection. @param {OffscreenCanvas | HTMLCanvasElement} canvas */
function releaseCanvas(canvas) {
  canvas.width = 0;
  canvas.height = 0;
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

/**
 * The indexes of a mask's tiles at a level that meet `area` (grid pixels).
 * @param {ReturnType<typeof levelBounds>} bounds @param {number} level @param {number[]} area
 */
function* tileIndexes(bounds, level, area) {
  const first = (/** @type {number} */ v, /** @type {number} */ origin, /** @type {number} */ size) =>
    Math.max(0, Math.min(size - 1, Math.floor(((Math.floor(v) >> level) - origin) / TILE)));
  const i0 = first(area[0], bounds.ox, bounds.across);
  const i1 = first(Math.ceil(area[2]) - 1, bounds.ox, bounds.across);
  const j0 = first(area[1], bounds.oy, bounds.down);
  const j1 = first(Math.ceil(area[3]) - 1, bounds.oy, bounds.down);
  for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) yield j * bounds.across + i;
}

/** @param {MaskItem[]} a @param {MaskItem[]} b */
function sameItems(a, b) {
  return a.length === b.length && a.every((item, i) => item.mask === b[i].mask && item.color === b[i].color && item.alpha === b[i].alpha);
}

/**
 * Level pixels [x, y, x + w, y + h] of a mask as RGBA pixels of one
 * colour, alpha the share of each block's image pixels set: one step per
 * column stretch and block, from the counts of that part alone.
 * @param {Mask} mask @param {number} level @param {[number, number, number]} rgb
 * @param {[number, number, number, number]} rect
 */
export function rasteriseMask(mask, level, rgb, [x, y, w, h]) {
  const [bx0, by0, bx1, by1] = mask.bbox;
  const pixels = new Uint8ClampedArray(w * h * 4);
  const words = new Uint32Array(pixels.buffer);
  const gx0 = Math.max(bx0, x << level);
  const gy0 = Math.max(by0, y << level);
  const gx1 = Math.min(bx1, (x + w) << level);
  const gy1 = Math.min(by1, (y + h) << level);
  if (level === 0) {
    // A pixel a pixel: set it straight.
    const on = packRgba(rgb, 255);
    forEachSegmentIn(mask, gx0, gy0, gx1, gy1, (gx, top, bottom) => {
      for (let gy = top, i = (top - y) * w + (gx - x); gy < bottom; gy++, i += w) words[i] = on;
    });
    return pixels;
  }
  const cover = new Uint16Array(w * h);
  forEachSegmentIn(mask, gx0, gy0, gx1, gy1, (gx, top, bottom) => {
    const column = (gx >> level) - x;
    for (let gy = top; gy < bottom;) {
      const row = gy >> level;
      const next = Math.min(bottom, (row + 1) << level);
      cover[(row - y) * w + column] += next - gy;
      gy = next;
    }
  });
  const full = 4 ** level;
  const colours = new Uint32Array(full + 1);
  for (let c = 1; c <= full; c++) colours[c] = packRgba(rgb, Math.round((255 * c) / full));
  for (let i = 0; i < cover.length; i++) words[i] = colours[cover[i]];
  return pixels;
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
