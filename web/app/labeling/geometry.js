// Geometry: the view transform between screen and image pixels, and the
// shapes of regions in image pixels. Regions are stored in percent of the
// image (as results carry them); everything here works in image pixels.

/** @typedef {import('./types.js').Region} Region */

/**
 * Screen (CSS pixels inside the canvas) = image pixels * scale + offset.
 */
export class View {
  constructor() {
    this.scale = 1;
    this.offsetX = 0;
    this.offsetY = 0;
  }

  /** @param {number} sx @param {number} sy @returns {[number, number]} */
  toImage(sx, sy) {
    return [(sx - this.offsetX) / this.scale, (sy - this.offsetY) / this.scale];
  }

  /** @param {number} ix @param {number} iy @returns {[number, number]} */
  toScreen(ix, iy) {
    return [ix * this.scale + this.offsetX, iy * this.scale + this.offsetY];
  }

  /**
   * Show the whole image centred in a viewport, with a small margin.
   * @param {number} imageWidth @param {number} imageHeight
   * @param {number} viewWidth @param {number} viewHeight
   */
  fit(imageWidth, imageHeight, viewWidth, viewHeight) {
    const margin = 8;
    const scale = Math.min(
      (viewWidth - 2 * margin) / imageWidth,
      (viewHeight - 2 * margin) / imageHeight,
    );
    this.scale = scale > 0 && Number.isFinite(scale) ? scale : 1;
    this.offsetX = (viewWidth - imageWidth * this.scale) / 2;
    this.offsetY = (viewHeight - imageHeight * this.scale) / 2;
  }

  /**
   * Zoom by `factor` keeping the image point under screen point (sx, sy) fixed.
   * @param {number} factor @param {number} sx @param {number} sy
   */
  zoomAt(factor, sx, sy) {
    const next = Math.min(64, Math.max(0.01, this.scale * factor));
    const [ix, iy] = this.toImage(sx, sy);
    this.scale = next;
    this.offsetX = sx - ix * next;
    this.offsetY = sy - iy * next;
  }
}

/** @param {number} v @param {number} lo @param {number} hi */
export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Rotate (dx, dy) by `degrees` clockwise on screen (the y axis points down).
 * @param {number} dx @param {number} dy @param {number} degrees
 * @returns {[number, number]}
 */
export function rotate(dx, dy, degrees) {
  if (!degrees) return [dx, dy];
  const r = (degrees * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  return [dx * c - dy * s, dx * s + dy * c];
}

/**
 * A box in image pixels: top-left corner (the rotation pivot, as in Label
 * Studio), unrotated size, rotation in degrees.
 * @typedef {{x: number, y: number, w: number, h: number, rotation: number}} PixelBox
 */

/**
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {PixelBox}
 */
export function pixelBox(region, imageWidth, imageHeight) {
  return {
    x: (region.x / 100) * imageWidth,
    y: (region.y / 100) * imageHeight,
    w: (region.width / 100) * imageWidth,
    h: (region.height / 100) * imageHeight,
    rotation: region.rotation || 0,
  };
}

/**
 * The point at local fraction (u, v) of a box: (0,0) top-left, (1,1) bottom-right.
 * @param {PixelBox} box @param {number} u @param {number} v
 * @returns {[number, number]}
 */
export function boxPoint(box, u, v) {
  const [dx, dy] = rotate(u * box.w, v * box.h, box.rotation);
  return [box.x + dx, box.y + dy];
}

/**
 * Corners clockwise from the top-left.
 * @param {PixelBox} box
 * @returns {[number, number][]}
 */
export function boxCorners(box) {
  return [boxPoint(box, 0, 0), boxPoint(box, 1, 0), boxPoint(box, 1, 1), boxPoint(box, 0, 1)];
}

/**
 * A point in the box's own unrotated frame, relative to its top-left corner.
 * @param {PixelBox} box @param {number} px @param {number} py
 * @returns {[number, number]}
 */
export function toBoxFrame(box, px, py) {
  return rotate(px - box.x, py - box.y, -box.rotation);
}

/**
 * Axis-aligned bounds of a region in image pixels: [minX, minY, maxX, maxY].
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {[number, number, number, number]}
 */
export function regionBounds(region, imageWidth, imageHeight) {
  let points;
  if (region.kind === 'rect') {
    const box = pixelBox(region, imageWidth, imageHeight);
    if (!box.rotation) return [box.x, box.y, box.x + box.w, box.y + box.h];
    points = boxCorners(box);
  } else {
    points = region.points.map(([x, y]) => [(x / 100) * imageWidth, (y / 100) * imageHeight]);
  }
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of points) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

/**
 * Even-odd point in polygon.
 * @param {[number, number][]} points @param {number} px @param {number} py
 */
export function pointInPolygon(points, px, py) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Distance from (px, py) to the segment a-b.
 * @param {number} px @param {number} py
 * @param {[number, number]} a @param {[number, number]} b
 */
export function distanceToSegment(px, py, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared ? clamp(((px - a[0]) * dx + (py - a[1]) * dy) / lengthSquared, 0, 1) : 0;
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

/**
 * Whether (px, py), in image pixels, lies inside the region.
 * @param {Region} region @param {number} px @param {number} py
 * @param {number} imageWidth @param {number} imageHeight
 */
export function regionContains(region, px, py, imageWidth, imageHeight) {
  if (region.kind === 'rect') {
    const box = pixelBox(region, imageWidth, imageHeight);
    const [u, v] = toBoxFrame(box, px, py);
    return u >= 0 && v >= 0 && u <= box.w && v <= box.h;
  }
  return pointInPolygon(polygonPixels(region, imageWidth, imageHeight), px, py);
}

/**
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {[number, number][]}
 */
export function polygonPixels(region, imageWidth, imageHeight) {
  return region.points.map(([x, y]) => [(x / 100) * imageWidth, (y / 100) * imageHeight]);
}

/** Area in image pixels (for picking the smallest region under the cursor).
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight */
export function regionArea(region, imageWidth, imageHeight) {
  if (region.kind === 'rect') return (region.width * imageWidth * region.height * imageHeight) / 10000;
  const points = polygonPixels(region, imageWidth, imageHeight);
  let area = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    area += (points[j][0] + points[i][0]) * (points[j][1] - points[i][1]);
  }
  return Math.abs(area / 2);
}

/**
 * Percent of `size`, clamped to 0..100.
 * @param {number} pixels @param {number} size
 */
export function percent(pixels, size) {
  return clamp((pixels / size) * 100, 0, 100);
}

/**
 * A uniform grid over the image for hit testing: each cell lists the indexes
 * of the regions whose bounds touch it, so a lookup tests a handful of
 * regions instead of all of them.
 */
export class SpatialGrid {
  /**
   * @param {Region[]} regions
   * @param {number} imageWidth @param {number} imageHeight
   */
  constructor(regions, imageWidth, imageHeight) {
    this.columns = 64;
    this.rows = 64;
    this.cellWidth = imageWidth / this.columns;
    this.cellHeight = imageHeight / this.rows;
    this.regions = regions;
    /** @type {number[][]} */
    this.cells = Array.from({ length: this.columns * this.rows }, () => []);
    /** Bounds per region, [minX, minY, maxX, maxY] flattened. */
    this.bounds = new Float64Array(regions.length * 4);
    regions.forEach((region, index) => {
      const b = regionBounds(region, imageWidth, imageHeight);
      this.bounds.set(b, index * 4);
      const c0 = this.column(b[0]);
      const c1 = this.column(b[2]);
      const r0 = this.row(b[1]);
      const r1 = this.row(b[3]);
      for (let r = r0; r <= r1; r++) {
        for (let c = c0; c <= c1; c++) this.cells[r * this.columns + c].push(index);
      }
    });
  }

  /** @param {number} x */
  column(x) {
    return clamp(Math.floor(x / this.cellWidth), 0, this.columns - 1);
  }

  /** @param {number} y */
  row(y) {
    return clamp(Math.floor(y / this.cellHeight), 0, this.rows - 1);
  }

  /**
   * Indexes of regions whose bounds come within `slack` pixels of (x, y).
   * @param {number} x @param {number} y @param {number} slack
   * @returns {number[]}
   */
  near(x, y, slack) {
    const found = new Set();
    for (let r = this.row(y - slack); r <= this.row(y + slack); r++) {
      for (let c = this.column(x - slack); c <= this.column(x + slack); c++) {
        for (const index of this.cells[r * this.columns + c]) {
          const b = index * 4;
          if (
            x >= this.bounds[b] - slack &&
            x <= this.bounds[b + 2] + slack &&
            y >= this.bounds[b + 1] - slack &&
            y <= this.bounds[b + 3] + slack
          ) {
            found.add(index);
          }
        }
      }
    }
    return [...found];
  }
}
