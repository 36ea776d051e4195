// Geometry: the view transform between screen and image pixels, and the
// shapes of regions in image pixels. Regions are stored in percent of the
// image (as results carry them); everything here works in image pixels.
// Masks are in pixels of their grid, which is the image's natural size
// unless they came from elsewhere (then they are scaled to the image).

import { maskContains } from './mask.js';

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
 * Studio), unrotated size, rotation in degrees. An ellipse is handled as the
 * box around it, so it gets the same resize and rotate handles.
 * @typedef {{x: number, y: number, w: number, h: number, rotation: number}} PixelBox
 */

/**
 * The box of a rectangle, or the box around an ellipse.
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {PixelBox}
 */
export function pixelBox(region, imageWidth, imageHeight) {
  const rotation = region.rotation || 0;
  if (region.kind === 'ellipse') {
    const rx = (region.radiusX / 100) * imageWidth;
    const ry = (region.radiusY / 100) * imageHeight;
    // The centre is the ellipse's pivot; the box's is its top-left corner.
    const [dx, dy] = rotate(-rx, -ry, rotation);
    return { x: (region.x / 100) * imageWidth + dx, y: (region.y / 100) * imageHeight + dy, w: 2 * rx, h: 2 * ry, rotation };
  }
  return {
    x: (region.x / 100) * imageWidth,
    y: (region.y / 100) * imageHeight,
    w: (region.width / 100) * imageWidth,
    h: (region.height / 100) * imageHeight,
    rotation,
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
 * Points along an ellipse's outline, image pixels (for hit testing its edge).
 * @param {PixelBox} box the box around it @param {number} [count]
 * @returns {[number, number][]}
 */
export function ellipseOutline(box, count = 48) {
  return Array.from({ length: count }, (_, i) => {
    const t = (i / count) * 2 * Math.PI;
    return boxPoint(box, 0.5 + Math.cos(t) / 2, 0.5 + Math.sin(t) / 2);
  });
}

/**
 * The points that make a region's shape, image pixels: corners, vertices,
 * a point's position, a skeleton's joints.
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {[number, number][]}
 */
export function regionPixels(region, imageWidth, imageHeight) {
  switch (region.kind) {
    case 'rect':
    case 'ellipse':
      return boxCorners(pixelBox(region, imageWidth, imageHeight));
    case 'point':
      return [[(region.x / 100) * imageWidth, (region.y / 100) * imageHeight]];
    case 'skeleton':
      return region.joints.flatMap((joint) => regionPixels(joint, imageWidth, imageHeight));
    default:
      return polygonPixels(region, imageWidth, imageHeight);
  }
}

/**
 * Axis-aligned bounds of a region in image pixels: [minX, minY, maxX, maxY].
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {[number, number, number, number]}
 */
export function regionBounds(region, imageWidth, imageHeight) {
  if (region.mask) {
    const [x0, y0, x1, y1] = region.mask.bbox;
    const sx = imageWidth / region.mask.width;
    const sy = imageHeight / region.mask.height;
    return [x0 * sx, y0 * sy, x1 * sx, y1 * sy];
  }
  if (region.kind === 'rect' && !region.rotation) {
    const box = pixelBox(region, imageWidth, imageHeight);
    return [box.x, box.y, box.x + box.w, box.y + box.h];
  }
  if (region.kind === 'ellipse') return ellipseBounds(region, imageWidth, imageHeight);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of regionPixels(region, imageWidth, imageHeight)) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

/**
 * The exact bounds of a rotated ellipse (its box's corners reach further).
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {[number, number, number, number]}
 */
function ellipseBounds(region, imageWidth, imageHeight) {
  const cx = (region.x / 100) * imageWidth;
  const cy = (region.y / 100) * imageHeight;
  const rx = (region.radiusX / 100) * imageWidth;
  const ry = (region.radiusY / 100) * imageHeight;
  const r = ((region.rotation || 0) * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  const ex = Math.hypot(rx * c, ry * s);
  const ey = Math.hypot(rx * s, ry * c);
  return [cx - ex, cy - ey, cx + ex, cy + ey];
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
 * Whether (px, py), in image pixels, lies inside the region. Points,
 * polylines and skeletons have no inside: they are hit near their lines.
 * @param {Region} region @param {number} px @param {number} py
 * @param {number} imageWidth @param {number} imageHeight
 */
export function regionContains(region, px, py, imageWidth, imageHeight) {
  const mask = region.mask;
  if (mask) return maskContains(mask, (px * mask.width) / imageWidth, (py * mask.height) / imageHeight);
  if (region.kind === 'rect' || region.kind === 'ellipse') {
    const box = pixelBox(region, imageWidth, imageHeight);
    const [u, v] = toBoxFrame(box, px, py);
    if (region.kind === 'rect') return u >= 0 && v >= 0 && u <= box.w && v <= box.h;
    const du = box.w ? (2 * u) / box.w - 1 : Infinity;
    const dv = box.h ? (2 * v) / box.h - 1 : Infinity;
    return du * du + dv * dv <= 1;
  }
  if (region.kind !== 'polygon') return false;
  return pointInPolygon(polygonPixels(region, imageWidth, imageHeight), px, py);
}

/**
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight
 * @returns {[number, number][]}
 */
export function polygonPixels(region, imageWidth, imageHeight) {
  return region.points.map(([x, y]) => [(x / 100) * imageWidth, (y / 100) * imageHeight]);
}

/** Area in image pixels (for picking the smallest region under the cursor);
 * 0 for shapes without an inside, so they win over the areas around them.
 * @param {Region} region @param {number} imageWidth @param {number} imageHeight */
export function regionArea(region, imageWidth, imageHeight) {
  const mask = region.mask;
  if (mask) return (mask.area * imageWidth * imageHeight) / (mask.width * mask.height);
  if (region.kind === 'rect') return (region.width * imageWidth * region.height * imageHeight) / 10000;
  if (region.kind === 'ellipse') return (Math.PI * region.radiusX * imageWidth * region.radiusY * imageHeight) / 10000;
  if (region.kind !== 'polygon') return 0;
  const points = polygonPixels(region, imageWidth, imageHeight);
  let area = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    area += (points[j][0] + points[i][0]) * (points[j][1] - points[i][1]);
  }
  return Math.abs(area / 2);
}

/**
 * The region moved by (dx, dy) image pixels, as a new object. Masks stay
 * where they were painted.
 * @param {Region} region @param {number} dx @param {number} dy
 * @param {number} imageWidth @param {number} imageHeight
 * @returns {Region}
 */
export function moved(region, dx, dy, imageWidth, imageHeight) {
  /** @param {number} x */
  const mx = (x) => percent((x / 100) * imageWidth + dx, imageWidth);
  /** @param {number} y */
  const my = (y) => percent((y / 100) * imageHeight + dy, imageHeight);
  if (region.kind === 'polygon' || region.kind === 'polyline') {
    return { ...region, points: region.points.map(([x, y]) => [mx(x), my(y)]) };
  }
  if (region.kind === 'mask') return region;
  if (region.kind === 'skeleton') {
    return { ...region, joints: region.joints.map((joint) => moved(joint, dx, dy, imageWidth, imageHeight)) };
  }
  return { ...region, x: mx(region.x), y: my(region.y) };
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
