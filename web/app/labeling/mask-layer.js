// Drawing masks on the overlay. Each mask is drawn from a bitmap of its
// bounds only, rasterised from its counts at the level of detail the zoom
// needs (at level k a bitmap pixel is 2^k image pixels square, its alpha
// the share of them set) and cached, least recently used out first, within
// a memory budget; a full-image canvas per mask would take 48 MB each at
// 4000×3000. The mask being painted is drawn from its paint buffer instead
// (`PaintPreview`), updated where the brush went.

import { forEachSegment } from './mask.js';

/** @typedef {import('./mask.js').Mask} Mask */
/** @typedef {import('./mask.js').PaintBuffer} PaintBuffer */
/** @typedef {import('./geometry.js').View} View */

/**
 * A cached bitmap: grid pixels [ox, oy, ox + w, oy + h] × 2^level of a mask.
 * @typedef {{mask: Mask, key: string, source: CanvasImageSource, level: number, ox: number, oy: number, w: number, h: number, bytes: number, usedIn: number}} Bitmap
 */

/** What to draw: a mask, its colour, its opacity. @typedef {{mask: Mask, color: string, alpha: number}} MaskItem */

/** Bitmap memory kept for masks, per editor. */
const BUDGET_BYTES = 192 * 1024 * 1024;
/** Rasterising stops for this frame after this long; the rest follow in the next frames. */
const FRAME_BUDGET_MS = 10;
/** Coarsest level: a bitmap pixel of 128 × 128 image pixels (coverage counts fit 16 bits). */
const MAX_LEVEL = 7;

/**
 * The level whose bitmap pixels are at most one device pixel each: the
 * same rule as the image's halved copies.
 * @param {number} devicePixelsPerImagePixel
 */
export function maskLevel(devicePixelsPerImagePixel) {
  if (!(devicePixelsPerImagePixel > 0)) return 0;
  return Math.max(0, Math.min(MAX_LEVEL, Math.floor(Math.log2(1 / devicePixelsPerImagePixel))));
}

export class MaskLayer {
  constructor() {
    /** @type {WeakMap<Mask, Map<string, Bitmap>>} */
    this.byMask = new WeakMap();
    /** Every bitmap, least recently used first. @type {Set<Bitmap>} */
    this.lru = new Set();
    this.bytes = 0;
    this.frame = 0;
  }

  /**
   * Draw masks over the image (screen = image pixels × scale + offset).
   * Returns true when some were left for the next frame.
   * @param {CanvasRenderingContext2D} ctx in CSS pixels
   * @param {MaskItem[]} items bottom first
   * @param {View} view @param {number} dpr
   * @param {[number, number, number, number]} visible image pixels on screen
   * @param {number} imageWidth @param {number} imageHeight
   */
  draw(ctx, items, view, dpr, visible, imageWidth, imageHeight) {
    this.frame++;
    const deviceScale = view.scale * dpr;
    const level = maskLevel(deviceScale);
    const deadline = performance.now() + FRAME_BUDGET_MS;
    let pending = false;
    // Zoomed in, show crisp pixels: the mask's edge is exactly where it is.
    ctx.imageSmoothingEnabled = deviceScale < 2;
    for (const { mask, color, alpha } of items) {
      const sx = imageWidth / mask.width;
      const sy = imageHeight / mask.height;
      const [x0, y0, x1, y1] = mask.bbox;
      if (!mask.area || x1 * sx < visible[0] || y1 * sy < visible[1] || x0 * sx > visible[2] || y0 * sy > visible[3]) continue;
      let bitmap = this.lookup(mask, `${level} ${color}`);
      if (!bitmap && performance.now() < deadline) bitmap = this.rasterise(mask, level, color);
      if (!bitmap) {
        // Another level of the same mask, scaled, until this one is made.
        bitmap = this.anyLevel(mask, color);
        pending = true;
        if (!bitmap) continue;
      }
      bitmap.usedIn = this.frame;
      const f = 2 ** bitmap.level;
      ctx.globalAlpha = alpha;
      ctx.drawImage(
        bitmap.source,
        bitmap.ox * f * sx * view.scale + view.offsetX,
        bitmap.oy * f * sy * view.scale + view.offsetY,
        bitmap.w * f * sx * view.scale,
        bitmap.h * f * sy * view.scale,
      );
    }
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = true;
    this.evict();
    return pending;
  }

  /** @param {Mask} mask @param {string} key */
  lookup(mask, key) {
    const bitmap = this.byMask.get(mask)?.get(key);
    if (bitmap) {
      this.lru.delete(bitmap);
      this.lru.add(bitmap);
    }
    return bitmap ?? null;
  }

  /** @param {Mask} mask @param {string} color */
  anyLevel(mask, color) {
    for (const bitmap of this.byMask.get(mask)?.values() ?? []) if (bitmap.key.endsWith(` ${color}`)) return bitmap;
    return null;
  }

  /**
   * Make and cache the bitmap of a mask at a level.
   * @param {Mask} mask @param {number} level @param {string} color
   * @returns {Bitmap}
   */
  rasterise(mask, level, color) {
    const { pixels, ox, oy, w, h } = rasteriseMask(mask, level, rgbaOf(color));
    /** @type {Bitmap} */
    const bitmap = { mask, key: `${level} ${color}`, source: toBitmap(pixels, w, h), level, ox, oy, w, h, bytes: w * h * 4, usedIn: this.frame };
    let cached = this.byMask.get(mask);
    if (!cached) this.byMask.set(mask, (cached = new Map()));
    cached.set(bitmap.key, bitmap);
    this.lru.add(bitmap);
    this.bytes += bitmap.bytes;
    return bitmap;
  }

  /** Free the least recently used bitmaps over the budget, never one this frame drew. */
  evict() {
    for (const bitmap of this.lru) {
      if (this.bytes <= BUDGET_BYTES || bitmap.usedIn === this.frame) break;
      this.remove(bitmap);
    }
  }

  /** @param {Bitmap} bitmap */
  remove(bitmap) {
    this.lru.delete(bitmap);
    this.byMask.get(bitmap.mask)?.delete(bitmap.key);
    this.bytes -= bitmap.bytes;
    if (typeof ImageBitmap !== 'undefined' && bitmap.source instanceof ImageBitmap) bitmap.source.close();
  }

  /** Free every bitmap (the editor goes). */
  clear() {
    for (const bitmap of [...this.lru]) this.remove(bitmap);
  }
}

/**
 * A mask's bounds at a level as RGBA pixels of one colour, alpha the share
 * of each block's pixels set: one step per column stretch and block.
 * @param {Mask} mask @param {number} level @param {[number, number, number]} rgb
 */
export function rasteriseMask(mask, level, rgb) {
  const [x0, y0, x1, y1] = mask.bbox;
  const ox = x0 >> level;
  const oy = y0 >> level;
  const w = ((x1 - 1) >> level) - ox + 1;
  const h = ((y1 - 1) >> level) - oy + 1;
  const cover = new Uint16Array(w * h);
  forEachSegment(mask, (x, top, bottom) => {
    const column = (x >> level) - ox;
    for (let y = top; y < bottom;) {
      const row = y >> level;
      const next = Math.min(bottom, (row + 1) << level);
      cover[(row - oy) * w + column] += next - y;
      y = next;
    }
  });
  const full = 4 ** level;
  const colours = new Uint32Array(full + 1);
  for (let c = 1; c <= full; c++) colours[c] = packRgba(rgb, Math.round((255 * c) / full));
  const pixels = new Uint8ClampedArray(w * h * 4);
  const words = new Uint32Array(pixels.buffer);
  for (let i = 0; i < cover.length; i++) words[i] = colours[cover[i]];
  return { pixels, ox, oy, w, h };
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

/**
 * The mask being painted, drawn from its paint buffer at full resolution:
 * a canvas the size of the buffer, redrawn only where the brush changed it.
 */
export class PaintPreview {
  constructor() {
    /** @type {OffscreenCanvas | HTMLCanvasElement | null} */
    this.canvas = null;
    /** @type {PaintBuffer | null} */
    this.buffer = null;
    this.color = '';
  }

  /**
   * Bring the canvas up to date with the buffer and draw it.
   * @param {CanvasRenderingContext2D} ctx @param {PaintBuffer} buffer
   * @param {string} color @param {number} alpha @param {View} view @param {number} dpr
   */
  draw(ctx, buffer, color, alpha, view, dpr) {
    this.update(buffer, color);
    if (!this.canvas || !buffer.w || !buffer.h) return;
    ctx.imageSmoothingEnabled = view.scale * dpr < 2;
    ctx.globalAlpha = alpha;
    ctx.drawImage(this.canvas, buffer.x * view.scale + view.offsetX, buffer.y * view.scale + view.offsetY, buffer.w * view.scale, buffer.h * view.scale);
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = true;
  }

  /** @param {PaintBuffer} buffer @param {string} color */
  update(buffer, color) {
    const whole = buffer !== this.buffer || color !== this.color || buffer.resized || !this.canvas;
    const rect = whole ? [buffer.x, buffer.y, buffer.x + buffer.w, buffer.y + buffer.h] : buffer.dirty;
    buffer.dirty = null;
    buffer.resized = false;
    this.buffer = buffer;
    this.color = color;
    if (!rect || !buffer.w || !buffer.h) return;
    if (whole) {
      this.canvas ??= typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
      this.canvas.width = buffer.w;
      this.canvas.height = buffer.h;
    }
    const x0 = Math.max(rect[0], buffer.x);
    const y0 = Math.max(rect[1], buffer.y);
    const w = Math.min(rect[2], buffer.x + buffer.w) - x0;
    const h = Math.min(rect[3], buffer.y + buffer.h) - y0;
    if (w <= 0 || h <= 0) return;
    const on = packRgba(rgbaOf(color), 255);
    const pixels = new Uint8ClampedArray(w * h * 4);
    const words = new Uint32Array(pixels.buffer);
    for (let j = 0; j < h; j++) {
      const from = (y0 + j - buffer.y) * buffer.w + (x0 - buffer.x);
      for (let i = 0; i < w; i++) if (buffer.data[from + i]) words[j * w + i] = on;
    }
    const ctx = /** @type {OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D} */ (this.canvas?.getContext('2d'));
    ctx.putImageData(new ImageData(pixels, w, h), x0 - buffer.x, y0 - buffer.y);
  }

  /** Let the canvas go (its memory with it). */
  release() {
    if (this.canvas) {
      this.canvas.width = 0;
      this.canvas.height = 0;
    }
    this.canvas = null;
    this.buffer = null;
  }
}
