// The image editor: one image canvas and one overlay canvas per Image
// object. No DOM node per region: regions are drawn on the overlay, hit
// tested through a spatial grid, and redrawn once per animation frame at
// most, however many events asked for it. Masks are drawn from cached tiles
// composited from their counts (mask-layer.js) and painted by the mask
// tools (brush.js).

import {
  View, clamp, pixelBox, boxCorners, boxPoint, toBoxFrame, rotate, regionBounds, regionContains, regionArea,
  polygonPixels, ellipseOutline, distanceToSegment, percent, moved, SpatialGrid,
} from './geometry.js';
import { changed, newRegion, POINT_SIZE } from './model.js';
import { SkeletonDraft, jointEdges, cycleJoint, withoutJoint } from './skeleton.js';
import { HANDLE, traceEllipse, paintPoint, paintEdges, paintCaption, paintHandle } from './draw.js';
import { imageLevels, readyLevels, quickToDraw } from './image-cache.js';
import { MaskLayer } from './mask-layer.js';
import { MaskPainter, isMaskTool } from './brush.js';

/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./model.js').ShapeTool} ShapeTool */
/** @typedef {'select' | Exclude<ShapeTool, 'brush'> | 'skeleton' | import('./brush.js').MaskTool} Tool */

/**
 * What an editor needs from its workspace.
 * @typedef {{
 *   readOnly: boolean,
 *   entries: () => readonly Entry[],
 *   selection: Set<string>,
 *   hidden: Set<string>,
 *   locked: Set<string>,
 *   tool: () => Tool,
 *   colorOf: (region: Region) => string,
 *   control: (name: string) => ControlTag | undefined,
 *   drawControl: (object: string, tool: Exclude<Tool, 'select'>) => ControlTag | null,
 *   newLabels: (control: ControlTag) => {labels: string[], labelControl: string | null},
 *   jointLabels: (control: ControlTag) => string[],
 *   canRotate: (region: Region) => boolean,
 *   commit: (entries: Entry[]) => void,
 *   select: (ids: string[]) => void,
 *   activate: (editor: ImageEditor) => void,
 *   draftChanged: () => void,
 *   spaceHeld: () => boolean,
 *   brushSize: () => number,
 *   maskOpacity: () => number,
 * }} EditorHost
 */

/**
 * A handle or part of a region under the pointer (a skeleton's joints are its vertices).
 * @typedef {{region: Region, part: 'body'} |
 *   {region: Region, part: 'resize', u: number, v: number} |
 *   {region: Region, part: 'rotate'} |
 *   {region: Region, part: 'vertex', index: number} |
 *   {region: Region, part: 'midpoint', index: number}} Hit
 */

/** Time spent in the last frames' drawing, for the benchmark. */
export const renderStats = { lastFrameMs: 0, frames: 0 };

const ROTATE_HANDLE_OFFSET = 22;
const MIN_DRAG = 3; // CSS pixels before a press becomes a drag
/** Points are drawn this big on screen at least and at most, whatever their stored size. */
const POINT_RADIUS = { min: 5, max: 10 };

/** Regions drawn as dots and lines rather than outlines. @param {Region} region */
const isMark = (region) => region.kind === 'point' || region.kind === 'skeleton';

export class ImageEditor {
  /**
   * @param {ObjectTag} object
   * @param {HTMLImageElement | HTMLVideoElement} image a video's frames: see video.js
   * @param {EditorHost} host
   */
  constructor(object, image, host) {
    this.object = object;
    this.image = image;
    this.imageWidth = image instanceof HTMLVideoElement ? image.videoWidth : image.naturalWidth || image.width;
    this.imageHeight = image instanceof HTMLVideoElement ? image.videoHeight : image.naturalHeight || image.height;
    this.host = host;
    this.view = new View();
    this.userMovedView = false;
    this.destroyed = false;
    /** Smaller copies of the image for zoomed-out views, smallest last. @type {{scale: number, source: CanvasImageSource}[]} */
    this.levels = (image instanceof HTMLImageElement && readyLevels(image)) || [{ scale: 1, source: image }];
    /** Whether the levels are still being made (a big image not decoded yet is not drawn meanwhile). */
    this.levelsPending = this.levels.length === 1;

    this.element = document.createElement('div');
    this.element.className = 'gl-editor';
    this.stage = document.createElement('div');
    this.stage.className = 'gl-stage';
    this.imageCanvas = document.createElement('canvas');
    this.imageCanvas.className = 'gl-image-canvas';
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'gl-overlay-canvas';
    this.overlay.tabIndex = -1;
    this.stage.append(this.imageCanvas, this.overlay);
    this.status = document.createElement('div');
    this.status.className = 'gl-status';
    this.coords = document.createElement('span');
    /** What the next click does while drawing, and the picked joint. */
    this.hint = document.createElement('span');
    this.hint.className = 'gl-hint';
    this.zoomText = document.createElement('span');
    this.status.append(this.coords, this.hint, this.zoomText);
    this.element.append(this.stage, this.status);

    this.cssWidth = 0;
    this.cssHeight = 0;
    this.dpr = 1;
    this.imageDirty = true;
    this.overlayDirty = true;
    this.frame = 0;

    /** @type {readonly Entry[] | null} */
    this.regionsFrom = null;
    /** @type {Region[]} */
    this.regions = [];
    /** @type {SpatialGrid | null} */
    this.grid = null;

    /** A region being edited, drawn instead of the stored one until pointerup. @type {Region | null} */
    this.preview = null;
    /** A box or ellipse being dragged out, corner to corner, image pixels. @type {{tool: 'rect' | 'ellipse', start: [number, number], end: [number, number]} | null} */
    this.boxDraft = null;
    /** A polygon or polyline being clicked in, image pixels. @type {{tool: 'polygon' | 'polyline', points: [number, number][]} | null} */
    this.pathDraft = null;
    /** A skeleton instance being placed joint by joint. @type {SkeletonDraft | null} */
    this.skeletonDraft = null;
    /** Pointer position in CSS pixels over the canvas. @type {[number, number] | null} */
    this.pointer = null;
    /** Vertex picked on the selected polygon or polyline, or joint on the selected skeleton (for Delete and O). @type {number | null} */
    this.selectedVertex = null;
    /** @type {null | {pointerId: number, kind: string, startX: number, startY: number, moved: boolean, hit: Hit | null, startView?: [number, number]}} */
    this.drag = null;
    /** Whether Shift is down, so the brush's outline shows the eraser's. */
    this.shiftHeld = false;
    this.masks = new MaskLayer();
    this.painter = new MaskPainter(this);

    this.listen();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.stage);
  }

  listen() {
    const o = this.overlay;
    o.addEventListener('pointerdown', (e) => this.pointerDown(e));
    o.addEventListener('pointermove', (e) => this.pointerMove(e));
    o.addEventListener('pointerup', (e) => this.pointerUp(e));
    o.addEventListener('pointercancel', (e) => this.pointerUp(e));
    o.addEventListener('pointerleave', () => {
      this.pointer = null;
      this.coords.textContent = '';
      if (isMaskTool(this.host.tool())) this.invalidate(); // the brush's outline goes
    });
    o.addEventListener('pointerenter', () => this.host.activate(this));
    o.addEventListener('dblclick', (e) => this.doubleClick(e));
    o.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    // Middle-button auto-scroll would fight the pan.
    o.addEventListener('mousedown', (e) => {
      if (e.button === 1) e.preventDefault();
    });
    o.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  destroy() {
    this.destroyed = true;
    this.resizeObserver.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    // The levels belong to the image cache, which frees them.
    this.masks.clear();
    this.painter.dispose();
    this.element.remove();
  }

  // ---- size, view, drawing -------------------------------------------------

  /** Match the canvases' backing stores to their CSS size times the device pixel ratio. */
  resize() {
    // The canvases' own box: the stage's less its border. (The stage's box
    // made the backing store 2 px wider than shown, so everything was drawn
    // squeezed by that much and slightly off the pointer at the far side.)
    const rect = this.overlay.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width) || 800);
    const height = Math.max(1, Math.round(rect.height) || 600);
    const dpr = window.devicePixelRatio || 1;
    if (width === this.cssWidth && height === this.cssHeight && dpr === this.dpr) return;
    const first = this.cssWidth === 0;
    const [cx, cy] = this.view.toImage(this.cssWidth / 2, this.cssHeight / 2);
    this.cssWidth = width;
    this.cssHeight = height;
    this.dpr = dpr;
    for (const canvas of [this.imageCanvas, this.overlay]) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    if (first || !this.userMovedView) this.fit();
    else {
      // Keep the same image point in the middle.
      this.view.offsetX = width / 2 - cx * this.view.scale;
      this.view.offsetY = height / 2 - cy * this.view.scale;
    }
    this.invalidate(true);
  }

  fit() {
    this.view.fit(this.imageWidth, this.imageHeight, this.cssWidth, this.cssHeight);
    this.userMovedView = false;
    this.invalidate(true);
  }

  /** @param {number} factor @param {number} [sx] @param {number} [sy] */
  zoom(factor, sx, sy) {
    const [x, y] = this.pointer ?? [this.cssWidth / 2, this.cssHeight / 2];
    this.view.zoomAt(factor, sx ?? x, sy ?? y);
    this.userMovedView = true;
    this.invalidate(true);
  }

  /** Ask for a redraw in the next animation frame; many calls make one frame. @param {boolean} [image] */
  invalidate(image = false) {
    if (image) this.imageDirty = true;
    this.overlayDirty = true;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  /** Draw now what is out of date. */
  render() {
    this.frame = 0;
    const start = performance.now();
    if (this.cssWidth === 0) this.resize();
    const { imageDirty, overlayDirty } = this;
    // Cleared first: drawing may ask for the next frame (masks left for it).
    this.imageDirty = false;
    this.overlayDirty = false;
    if (imageDirty) this.drawImage();
    if (overlayDirty) {
      this.drawOverlay();
      this.updateHint();
    }
    renderStats.lastFrameMs = performance.now() - start;
    renderStats.frames++;
  }

  /**
   * Use half, quarter, ... sized copies of the image (shared through the
   * image cache), so zoomed-out views draw from a small source (sharper and
   * cheaper than sampling the full one).
   */
  async buildLevels() {
    if (!(this.image instanceof HTMLImageElement)) return;
    const levels = await imageLevels(this.image).catch(() => this.levels);
    this.levelsPending = false;
    if (this.destroyed) return;
    this.levels = levels;
    this.invalidate(true);
  }

  drawImage() {
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.imageCanvas.getContext('2d'));
    const { scale, offsetX, offsetY } = this.view;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.imageCanvas.width, this.imageCanvas.height);
    this.zoomText.textContent = `${Math.round(scale * 100)}%`;
    if (this.levelsPending && this.image instanceof HTMLImageElement && !quickToDraw(this.image)) {
      // A big image not decoded yet: its levels are on the way from the worker.
      ctx.font = `${14 * this.dpr}px system-ui, sans-serif`;
      ctx.fillStyle = '#666';
      ctx.fillText('Loading the image…', 12 * this.dpr, 24 * this.dpr);
      return;
    }
    const devicePixelsPerImagePixel = scale * this.dpr;
    // The smallest copy that still has at least one pixel per device pixel.
    let level = this.levels[0];
    for (const candidate of this.levels) if (candidate.scale >= devicePixelsPerImagePixel) level = candidate;
    // Zoomed in past 2 device pixels per image pixel, show crisp pixels.
    ctx.imageSmoothingEnabled = devicePixelsPerImagePixel < 2;
    ctx.imageSmoothingQuality = 'low';
    const s = (scale / level.scale) * this.dpr;
    ctx.setTransform(s, 0, 0, s, offsetX * this.dpr, offsetY * this.dpr);
    // Only the visible part of the source, so huge zoom levels stay cheap.
    const [x0, y0] = this.view.toImage(0, 0);
    const [x1, y1] = this.view.toImage(this.cssWidth, this.cssHeight);
    const sx = Math.max(0, Math.floor(x0 * level.scale));
    const sy = Math.max(0, Math.floor(y0 * level.scale));
    const levelWidth = Math.max(1, Math.round(this.imageWidth * level.scale));
    const levelHeight = Math.max(1, Math.round(this.imageHeight * level.scale));
    const sw = Math.min(levelWidth, Math.ceil(x1 * level.scale) + 1) - sx;
    const sh = Math.min(levelHeight, Math.ceil(y1 * level.scale) + 1) - sy;
    if (sw > 0 && sh > 0) ctx.drawImage(level.source, sx, sy, sw, sh, sx, sy, sw, sh);
  }

  /** The regions on this image, refreshed when the entries change. */
  currentRegions() {
    const entries = this.host.entries();
    if (entries !== this.regionsFrom) {
      this.regionsFrom = entries;
      /** @type {Region[]} */
      const regions = [];
      for (const entry of entries) if (entry.kind !== 'item' && entry.object === this.object.name) regions.push(entry);
      this.regions = regions;
      this.grid = null;
    }
    return this.regions;
  }

  gridIndex() {
    if (!this.grid) this.grid = new SpatialGrid(this.currentRegions(), this.imageWidth, this.imageHeight);
    return this.grid;
  }

  drawOverlay() {
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.overlay.getContext('2d'));
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const regions = this.currentRegions();
    const { scale, offsetX, offsetY } = this.view;
    const W = this.imageWidth;
    const H = this.imageHeight;
    const sel = this.host.selection;
    const hidden = this.host.hidden;
    const preview = this.preview;
    // Visible part of the image, in image pixels, to skip off-screen regions.
    const [vx0, vy0] = this.view.toImage(0, 0);
    const [vx1, vy1] = this.view.toImage(this.cssWidth, this.cssHeight);

    /** One path per colour: a few strokes instead of thousands. @type {Map<string, Path2D>} */
    const paths = new Map();
    /** @type {Region[]} */
    const selected = [];
    /** Points and skeletons, painted one by one over the outlines. @type {Region[]} */
    const marks = [];
    /** @type {{region: Region, x: number, y: number, w: number}[]} */
    const captions = [];
    /** Masks, painted under everything else. @type {import('./mask-layer.js').MaskItem[]} */
    const masks = [];
    const opacity = this.host.maskOpacity();
    const painting = this.painter.paintingId();
    for (const stored of regions) {
      if (hidden.has(stored.id)) continue;
      const region = preview && preview.id === stored.id ? preview : stored;
      if (region.mask && region.id !== painting) {
        // The selected mask stands out a little.
        masks.push({ mask: region.mask, color: this.host.colorOf(region), alpha: sel.has(region.id) ? Math.min(1, opacity + 0.2) : opacity });
      }
      if (sel.has(region.id)) {
        selected.push(region);
        continue;
      }
      if (region.kind === 'mask') continue;
      if (isMark(region)) {
        marks.push(region);
        continue;
      }
      let path;
      const color = this.host.colorOf(region);
      path = paths.get(color);
      if (!path) paths.set(color, (path = new Path2D()));
      if (region.kind === 'rect' && !region.rotation) {
        const x = (region.x / 100) * W;
        const y = (region.y / 100) * H;
        const w = (region.width / 100) * W;
        const h = (region.height / 100) * H;
        if (x > vx1 || y > vy1 || x + w < vx0 || y + h < vy0) continue;
        const sx = x * scale + offsetX;
        const sy = y * scale + offsetY;
        path.rect(sx, sy, w * scale, h * scale);
        if (w * scale > 48) captions.push({ region, x: sx, y: sy, w: w * scale });
        continue;
      }
      this.traceShape(path, region);
    }
    if (this.masks.draw(ctx, masks, this.view, { dpr: this.dpr, width: this.cssWidth, height: this.cssHeight }, W, H)) this.invalidate();
    this.painter.drawStroke(ctx, Math.min(1, opacity + 0.2));
    // One-pixel lines: the rasterizer draws them as hairlines, far cheaper
    // than wider strokes when thousands of regions are on screen.
    ctx.lineWidth = 1;
    for (const [color, path] of paths) {
      ctx.strokeStyle = color;
      ctx.stroke(path);
    }
    for (const region of marks) this.drawMark(ctx, region, false);
    // Captions only while there are few enough to read.
    if (captions.length <= 300) {
      for (const c of captions) paintCaption(ctx, c.region.labels.join(', '), this.host.colorOf(c.region), c.x, c.y, c.w);
    }
    for (const region of selected) this.drawSelected(ctx, region, selected.length === 1);
    this.drawDrafts(ctx);
    const tool = this.host.tool();
    if (isMaskTool(tool) && !this.host.readOnly) this.painter.drawCursor(ctx, tool, tool === 'eraser' || this.shiftHeld);
  }

  /** @param {Path2D | CanvasRenderingContext2D} path @param {[number, number][]} points image pixels @param {boolean} [closed] */
  tracePath(path, points, closed = true) {
    const { scale, offsetX, offsetY } = this.view;
    points.forEach(([x, y], i) => {
      if (i === 0) path.moveTo(x * scale + offsetX, y * scale + offsetY);
      else path.lineTo(x * scale + offsetX, y * scale + offsetY);
    });
    if (closed) path.closePath();
  }

  /**
   * Add the outline of a box, ellipse, polygon or polyline to `path`, screen pixels.
   * @param {Path2D} path @param {Region} region
   */
  traceShape(path, region) {
    const W = this.imageWidth;
    const H = this.imageHeight;
    if (region.kind === 'ellipse') {
      const box = pixelBox(region, W, H);
      const [cx, cy] = this.view.toScreen(...boxPoint(box, 0.5, 0.5));
      traceEllipse(path, cx, cy, (box.w / 2) * this.view.scale, (box.h / 2) * this.view.scale, box.rotation);
    } else if (region.kind === 'rect') {
      this.tracePath(path, boxCorners(pixelBox(region, W, H)));
    } else if (region.kind === 'mask') {
      const [x0, y0, x1, y1] = regionBounds(region, W, H);
      this.tracePath(path, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]);
    } else {
      this.tracePath(path, polygonPixels(region, W, H), region.kind !== 'polyline');
    }
  }

  /** A point's position on screen. @param {Region} point */
  pointOnScreen(point) {
    return this.view.toScreen((point.x / 100) * this.imageWidth, (point.y / 100) * this.imageHeight);
  }

  /** A point's radius on screen: its stored size, kept big enough to see and grab. @param {Region} point */
  pointRadius(point) {
    return clamp((point.width / 100) * this.imageWidth * this.view.scale, POINT_RADIUS.min, POINT_RADIUS.max);
  }

  /**
   * A point, or a skeleton: its edges in the instance's colour, its joints in
   * their labels' colours.
   * @param {CanvasRenderingContext2D} ctx @param {Region} region @param {boolean} selected
   */
  drawMark(ctx, region, selected) {
    if (region.kind === 'point') {
      paintPoint(ctx, this.pointOnScreen(region), this.pointRadius(region), this.host.colorOf(region), region.occluded, selected);
      return;
    }
    const at = region.joints.map((joint) => this.pointOnScreen(joint));
    const edges = jointEdges(this.host.control(region.control), region.joints);
    paintEdges(ctx, at, edges, this.host.colorOf(region), selected ? 3 : 2);
    region.joints.forEach((joint, i) => {
      const picked = selected && i === this.selectedVertex;
      paintPoint(ctx, at[i], this.pointRadius(joint), this.host.colorOf(joint), joint.occluded, picked);
    });
  }

  /** The outline of a box (or of the box around an ellipse), polygon or polyline in screen pixels. @param {Region} region */
  screenOutline(region) {
    const points = region.kind === 'rect' || region.kind === 'ellipse'
      ? boxCorners(pixelBox(region, this.imageWidth, this.imageHeight))
      : polygonPixels(region, this.imageWidth, this.imageHeight);
    return points.map(([x, y]) => this.view.toScreen(x, y));
  }

  /**
   * Where a region's caption goes, screen pixels: a box's or polygon's first
   * corner, else the top-left of its bounds.
   * @param {Region} region
   * @returns {[number, number]}
   */
  captionAnchor(region) {
    if (region.kind === 'rect' || region.kind === 'polygon' || region.kind === 'polyline') return this.screenOutline(region)[0];
    const [x0, y0] = regionBounds(region, this.imageWidth, this.imageHeight);
    const [sx, sy] = this.view.toScreen(x0, y0);
    return isMark(region) ? [sx - POINT_RADIUS.max, sy - POINT_RADIUS.max] : [sx, sy];
  }

  /**
   * @param {CanvasRenderingContext2D} ctx @param {Region} region
   * @param {boolean} withHandles
   */
  drawSelected(ctx, region, withHandles) {
    const color = this.host.colorOf(region);
    if (isMark(region)) {
      this.drawMark(ctx, region, true);
    } else {
      const path = new Path2D();
      this.traceShape(path, region);
      // A mask is its pixels (drawn already); its bounds are dashed around them.
      const mask = region.kind === 'mask';
      if (region.kind !== 'polyline' && !mask) {
        ctx.globalAlpha = 0.25;
        ctx.fillStyle = color;
        ctx.fill(path);
        ctx.globalAlpha = 1;
      }
      ctx.lineWidth = mask ? 1.5 : 2.5;
      ctx.strokeStyle = color;
      if (mask) ctx.setLineDash([6, 4]);
      ctx.stroke(path);
      ctx.setLineDash([]);
    }
    // A skeleton's caption names its picked joint, beside it.
    const picked = region.kind === 'skeleton' && this.selectedVertex !== null ? region.joints[this.selectedVertex] ?? null : null;
    const [cx, cy] = this.captionAnchor(picked ?? region);
    paintCaption(ctx, (picked ?? region).labels.join(', '), color, cx, cy, 400);
    if (!withHandles || isMark(region) || region.kind === 'mask' || this.host.readOnly || this.host.locked.has(region.id)) return;
    for (const { at, hit } of this.handles(region)) {
      if (hit.part === 'midpoint') paintHandle(ctx, at, 'small-round', color, true);
      else if (hit.part === 'rotate') paintHandle(ctx, at, 'round', color, false);
      else paintHandle(ctx, at, 'square', color, hit.part === 'vertex' && hit.index === this.selectedVertex);
    }
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawDrafts(ctx) {
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#1f6feb';
    if (this.boxDraft) {
      const [x0, y0] = this.view.toScreen(...this.boxDraft.start);
      const [x1, y1] = this.view.toScreen(...this.boxDraft.end);
      ctx.beginPath();
      if (this.boxDraft.tool === 'ellipse') traceEllipse(ctx, (x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, 0);
      else ctx.rect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.stroke();
    }
    if (this.pathDraft) this.drawPathDraft(ctx, this.pathDraft);
    ctx.setLineDash([]);
    if (this.skeletonDraft) this.drawSkeletonDraft(ctx, this.skeletonDraft);
  }

  /**
   * The vertices clicked so far and a line to the pointer; a polygon's first
   * vertex stands out, since a click there closes it.
   * @param {CanvasRenderingContext2D} ctx @param {{tool: 'polygon' | 'polyline', points: [number, number][]}} draft
   */
  drawPathDraft(ctx, draft) {
    const points = draft.points.map(([x, y]) => this.view.toScreen(x, y));
    ctx.beginPath();
    points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (this.pointer) ctx.lineTo(this.pointer[0], this.pointer[1]);
    ctx.stroke();
    ctx.setLineDash([]);
    points.forEach(([x, y], i) => {
      const closing = i === 0 && draft.tool === 'polygon';
      ctx.fillStyle = closing ? '#1f6feb' : '#fff';
      ctx.beginPath();
      ctx.arc(x, y, closing ? HANDLE + 1 : HANDLE - 1, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    });
  }

  /**
   * The joints placed so far, and the name of the next one at the pointer.
   * @param {CanvasRenderingContext2D} ctx @param {SkeletonDraft} draft
   */
  drawSkeletonDraft(ctx, draft) {
    const region = draft.region();
    this.drawMark(ctx, region, false);
    if (!this.pointer || draft.done) return;
    const label = draft.joints[draft.next];
    paintCaption(ctx, label, this.host.colorOf({ ...region, kind: 'point', labels: [label] }), this.pointer[0] + 10, this.pointer[1] - 4, 200);
  }

  /** The status line's hint: what the next click or key does. */
  hintText() {
    if (this.skeletonDraft) return `${this.skeletonDraft.status()} · N: absent · O: occluded · Enter: finish · Esc: cancel`;
    if (this.pathDraft) {
      return this.pathDraft.tool === 'polyline'
        ? 'Enter or double-click: finish the line · Esc: cancel'
        : 'Click the first point or Enter: close · Esc: cancel';
    }
    const joint = this.pickedJoint();
    if (joint) return `Joint ${joint.labels[0]}${joint.occluded ? ' (occluded)' : ''} · O: visible → occluded → absent`;
    const tool = this.host.tool();
    return isMaskTool(tool) && !this.host.readOnly ? this.painter.hint(tool) : '';
  }

  updateHint() {
    const text = this.hintText();
    if (this.hint.textContent !== text) this.hint.textContent = text;
  }

  // ---- hit testing ----------------------------------------------------------

  /**
   * The handles of a selected region, in screen pixels: a box's or ellipse's
   * corners, edge middles and rotation handle; a polygon's or polyline's
   * vertices and midpoints; a skeleton's joints.
   * @param {Region} region
   * @returns {{at: [number, number], hit: Hit}[]}
   */
  handles(region) {
    /** @type {{at: [number, number], hit: Hit}[]} */
    const out = [];
    if (region.kind === 'rect' || region.kind === 'ellipse') {
      const box = pixelBox(region, this.imageWidth, this.imageHeight);
      for (const u of [0, 0.5, 1]) {
        for (const v of [0, 0.5, 1]) {
          if (u === 0.5 && v === 0.5) continue;
          out.push({ at: this.view.toScreen(...boxPoint(box, u, v)), hit: { region, part: 'resize', u, v } });
        }
      }
      if (this.host.canRotate(region)) {
        const [tx, ty] = this.view.toScreen(...boxPoint(box, 0.5, 0));
        const [dx, dy] = rotate(0, -ROTATE_HANDLE_OFFSET, box.rotation);
        out.push({ at: [tx + dx, ty + dy], hit: { region, part: 'rotate' } });
      }
    } else if (region.kind === 'skeleton') {
      region.joints.forEach((joint, index) => out.push({ at: this.pointOnScreen(joint), hit: { region, part: 'vertex', index } }));
    } else if (region.kind !== 'point' && region.kind !== 'mask') {
      const points = this.screenOutline(region);
      this.segments(points, region.kind === 'polygon').forEach(([p, next], index) => {
        out.push({ at: [(p[0] + next[0]) / 2, (p[1] + next[1]) / 2], hit: { region, part: 'midpoint', index } });
      });
      points.forEach((p, index) => out.push({ at: p, hit: { region, part: 'vertex', index } }));
    }
    return out;
  }

  /**
   * The segments between consecutive points, and back to the first when closed.
   * @param {[number, number][]} points @param {boolean} closed
   * @returns {[[number, number], [number, number]][]}
   */
  segments(points, closed) {
    const count = closed ? points.length : points.length - 1;
    /** @type {[[number, number], [number, number]][]} */
    const out = [];
    for (let i = 0; i < count; i++) out.push([points[i], points[(i + 1) % points.length]]);
    return out;
  }

  /**
   * What is under screen point (sx, sy): a handle of the selected region
   * first, then the smallest visible region containing the point.
   * @param {number} sx @param {number} sy
   * @returns {Hit | null}
   */
  hitTest(sx, sy) {
    const regions = this.currentRegions();
    const selected = regions.filter((r) => this.host.selection.has(r.id));
    if (selected.length === 1 && !this.host.readOnly && !this.host.locked.has(selected[0].id) && !this.host.hidden.has(selected[0].id)) {
      const best = this.handleAt(selected[0], sx, sy);
      if (best) return best;
    }
    const [ix, iy] = this.view.toImage(sx, sy);
    // Wide enough for points, which are grabbed by their drawn size.
    const slack = (POINT_RADIUS.max + 2) / this.view.scale;
    let found = null;
    let foundArea = Infinity;
    for (const index of this.gridIndex().near(ix, iy, slack)) {
      const region = regions[index];
      if (this.host.hidden.has(region.id)) continue;
      if (!this.touches(region, sx, sy)) continue;
      const area = regionArea(region, this.imageWidth, this.imageHeight);
      if (area <= foundArea) {
        found = region;
        foundArea = area;
      }
    }
    return found ? { region: found, part: 'body' } : null;
  }

  /**
   * The handle of a selected region under (sx, sy), if any.
   * @param {Region} region @param {number} sx @param {number} sy
   * @returns {Hit | null}
   */
  handleAt(region, sx, sy) {
    if (region.kind === 'skeleton') {
      const joint = this.jointAt(region, sx, sy);
      return joint === null ? null : { region, part: 'vertex', index: joint };
    }
    // Vertices before midpoints: the later entries of handles() win.
    /** @type {Hit | null} */
    let best = null;
    for (const handle of this.handles(region)) {
      if (Math.abs(handle.at[0] - sx) <= HANDLE + 2 && Math.abs(handle.at[1] - sy) <= HANDLE + 2) best = handle.hit;
    }
    // On a box too small on screen for its handles, the body wins so it can still be moved.
    if (best && best.part === 'resize') {
      const box = pixelBox(region, this.imageWidth, this.imageHeight);
      const small = Math.min(box.w, box.h) * this.view.scale < 4 * (HANDLE + 2);
      const [ix, iy] = this.view.toImage(sx, sy);
      if (small && regionContains(region, ix, iy, this.imageWidth, this.imageHeight)) best = { region, part: 'body' };
    }
    return best;
  }

  /**
   * The skeleton's joint nearest to (sx, sy) within grabbing distance, or null.
   * @param {Region} region @param {number} sx @param {number} sy
   */
  jointAt(region, sx, sy) {
    let found = null;
    let nearest = Infinity;
    region.joints.forEach((joint, index) => {
      const [x, y] = this.pointOnScreen(joint);
      const distance = Math.hypot(x - sx, y - sy);
      if (distance <= this.pointRadius(joint) + 3 && distance < nearest) {
        found = index;
        nearest = distance;
      }
    });
    return found;
  }

  /**
   * Whether screen point (sx, sy) is on the region: inside it, or within a
   * few pixels of its outline, its line, its point or a skeleton's joints and edges.
   * @param {Region} region @param {number} sx @param {number} sy
   */
  touches(region, sx, sy) {
    const [ix, iy] = this.view.toImage(sx, sy);
    if (regionContains(region, ix, iy, this.imageWidth, this.imageHeight)) return true;
    if (region.kind === 'mask') return false;
    if (region.kind === 'point') {
      const [x, y] = this.pointOnScreen(region);
      return Math.hypot(x - sx, y - sy) <= this.pointRadius(region) + 3;
    }
    if (region.kind === 'skeleton') {
      if (this.jointAt(region, sx, sy) !== null) return true;
      const at = region.joints.map((joint) => this.pointOnScreen(joint));
      return jointEdges(this.host.control(region.control), region.joints).some(([a, b]) => distanceToSegment(sx, sy, at[a], at[b]) <= 3);
    }
    const outline = region.kind === 'ellipse'
      ? ellipseOutline(pixelBox(region, this.imageWidth, this.imageHeight)).map(([x, y]) => this.view.toScreen(x, y))
      : this.screenOutline(region);
    return this.segments(outline, region.kind !== 'polyline').some(([a, b]) => distanceToSegment(sx, sy, a, b) <= 3);
  }

  // ---- pointer interaction ---------------------------------------------------

  /** @param {PointerEvent | MouseEvent} e @returns {[number, number]} */
  local(e) {
    const rect = this.overlay.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  /** @param {PointerEvent} e */
  pointerDown(e) {
    this.host.activate(this);
    const [sx, sy] = this.local(e);
    this.pointer = [sx, sy];
    const panning = e.button === 1 || (e.button === 0 && this.host.spaceHeld());
    if (!panning && e.button !== 0) return;
    e.preventDefault();
    try {
      this.overlay.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events (benchmarks, tests) have no active pointer to capture.
    }
    if (panning) {
      this.startPan(e.pointerId, sx, sy);
      this.overlay.style.cursor = 'grabbing';
      return;
    }
    const tool = this.host.tool();
    const editable = !this.host.readOnly;
    if (this.pathDraft || this.skeletonDraft) {
      this.drag = { pointerId: e.pointerId, kind: 'click', startX: sx, startY: sy, moved: false, hit: null };
      return;
    }
    if (isMaskTool(tool) && editable) {
      // Mask tools paint wherever they are pressed, over other regions too.
      const painting = this.painter.press(tool, this.view.toImage(sx, sy), e.shiftKey);
      this.drag = { pointerId: e.pointerId, kind: painting ? 'paint' : 'none', startX: sx, startY: sy, moved: false, hit: null };
      return;
    }
    const hit = this.hitTest(sx, sy);
    if (hit && hit.part !== 'body' && editable) {
      this.pressHandle(e, hit, sx, sy);
      return;
    }
    const bodyOfSelected = hit && this.host.selection.has(hit.region.id);
    if (tool === 'select' || !editable || bodyOfSelected) {
      if (hit) this.pressRegion(e, hit, sx, sy);
      else {
        this.host.select([]);
        // Dragging on empty image in select mode pans.
        this.startPan(e.pointerId, sx, sy);
      }
      return;
    }
    if (tool === 'rect' || tool === 'ellipse') {
      const point = this.clampToImage(this.view.toImage(sx, sy));
      this.drag = { pointerId: e.pointerId, kind: 'draw-box', startX: sx, startY: sy, moved: false, hit };
      this.boxDraft = { tool, start: point, end: point };
      return;
    }
    this.drag = { pointerId: e.pointerId, kind: 'click', startX: sx, startY: sy, moved: false, hit: null };
  }

  /** @param {number} pointerId @param {number} sx @param {number} sy */
  startPan(pointerId, sx, sy) {
    this.drag = { pointerId, kind: 'pan', startX: sx, startY: sy, moved: false, hit: null, startView: [this.view.offsetX, this.view.offsetY] };
  }

  /**
   * A press on a handle of the selected region: drag it; Alt deletes a
   * vertex, a midpoint inserts one.
   * @param {PointerEvent} e @param {Hit} hit @param {number} sx @param {number} sy
   */
  pressHandle(e, hit, sx, sy) {
    if (hit.part === 'vertex' && e.altKey && hit.region.kind !== 'skeleton') {
      this.deleteVertex(hit.region, hit.index);
      return;
    }
    if (hit.part === 'midpoint') {
      // Insert the vertex now and drag it.
      const region = this.insertVertex(hit.region, hit.index + 1, this.view.toImage(sx, sy));
      this.preview = region;
      this.selectedVertex = hit.index + 1;
      this.drag = { pointerId: e.pointerId, kind: 'edit', startX: sx, startY: sy, moved: true, hit: { region, part: 'vertex', index: hit.index + 1 } };
      this.invalidate();
      return;
    }
    this.selectedVertex = hit.part === 'vertex' ? hit.index : null;
    this.drag = { pointerId: e.pointerId, kind: 'edit', startX: sx, startY: sy, moved: false, hit };
    this.invalidate();
  }

  /**
   * A press on a region's body: select it (Shift/Ctrl: add or remove it)
   * and drag it. A skeleton's joint is picked and dragged alone; its edges
   * move the whole instance.
   * @param {PointerEvent} e @param {Hit} hit @param {number} sx @param {number} sy
   */
  pressRegion(e, hit, sx, sy) {
    const id = hit.region.id;
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      const ids = new Set(this.host.selection);
      if (ids.has(id)) ids.delete(id);
      else ids.add(id);
      this.host.select([...ids]);
    } else if (!this.host.selection.has(id)) {
      this.host.select([id]);
    }
    this.selectedVertex = null;
    /** @type {Hit} */
    let dragged = hit;
    const joint = hit.region.kind === 'skeleton' ? this.jointAt(hit.region, sx, sy) : null;
    if (joint !== null && this.host.selection.has(id)) {
      this.selectedVertex = joint;
      dragged = { region: hit.region, part: 'vertex', index: joint };
    }
    // Masks stay where they were painted.
    const movable = !this.host.readOnly && !this.host.locked.has(id) && hit.region.kind !== 'mask';
    this.drag = { pointerId: e.pointerId, kind: movable ? 'edit' : 'none', startX: sx, startY: sy, moved: false, hit: dragged };
    this.invalidate();
  }

  /** @param {PointerEvent} e */
  pointerMove(e) {
    const [sx, sy] = this.local(e);
    this.pointer = [sx, sy];
    const [ix, iy] = this.view.toImage(sx, sy);
    this.coords.textContent = ix >= 0 && iy >= 0 && ix < this.imageWidth && iy < this.imageHeight
      ? `${Math.floor(ix)}, ${Math.floor(iy)} px`
      : '';
    const drag = this.drag;
    this.shiftHeld = e.shiftKey;
    if (!drag || drag.pointerId !== e.pointerId) {
      // Drafts and the brush's outline follow the pointer.
      if (this.pathDraft || this.skeletonDraft || isMaskTool(this.host.tool())) this.invalidate();
      this.updateCursor(sx, sy);
      return;
    }
    if (drag.kind === 'paint') {
      // Every position the browser saw since the last event, so fast curves stay round.
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      this.painter.extend((events.length ? events : [e]).map((event) => this.view.toImage(...this.local(event))));
      return;
    }
    if (!drag.moved && Math.hypot(sx - drag.startX, sy - drag.startY) < MIN_DRAG) return;
    drag.moved = true;
    if (drag.kind === 'pan' && drag.startView) {
      this.view.offsetX = drag.startView[0] + sx - drag.startX;
      this.view.offsetY = drag.startView[1] + sy - drag.startY;
      this.userMovedView = true;
      this.invalidate(true);
    } else if (drag.kind === 'draw-box' && this.boxDraft) {
      this.boxDraft.end = this.clampToImage([ix, iy]);
      this.invalidate();
    } else if (drag.kind === 'edit' && drag.hit) {
      this.preview = this.edited(drag.hit, drag.startX, drag.startY, sx, sy, e.shiftKey);
      this.invalidate();
    }
  }

  /** @param {PointerEvent} e */
  pointerUp(e) {
    const drag = this.drag;
    if (!drag || drag.pointerId !== e.pointerId) return;
    this.drag = null;
    this.overlay.style.cursor = '';
    if (this.overlay.hasPointerCapture(e.pointerId)) this.overlay.releasePointerCapture(e.pointerId);
    const [sx, sy] = this.local(e);
    if (drag.kind === 'draw-box') {
      const draft = this.boxDraft;
      this.boxDraft = null;
      if (drag.moved && draft && e.type === 'pointerup') this.addBox(draft.tool, draft.start, draft.end);
      else if (!drag.moved) {
        // A click with the box or ellipse tool selects what is under it.
        this.host.select(drag.hit ? [drag.hit.region.id] : []);
      }
      this.invalidate();
    } else if (drag.kind === 'paint') {
      this.painter.release(e.type === 'pointerup');
    } else if (drag.kind === 'click' && e.type === 'pointerup') {
      this.toolClick(sx, sy);
    } else if (drag.kind === 'edit') {
      const preview = this.preview;
      this.preview = null;
      if (drag.moved && preview && drag.hit && e.type === 'pointerup') this.replace(drag.hit.region, preview);
      else this.invalidate();
    }
  }

  /** @param {number} sx @param {number} sy */
  updateCursor(sx, sy) {
    if (this.host.spaceHeld()) {
      this.overlay.style.cursor = 'grab';
      return;
    }
    const tool = this.host.tool();
    const hit = isMaskTool(tool) ? null : this.hitTest(sx, sy);
    let cursor = tool === 'select' ? 'default' : 'crosshair';
    if (hit && !this.host.readOnly && !this.pathDraft && !this.skeletonDraft) {
      if (hit.part === 'body' && (tool === 'select' || this.host.selection.has(hit.region.id))) cursor = 'move';
      else if (hit.part === 'resize' || hit.part === 'vertex') cursor = 'pointer';
      else if (hit.part === 'rotate') cursor = 'grab';
      else if (hit.part === 'midpoint') cursor = 'copy';
    }
    if (this.overlay.style.cursor !== cursor) this.overlay.style.cursor = cursor;
  }

  /** @param {WheelEvent} e */
  wheel(e) {
    e.preventDefault();
    const [sx, sy] = this.local(e);
    this.pointer = [sx, sy];
    // Line-based deltas (Firefox) are in lines, not pixels.
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.zoom(Math.exp(-delta * 0.002), sx, sy);
  }

  /**
   * Double-click: finishes a polyline being drawn; on an edge of the
   * selected polygon or polyline, inserts a vertex.
   * @param {MouseEvent} e
   */
  doubleClick(e) {
    if (this.host.readOnly) return;
    if (this.pathDraft?.tool === 'polyline') {
      this.finishDrawing();
      return;
    }
    const [sx, sy] = this.local(e);
    const region = this.editableSelection();
    if (!region || (region.kind !== 'polygon' && region.kind !== 'polyline')) return;
    const edges = this.segments(this.screenOutline(region), region.kind === 'polygon');
    const index = edges.findIndex(([a, b]) => distanceToSegment(sx, sy, a, b) <= 5);
    if (index < 0) return;
    const next = this.insertVertex(region, index + 1, this.view.toImage(sx, sy));
    this.selectedVertex = index + 1;
    this.replace(region, next);
  }

  // ---- drawing new regions ------------------------------------------------------

  /** @param {[number, number]} p @returns {[number, number]} */
  clampToImage(p) {
    return [clamp(p[0], 0, this.imageWidth), clamp(p[1], 0, this.imageHeight)];
  }

  /**
   * A click on the image with a clicking tool (or while drawing): a vertex,
   * a point, or a skeleton's next joint.
   * @param {number} sx @param {number} sy
   */
  toolClick(sx, sy) {
    const point = this.clampToImage(this.view.toImage(sx, sy));
    if (this.skeletonDraft) {
      this.placeJoint(point);
      return;
    }
    if (this.pathDraft) {
      this.pathClick(this.pathDraft, sx, sy, point);
      return;
    }
    const tool = this.host.tool();
    if (tool === 'point') this.addPoint(point);
    else if (tool === 'skeleton') {
      if (this.startSkeleton()) this.placeJoint(point);
    } else if (tool === 'polygon' || tool === 'polyline') this.startPath(tool, point);
  }

  /**
   * A new region drawn with `tool` on this image, labelled as new regions
   * are; null when no control of this image draws with it.
   * @param {Exclude<ShapeTool, 'brush'>} tool @param {Partial<Region>} fields geometry
   * @returns {Region | null}
   */
  newShape(tool, fields) {
    const control = this.host.drawControl(this.object.name, tool);
    if (!control) return null;
    return newRegion({ kind: tool, control: control.name, object: this.object.name, ...this.host.newLabels(control), ...fields });
  }

  /**
   * A box, or the ellipse inside it, from two corners dragged out.
   * @param {'rect' | 'ellipse'} tool @param {[number, number]} start @param {[number, number]} end image pixels
   */
  addBox(tool, start, end) {
    const W = this.imageWidth;
    const H = this.imageHeight;
    const x = Math.min(start[0], end[0]);
    const y = Math.min(start[1], end[1]);
    const w = Math.abs(end[0] - start[0]);
    const h = Math.abs(end[1] - start[1]);
    if (w * this.view.scale < MIN_DRAG && h * this.view.scale < MIN_DRAG) return;
    const region = tool === 'rect'
      ? this.newShape(tool, { x: percent(x, W), y: percent(y, H), width: percent(w, W), height: percent(h, H) })
      : this.newShape(tool, { x: percent(x + w / 2, W), y: percent(y + h / 2, H), radiusX: percent(w / 2, W), radiusY: percent(h / 2, H) });
    if (region) this.add(region);
  }

  /** @param {[number, number]} point image pixels */
  addPoint(point) {
    const region = this.newShape('point', { x: percent(point[0], this.imageWidth), y: percent(point[1], this.imageHeight), width: POINT_SIZE });
    if (region) this.add(region);
  }

  /** @param {'polygon' | 'polyline'} tool @param {[number, number]} point image pixels */
  startPath(tool, point) {
    if (!this.host.drawControl(this.object.name, tool)) return;
    this.pathDraft = { tool, points: [point] };
    this.host.select([]);
    this.invalidate();
  }

  /**
   * @param {{tool: 'polygon' | 'polyline', points: [number, number][]}} draft
   * @param {number} sx @param {number} sy @param {[number, number]} point image pixels
   */
  pathClick(draft, sx, sy, point) {
    const [fx, fy] = this.view.toScreen(...draft.points[0]);
    if (draft.tool === 'polygon' && draft.points.length >= 3 && Math.hypot(fx - sx, fy - sy) <= HANDLE + 3) {
      this.finishDrawing();
      return;
    }
    // A second click on the last vertex (a double-click's) adds nothing;
    // compared where both land, clamped to the image, as a click beside it is.
    const [lx, ly] = this.view.toScreen(...draft.points[draft.points.length - 1]);
    const [px, py] = this.view.toScreen(...point);
    if (Math.hypot(lx - px, ly - py) < MIN_DRAG) return;
    draft.points.push(point);
    this.invalidate();
  }

  /**
   * Finish what is being drawn (Enter): close the polygon (3 points at
   * least), end the polyline (2 at least), or end the skeleton instance with
   * the joints placed so far. Too few points keep the drawing going.
   */
  finishDrawing() {
    if (this.skeletonDraft) return this.finishSkeleton();
    const draft = this.pathDraft;
    if (!draft || draft.points.length < (draft.tool === 'polygon' ? 3 : 2)) return false;
    this.pathDraft = null;
    this.invalidate();
    const points = draft.points.map(([x, y]) => /** @type {[number, number]} */ ([percent(x, this.imageWidth), percent(y, this.imageHeight)]));
    const region = this.newShape(draft.tool, { points });
    if (region) this.add(region);
    return Boolean(region);
  }

  cancelDrawing() {
    const had = Boolean(this.pathDraft || this.boxDraft || this.skeletonDraft) || this.painter.cancel();
    this.pathDraft = null;
    this.boxDraft = null;
    if (this.skeletonDraft) {
      this.skeletonDraft = null;
      this.host.draftChanged();
    }
    this.invalidate();
    return had;
  }

  // ---- skeletons ----------------------------------------------------------------

  startSkeleton() {
    const control = this.host.drawControl(this.object.name, 'skeleton');
    if (!control) return false;
    this.skeletonDraft = new SkeletonDraft(control, this.object.name, this.host.jointLabels(control));
    this.host.select([]);
    this.draftChanged();
    return true;
  }

  /** The skeleton draft's next joint, or the instance once every joint is placed or skipped. @param {[number, number]} point image pixels */
  placeJoint(point) {
    const draft = this.skeletonDraft;
    if (!draft) return;
    draft.place(percent(point[0], this.imageWidth), percent(point[1], this.imageHeight));
    if (draft.done) this.finishSkeleton();
    else this.draftChanged();
  }

  /** The next joint is not in the image (N); starts an instance with the skeleton tool. */
  skipJoint() {
    if (!this.skeletonDraft && (this.host.tool() !== 'skeleton' || this.host.readOnly || !this.startSkeleton())) return false;
    const draft = /** @type {SkeletonDraft} */ (this.skeletonDraft);
    draft.skip();
    if (draft.done) this.finishSkeleton();
    else this.draftChanged();
    return true;
  }

  /** Place `label` next (a click on the joint in the panel). @param {string} label */
  chooseJoint(label) {
    if (!this.skeletonDraft) return false;
    this.skeletonDraft.choose(label);
    this.draftChanged();
    return true;
  }

  /** The instance being placed becomes a region, selected with its last joint picked. */
  finishSkeleton() {
    const draft = this.skeletonDraft;
    if (!draft) return false;
    this.skeletonDraft = null;
    this.draftChanged();
    const region = draft.region();
    if (!region.joints.length) return false;
    this.add(region);
    const last = draft.last === null ? -1 : region.joints.findIndex((j) => j.labels[0] === draft.joints[/** @type {number} */ (draft.last)]);
    this.selectedVertex = last >= 0 ? last : null;
    return true;
  }

  draftChanged() {
    this.invalidate();
    this.host.draftChanged();
  }

  /**
   * O: the picked joint goes visible → occluded → absent; while placing an
   * instance, the joint placed last toggles between visible and occluded.
   */
  cycleVisibility() {
    if (this.skeletonDraft) {
      const toggled = this.skeletonDraft.toggleOccluded();
      this.invalidate();
      return toggled;
    }
    const region = this.editableSelection();
    if (!region || region.kind !== 'skeleton' || this.selectedVertex === null) return false;
    const next = cycleJoint(region, this.selectedVertex);
    if (!next || next.joints.length < region.joints.length) this.selectedVertex = null;
    this.replaceOrRemove(region, next);
    return true;
  }

  /** The picked joint of the one selected skeleton, if any. */
  pickedJoint() {
    if (this.selectedVertex === null || this.host.selection.size !== 1) return null;
    const region = this.currentRegions().find((r) => this.host.selection.has(r.id));
    return region?.kind === 'skeleton' ? region.joints[this.selectedVertex] ?? null : null;
  }

  // ---- edits ------------------------------------------------------------------

  /** The one selected region on this image, when it may be edited. */
  editableSelection() {
    if (this.host.readOnly || this.host.selection.size !== 1) return null;
    const region = this.currentRegions().find((r) => this.host.selection.has(r.id));
    return region && !this.host.locked.has(region.id) ? region : null;
  }

  /**
   * The region as it would be after dragging `hit` from (x0, y0) to (x1, y1), screen pixels.
   * @param {Hit} hit @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1
   * @param {boolean} snap
   * @returns {Region}
   */
  edited(hit, x0, y0, x1, y1, snap) {
    const region = hit.region;
    const W = this.imageWidth;
    const H = this.imageHeight;
    const [ax, ay] = this.view.toImage(x0, y0);
    const [bx, by] = this.view.toImage(x1, y1);
    if (hit.part === 'body') {
      // Keep the whole region on the image.
      const [minX, minY, maxX, maxY] = regionBounds(region, W, H);
      const dx = clamp(bx - ax, -minX, Math.max(-minX, W - maxX));
      const dy = clamp(by - ay, -minY, Math.max(-minY, H - maxY));
      return moved(region, dx, dy, W, H);
    }
    if (hit.part === 'vertex') {
      const [px, py] = this.clampToImage([bx, by]);
      /** @type {[number, number]} */
      const at = [percent(px, W), percent(py, H)];
      if (region.kind === 'skeleton') {
        const joints = region.joints.slice();
        joints[hit.index] = changed(joints[hit.index], { x: at[0], y: at[1] });
        return changed(region, { joints });
      }
      const points = region.points.slice();
      points[hit.index] = at;
      return changed(region, { points });
    }
    const box = pixelBox(region, W, H);
    if (hit.part === 'rotate') {
      const [cx, cy] = boxPoint(box, 0.5, 0.5);
      let angle = (Math.atan2(by - cy, bx - cx) * 180) / Math.PI + 90;
      if (snap) angle = Math.round(angle / 15) * 15;
      angle = ((angle % 360) + 360) % 360;
      // Turn about the centre; the stored pivot is the top-left corner.
      const [dx, dy] = rotate(-box.w / 2, -box.h / 2, angle);
      return this.boxRegion(region, { x: cx + dx, y: cy + dy, w: box.w, h: box.h, rotation: angle });
    }
    if (hit.part === 'resize') {
      // Work in the box's own frame; the opposite edges stay put.
      const target = box.rotation ? [bx, by] : this.clampToImage([bx, by]);
      const [u, v] = toBoxFrame(box, target[0], target[1]);
      let left = 0;
      let top = 0;
      let right = box.w;
      let bottom = box.h;
      if (hit.u === 0) left = u;
      if (hit.u === 1) right = u;
      if (hit.v === 0) top = v;
      if (hit.v === 1) bottom = v;
      const [l, r] = left <= right ? [left, right] : [right, left];
      const [t, b] = top <= bottom ? [top, bottom] : [bottom, top];
      const [ox, oy] = rotate(l, t, box.rotation);
      return this.boxRegion(region, { x: box.x + ox, y: box.y + oy, w: r - l, h: b - t, rotation: box.rotation });
    }
    return region;
  }

  /**
   * A rectangle region from a pixel box, or the ellipse inside it, in
   * percent and clamped to the ranges results allow.
   * @param {Region} region @param {import('./geometry.js').PixelBox} box
   */
  boxRegion(region, box) {
    const W = this.imageWidth;
    const H = this.imageHeight;
    if (region.kind === 'ellipse') {
      const [cx, cy] = boxPoint(box, 0.5, 0.5);
      return changed(region, {
        x: percent(cx, W), y: percent(cy, H), radiusX: percent(box.w / 2, W), radiusY: percent(box.h / 2, H), rotation: box.rotation,
      });
    }
    const x = percent(box.x, W);
    const y = percent(box.y, H);
    let width = percent(box.w, W);
    let height = percent(box.h, H);
    if (!box.rotation) {
      width = Math.min(width, 100 - x);
      height = Math.min(height, 100 - y);
    }
    return changed(region, { x, y, width, height, rotation: box.rotation });
  }

  /** @param {Region} region */
  add(region) {
    this.host.commit([...this.host.entries(), region]);
    this.host.select([region.id]);
  }

  /** @param {Region} before @param {Region} after */
  replace(before, after) {
    // By id: `before` may be a preview already (a vertex inserted on press).
    const entries = this.host.entries().map((e) => (e.kind !== 'item' && e.id === before.id ? after : e));
    this.host.commit(entries);
  }

  /** @param {Region} before @param {Region | null} after null: the region goes */
  replaceOrRemove(before, after) {
    if (after) this.replace(before, after);
    else this.host.commit(this.host.entries().filter((e) => e.id !== before.id));
  }

  /** @param {Region} region @param {number} index @param {[number, number]} point image pixels */
  insertVertex(region, index, point) {
    const [px, py] = this.clampToImage(point);
    const points = region.points.slice();
    points.splice(index, 0, [percent(px, this.imageWidth), percent(py, this.imageHeight)]);
    return changed(region, { points });
  }

  /** A polygon keeps 3 vertices at least, a polyline 2. @param {Region} region @param {number} index */
  deleteVertex(region, index) {
    if (region.points.length <= (region.kind === 'polygon' ? 3 : 2)) return false;
    const points = region.points.filter((_, i) => i !== index);
    this.selectedVertex = null;
    this.replace(region, changed(region, { points }));
    return true;
  }

  /** Delete the picked vertex of the selected polygon or polyline, or make the picked joint absent. */
  deleteSelectedVertex() {
    const region = this.editableSelection();
    const index = this.selectedVertex;
    if (!region || index === null) return false;
    if (region.kind === 'skeleton') {
      this.selectedVertex = null;
      this.replaceOrRemove(region, withoutJoint(region, index));
      return true;
    }
    return (region.kind === 'polygon' || region.kind === 'polyline') && this.deleteVertex(region, index);
  }

  /**
   * Move the selected regions by (dx, dy) image pixels (arrow keys).
   * @param {number} dx @param {number} dy
   */
  nudge(dx, dy) {
    const ids = this.host.selection;
    let any = false;
    const entries = this.host.entries().map((e) => {
      if (e.kind === 'item' || e.kind === 'mask' || !ids.has(e.id) || e.object !== this.object.name || this.host.locked.has(e.id)) return e;
      any = true;
      const [sx, sy] = this.view.toScreen(0, 0);
      return this.edited({ region: e, part: 'body' }, sx, sy, sx + dx * this.view.scale, sy + dy * this.view.scale, false);
    });
    if (any) this.host.commit(entries);
    return any;
  }
}
