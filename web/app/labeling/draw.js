// Painting on the overlay canvas, in screen pixels: points, skeleton edges,
// captions and handles. The editor works out where things are; this module
// only paints them.

/** Half size of a handle, CSS pixels. */
export const HANDLE = 5;

/**
 * Add an ellipse to a path (a sub-path of its own: no line joins it to the previous one).
 * @param {Path2D | CanvasRenderingContext2D} path
 * @param {number} cx @param {number} cy @param {number} rx @param {number} ry
 * @param {number} degrees rotation
 */
export function traceEllipse(path, cx, cy, rx, ry, degrees) {
  const r = (degrees * Math.PI) / 180;
  path.moveTo(cx + rx * Math.cos(r), cy + rx * Math.sin(r));
  path.ellipse(cx, cy, rx, ry, r, 0, 2 * Math.PI);
}

/**
 * A point: filled with its colour, or hollow and dashed when occluded (placed
 * but not visible); a ring around it when it is the picked one.
 * @param {CanvasRenderingContext2D} ctx
 * @param {[number, number]} at @param {number} radius
 * @param {string} color @param {boolean} occluded @param {boolean} picked
 */
export function paintPoint(ctx, at, radius, color, occluded, picked) {
  const [x, y] = at;
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fillStyle = occluded ? '#fff' : color;
  ctx.fill();
  ctx.lineWidth = occluded ? 2 : 1.5;
  ctx.strokeStyle = occluded ? color : '#fff';
  if (occluded) ctx.setLineDash([2, 2]);
  ctx.stroke();
  ctx.setLineDash([]);
  if (!picked) return;
  ctx.beginPath();
  ctx.arc(x, y, radius + 3.5, 0, 2 * Math.PI);
  ctx.lineWidth = 2;
  ctx.strokeStyle = color;
  ctx.stroke();
}

/**
 * Lines between pairs of points.
 * @param {CanvasRenderingContext2D} ctx
 * @param {[number, number][]} points @param {[number, number][]} edges index pairs
 * @param {string} color @param {number} width
 */
export function paintEdges(ctx, points, edges, color, width) {
  ctx.beginPath();
  for (const [a, b] of edges) {
    ctx.moveTo(points[a][0], points[a][1]);
    ctx.lineTo(points[b][0], points[b][1]);
  }
  ctx.lineWidth = width;
  ctx.strokeStyle = color;
  ctx.stroke();
}

/**
 * A label above (x, y), white on the region's colour.
 * @param {CanvasRenderingContext2D} ctx @param {string} text @param {string} color
 * @param {number} x @param {number} y @param {number} maxWidth
 */
export function paintCaption(ctx, text, color, x, y, maxWidth) {
  if (!text) return;
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  const width = Math.min(maxWidth, ctx.measureText(text).width + 6);
  ctx.fillStyle = color;
  ctx.fillRect(x, y - 14, width, 14);
  ctx.fillStyle = '#fff';
  ctx.fillText(text, x + 3, y - 13, width - 6);
}

/**
 * A handle: round for rotation and midpoints (to insert a vertex), square
 * for corners and vertices, filled when it is the picked vertex.
 * @param {CanvasRenderingContext2D} ctx @param {[number, number]} at
 * @param {'round' | 'small-round' | 'square'} shape @param {string} color @param {boolean} filled
 */
export function paintHandle(ctx, at, shape, color, filled) {
  const [x, y] = at;
  ctx.fillStyle = filled ? color : '#fff';
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  if (shape === 'square') {
    ctx.fillRect(x - HANDLE, y - HANDLE, HANDLE * 2, HANDLE * 2);
    ctx.strokeRect(x - HANDLE, y - HANDLE, HANDLE * 2, HANDLE * 2);
    return;
  }
  ctx.beginPath();
  ctx.arc(x, y, shape === 'round' ? HANDLE : HANDLE - 1.5, 0, Math.PI * 2);
  ctx.fill();
  ctx.stroke();
}
