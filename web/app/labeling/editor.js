// The image editor: one image canvas and one overlay canvas per Image
// object. No DOM node per region: regions are drawn on the overlay, hit
// tested through a spatial grid, and redrawn once per animation frame at
// most, however many events asked for it.

import {
  View, clamp, pixelBox, boxCorners, boxPoint, toBoxFrame, rotate, regionBounds,
  regionContains, regionArea, polygonPixels, distanceToSegment, percent, SpatialGrid,
} from './geometry.js';
import { changed, newId } from './model.js';
import { imageLevels, readyLevels } from './image-cache.js';

/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {'select' | 'rect' | 'polygon'} Tool */

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
 *   drawControl: (object: string, kind: 'rect' | 'polygon') => ControlTag | null,
 *   newLabels: (control: ControlTag) => {labels: string[], labelControl: string | null},
 *   canRotate: (region: Region) => boolean,
 *   commit: (entries: Entry[]) => void,
 *   select: (ids: string[]) => void,
 *   activate: (editor: ImageEditor) => void,
 *   spaceHeld: () => boolean,
 * }} EditorHost
 */

/**
 * A handle or part of a region under the pointer.
 * @typedef {{region: Region, part: 'body'} |
 *   {region: Region, part: 'resize', u: number, v: number} |
 *   {region: Region, part: 'rotate'} |
 *   {region: Region, part: 'vertex', index: number} |
 *   {region: Region, part: 'midpoint', index: number}} Hit
 */

/** Time spent in the last frames' drawing, for the benchmark. */
export const renderStats = { lastFrameMs: 0, frames: 0 };

const HANDLE = 5; // half size of a handle, CSS pixels
const ROTATE_HANDLE_OFFSET = 22;
const MIN_DRAG = 3; // CSS pixels before a press becomes a drag

export class ImageEditor {
  /**
   * @param {ObjectTag} object
   * @param {HTMLImageElement} image
   * @param {EditorHost} host
   */
  constructor(object, image, host) {
    this.object = object;
    this.image = image;
    this.imageWidth = image.naturalWidth || image.width;
    this.imageHeight = image.naturalHeight || image.height;
    this.host = host;
    this.view = new View();
    this.userMovedView = false;
    this.destroyed = false;
    /** Smaller copies of the image for zoomed-out views, smallest last. @type {{scale: number, source: CanvasImageSource}[]} */
    this.levels = (image instanceof HTMLImageElement && readyLevels(image)) || [{ scale: 1, source: image }];

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
    this.zoomText = document.createElement('span');
    this.status.append(this.coords, this.zoomText);
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
    /** Drawing in progress, image pixels. @type {[number, number][] | null} */
    this.polygonDraft = null;
    /** @type {[number, number] | null} */
    this.rectDraft = null; // corners as [x0, y0] with rectDraftEnd
    /** @type {[number, number] | null} */
    this.rectDraftEnd = null;
    /** Pointer position in CSS pixels over the canvas. @type {[number, number] | null} */
    this.pointer = null;
    /** Vertex picked on the selected polygon (for Delete). @type {number | null} */
    this.selectedVertex = null;
    /** @type {null | {pointerId: number, kind: string, startX: number, startY: number, moved: boolean, hit: Hit | null, startView?: [number, number]}} */
    this.drag = null;

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
    if (this.imageDirty) this.drawImage();
    if (this.overlayDirty) this.drawOverlay();
    this.imageDirty = false;
    this.overlayDirty = false;
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
    const levels = await imageLevels(this.image);
    if (this.destroyed || this.levels === levels) return;
    this.levels = levels;
    this.invalidate(true);
  }

  drawImage() {
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.imageCanvas.getContext('2d'));
    const { scale, offsetX, offsetY } = this.view;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.imageCanvas.width, this.imageCanvas.height);
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
    this.zoomText.textContent = `${Math.round(scale * 100)}%`;
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
    /** @type {{region: Region, x: number, y: number, w: number}[]} */
    const captions = [];
    for (const stored of regions) {
      if (hidden.has(stored.id)) continue;
      const region = preview && preview.id === stored.id ? preview : stored;
      if (sel.has(region.id)) {
        selected.push(region);
        continue;
      }
      let path;
      const color = this.host.colorOf(region);
      path = paths.get(color);
      if (!path) paths.set(color, (path = new Path2D()));
      if (region.kind === 'rect') {
        const x = (region.x / 100) * W;
        const y = (region.y / 100) * H;
        const w = (region.width / 100) * W;
        const h = (region.height / 100) * H;
        if (!region.rotation) {
          if (x > vx1 || y > vy1 || x + w < vx0 || y + h < vy0) continue;
          const sx = x * scale + offsetX;
          const sy = y * scale + offsetY;
          path.rect(sx, sy, w * scale, h * scale);
          if (w * scale > 48) captions.push({ region, x: sx, y: sy, w: w * scale });
          continue;
        }
        this.tracePolygon(path, boxCorners(pixelBox(region, W, H)));
      } else {
        this.tracePolygon(path, polygonPixels(region, W, H));
      }
    }
    // One-pixel lines: the rasterizer draws them as hairlines, far cheaper
    // than wider strokes when thousands of regions are on screen.
    ctx.lineWidth = 1;
    for (const [color, path] of paths) {
      ctx.strokeStyle = color;
      ctx.stroke(path);
    }
    // Captions only while there are few enough to read.
    if (captions.length <= 300) {
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      for (const c of captions) this.caption(ctx, c.region, c.x, c.y, c.w);
    }
    for (const region of selected) this.drawSelected(ctx, region, selected.length === 1);
    this.drawDrafts(ctx);
  }

  /** @param {Path2D} path @param {[number, number][]} points image pixels */
  tracePolygon(path, points) {
    const { scale, offsetX, offsetY } = this.view;
    points.forEach(([x, y], i) => {
      if (i === 0) path.moveTo(x * scale + offsetX, y * scale + offsetY);
      else path.lineTo(x * scale + offsetX, y * scale + offsetY);
    });
    path.closePath();
  }

  /**
   * @param {CanvasRenderingContext2D} ctx @param {Region} region
   * @param {number} x @param {number} y @param {number} maxWidth
   */
  caption(ctx, region, x, y, maxWidth) {
    const text = region.labels.join(', ');
    if (!text) return;
    const width = Math.min(maxWidth, ctx.measureText(text).width + 6);
    ctx.fillStyle = this.host.colorOf(region);
    ctx.fillRect(x, y - 14, width, 14);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x + 3, y - 13, width - 6);
  }

  /** The outline of a region in screen pixels. @param {Region} region */
  screenOutline(region) {
    const points = region.kind === 'rect'
      ? boxCorners(pixelBox(region, this.imageWidth, this.imageHeight))
      : polygonPixels(region, this.imageWidth, this.imageHeight);
    return points.map(([x, y]) => this.view.toScreen(x, y));
  }

  /**
   * @param {CanvasRenderingContext2D} ctx @param {Region} region
   * @param {boolean} withHandles
   */
  drawSelected(ctx, region, withHandles) {
    const color = this.host.colorOf(region);
    const outline = this.screenOutline(region);
    const path = new Path2D();
    outline.forEach(([x, y], i) => (i ? path.lineTo(x, y) : path.moveTo(x, y)));
    path.closePath();
    ctx.globalAlpha = 0.25;
    ctx.fillStyle = color;
    ctx.fill(path);
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = color;
    ctx.stroke(path);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    this.caption(ctx, region, outline[0][0], outline[0][1], 400);
    if (!withHandles || this.host.readOnly || this.host.locked.has(region.id)) return;
    for (const handle of this.handles(region)) {
      const [x, y] = handle.at;
      ctx.fillStyle = handle.hit.part === 'midpoint' ? color : '#fff';
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      const size = handle.hit.part === 'midpoint' ? HANDLE - 1.5 : HANDLE;
      if (handle.hit.part === 'rotate' || handle.hit.part === 'midpoint') {
        ctx.beginPath();
        ctx.arc(x, y, size, 0, Math.PI * 2);
        ctx.fill();
        ctx.stroke();
      } else {
        const isPicked = handle.hit.part === 'vertex' && handle.hit.index === this.selectedVertex;
        ctx.fillStyle = isPicked ? color : '#fff';
        ctx.fillRect(x - size, y - size, size * 2, size * 2);
        ctx.strokeRect(x - size, y - size, size * 2, size * 2);
      }
    }
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawDrafts(ctx) {
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#1f6feb';
    if (this.rectDraft && this.rectDraftEnd) {
      const [x0, y0] = this.view.toScreen(...this.rectDraft);
      const [x1, y1] = this.view.toScreen(...this.rectDraftEnd);
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    }
    if (this.polygonDraft) {
      const points = this.polygonDraft.map(([x, y]) => this.view.toScreen(x, y));
      ctx.beginPath();
      points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (this.pointer) ctx.lineTo(this.pointer[0], this.pointer[1]);
      ctx.stroke();
      ctx.setLineDash([]);
      points.forEach(([x, y], i) => {
        ctx.fillStyle = i === 0 ? '#1f6feb' : '#fff';
        ctx.beginPath();
        ctx.arc(x, y, i === 0 ? HANDLE + 1 : HANDLE - 1, 0, Math.PI * 2);
        ctx.fill();
        ctx.stroke();
      });
    }
    ctx.setLineDash([]);
  }

  // ---- hit testing ----------------------------------------------------------

  /**
   * The handles of a selected region, in screen pixels.
   * @param {Region} region
   * @returns {{at: [number, number], hit: Hit}[]}
   */
  handles(region) {
    /** @type {{at: [number, number], hit: Hit}[]} */
    const out = [];
    if (region.kind === 'rect') {
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
    } else {
      const points = this.screenOutline(region);
      points.forEach((p, index) => {
        const next = points[(index + 1) % points.length];
        out.push({ at: [(p[0] + next[0]) / 2, (p[1] + next[1]) / 2], hit: { region, part: 'midpoint', index } });
      });
      points.forEach((p, index) => out.push({ at: p, hit: { region, part: 'vertex', index } }));
    }
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
      // Vertices before midpoints: the later entries of handles() win.
      /** @type {Hit | null} */
      let best = null;
      for (const handle of this.handles(selected[0])) {
        if (Math.abs(handle.at[0] - sx) <= HANDLE + 2 && Math.abs(handle.at[1] - sy) <= HANDLE + 2) best = handle.hit;
      }
      // On a box too small on screen for its handles, the body wins so it can still be moved.
      const region = selected[0];
      if (best && best.part === 'resize' && region.kind === 'rect') {
        const box = pixelBox(region, this.imageWidth, this.imageHeight);
        const small = Math.min(box.w, box.h) * this.view.scale < 4 * (HANDLE + 2);
        const [ix, iy] = this.view.toImage(sx, sy);
        if (small && regionContains(region, ix, iy, this.imageWidth, this.imageHeight)) best = { region, part: 'body' };
      }
      if (best) return best;
    }
    const [ix, iy] = this.view.toImage(sx, sy);
    const slack = 3 / this.view.scale;
    let found = null;
    let foundArea = Infinity;
    for (const index of this.gridIndex().near(ix, iy, slack)) {
      const region = regions[index];
      if (this.host.hidden.has(region.id)) continue;
      if (!regionContains(region, ix, iy, this.imageWidth, this.imageHeight) && !this.nearOutline(region, ix, iy, slack)) continue;
      const area = regionArea(region, this.imageWidth, this.imageHeight);
      if (area <= foundArea) {
        found = region;
        foundArea = area;
      }
    }
    return found ? { region: found, part: 'body' } : null;
  }

  /** @param {Region} region @param {number} ix @param {number} iy @param {number} slack */
  nearOutline(region, ix, iy, slack) {
    const points = region.kind === 'rect'
      ? boxCorners(pixelBox(region, this.imageWidth, this.imageHeight))
      : polygonPixels(region, this.imageWidth, this.imageHeight);
    for (let i = 0; i < points.length; i++) {
      if (distanceToSegment(ix, iy, points[i], points[(i + 1) % points.length]) <= slack) return true;
    }
    return false;
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
      this.drag = { pointerId: e.pointerId, kind: 'pan', startX: sx, startY: sy, moved: false, hit: null, startView: [this.view.offsetX, this.view.offsetY] };
      this.overlay.style.cursor = 'grabbing';
      return;
    }
    const tool = this.host.tool();
    const editable = !this.host.readOnly;
    if (this.polygonDraft) {
      this.drag = { pointerId: e.pointerId, kind: 'polygon-click', startX: sx, startY: sy, moved: false, hit: null };
      return;
    }
    const hit = this.hitTest(sx, sy);
    if (hit && hit.part !== 'body' && editable) {
      if (hit.part === 'vertex' && e.altKey) {
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
      return;
    }
    const bodyOfSelected = hit && this.host.selection.has(hit.region.id);
    if (tool === 'select' || !editable || (bodyOfSelected && tool === 'rect') || (bodyOfSelected && tool === 'polygon')) {
      if (hit) {
        if (e.shiftKey || e.ctrlKey || e.metaKey) {
          const ids = new Set(this.host.selection);
          if (ids.has(hit.region.id)) ids.delete(hit.region.id);
          else ids.add(hit.region.id);
          this.host.select([...ids]);
        } else if (!this.host.selection.has(hit.region.id)) {
          this.host.select([hit.region.id]);
        }
        this.selectedVertex = null;
        const movable = editable && !this.host.locked.has(hit.region.id);
        this.drag = { pointerId: e.pointerId, kind: movable ? 'edit' : 'none', startX: sx, startY: sy, moved: false, hit };
      } else {
        this.host.select([]);
        // Dragging on empty image in select mode pans.
        this.drag = { pointerId: e.pointerId, kind: 'pan', startX: sx, startY: sy, moved: false, hit: null, startView: [this.view.offsetX, this.view.offsetY] };
      }
      return;
    }
    if (tool === 'rect') {
      const point = this.clampToImage(this.view.toImage(sx, sy));
      this.drag = { pointerId: e.pointerId, kind: 'draw-rect', startX: sx, startY: sy, moved: false, hit };
      this.rectDraft = point;
      this.rectDraftEnd = point;
      return;
    }
    if (tool === 'polygon') {
      this.drag = { pointerId: e.pointerId, kind: 'polygon-click', startX: sx, startY: sy, moved: false, hit: null };
    }
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
    if (!drag || drag.pointerId !== e.pointerId) {
      if (this.polygonDraft) this.invalidate();
      this.updateCursor(sx, sy);
      return;
    }
    if (!drag.moved && Math.hypot(sx - drag.startX, sy - drag.startY) < MIN_DRAG) return;
    drag.moved = true;
    if (drag.kind === 'pan' && drag.startView) {
      this.view.offsetX = drag.startView[0] + sx - drag.startX;
      this.view.offsetY = drag.startView[1] + sy - drag.startY;
      this.userMovedView = true;
      this.invalidate(true);
    } else if (drag.kind === 'draw-rect') {
      this.rectDraftEnd = this.clampToImage([ix, iy]);
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
    if (drag.kind === 'draw-rect') {
      const start = this.rectDraft;
      const end = this.rectDraftEnd;
      this.rectDraft = null;
      this.rectDraftEnd = null;
      if (drag.moved && start && end && e.type === 'pointerup') this.addRect(start, end);
      else if (!drag.moved) {
        // A click with the box tool selects what is under it.
        this.host.select(drag.hit ? [drag.hit.region.id] : []);
      }
      this.invalidate();
    } else if (drag.kind === 'polygon-click' && e.type === 'pointerup') {
      this.polygonClick(sx, sy);
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
    const hit = this.hitTest(sx, sy);
    let cursor = tool === 'select' ? 'default' : 'crosshair';
    if (hit && !this.host.readOnly) {
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

  /** @param {MouseEvent} e */
  doubleClick(e) {
    if (this.host.readOnly) return;
    const [sx, sy] = this.local(e);
    const regions = this.currentRegions().filter((r) => this.host.selection.has(r.id) && r.kind === 'polygon');
    if (regions.length !== 1 || this.host.locked.has(regions[0].id)) return;
    const region = regions[0];
    const outline = this.screenOutline(region);
    for (let i = 0; i < outline.length; i++) {
      if (distanceToSegment(sx, sy, outline[i], outline[(i + 1) % outline.length]) <= 5) {
        const next = this.insertVertex(region, i + 1, this.view.toImage(sx, sy));
        this.selectedVertex = i + 1;
        this.replace(region, next);
        return;
      }
    }
  }

  // ---- edits ------------------------------------------------------------------

  /** @param {[number, number]} p @returns {[number, number]} */
  clampToImage(p) {
    return [clamp(p[0], 0, this.imageWidth), clamp(p[1], 0, this.imageHeight)];
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
      if (region.kind === 'rect') {
        return changed(region, {
          x: percent((region.x / 100) * W + dx, W),
          y: percent((region.y / 100) * H + dy, H),
        });
      }
      return changed(region, {
        points: region.points.map(([x, y]) => [percent((x / 100) * W + dx, W), percent((y / 100) * H + dy, H)]),
      });
    }
    if (hit.part === 'vertex') {
      const [px, py] = this.clampToImage([bx, by]);
      const points = region.points.slice();
      points[hit.index] = [percent(px, W), percent(py, H)];
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
   * A rectangle region from a pixel box, in percent and clamped to the
   * ranges results allow.
   * @param {Region} region @param {import('./geometry.js').PixelBox} box
   */
  boxRegion(region, box) {
    const W = this.imageWidth;
    const H = this.imageHeight;
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

  /** @param {[number, number]} start @param {[number, number]} end image pixels */
  addRect(start, end) {
    const control = this.host.drawControl(this.object.name, 'rect');
    if (!control) return;
    const W = this.imageWidth;
    const H = this.imageHeight;
    const x = Math.min(start[0], end[0]);
    const y = Math.min(start[1], end[1]);
    const w = Math.abs(end[0] - start[0]);
    const h = Math.abs(end[1] - start[1]);
    if (w * this.view.scale < MIN_DRAG && h * this.view.scale < MIN_DRAG) return;
    const { labels, labelControl } = this.host.newLabels(control);
    /** @type {Region} */
    const region = {
      kind: 'rect', id: newId(), control: control.name, object: this.object.name, labels, labelControl,
      x: percent(x, W), y: percent(y, H), width: percent(w, W), height: percent(h, H), rotation: 0,
      points: [], closed: true, items: [],
    };
    this.add(region);
  }

  /** @param {number} sx @param {number} sy */
  polygonClick(sx, sy) {
    const point = this.clampToImage(this.view.toImage(sx, sy));
    if (!this.polygonDraft) {
      if (!this.host.drawControl(this.object.name, 'polygon')) return;
      this.polygonDraft = [point];
      this.host.select([]);
    } else {
      const [fx, fy] = this.view.toScreen(...this.polygonDraft[0]);
      if (this.polygonDraft.length >= 3 && Math.hypot(fx - sx, fy - sy) <= HANDLE + 3) {
        this.finishPolygon();
        return;
      }
      this.polygonDraft.push(point);
    }
    this.invalidate();
  }

  /** Close the polygon being drawn (Enter, or a click on its first vertex). */
  finishPolygon() {
    const draft = this.polygonDraft;
    this.polygonDraft = null;
    this.invalidate();
    if (!draft || draft.length < 3) return false;
    const control = this.host.drawControl(this.object.name, 'polygon');
    if (!control) return false;
    const { labels, labelControl } = this.host.newLabels(control);
    /** @type {Region} */
    const region = {
      kind: 'polygon', id: newId(), control: control.name, object: this.object.name, labels, labelControl,
      x: 0, y: 0, width: 0, height: 0, rotation: 0,
      points: draft.map(([x, y]) => [percent(x, this.imageWidth), percent(y, this.imageHeight)]),
      closed: true, items: [],
    };
    this.add(region);
    return true;
  }

  cancelDrawing() {
    const had = Boolean(this.polygonDraft || this.rectDraft);
    this.polygonDraft = null;
    this.rectDraft = null;
    this.rectDraftEnd = null;
    this.invalidate();
    return had;
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

  /** @param {Region} region @param {number} index @param {[number, number]} point image pixels */
  insertVertex(region, index, point) {
    const [px, py] = this.clampToImage(point);
    const points = region.points.slice();
    points.splice(index, 0, [percent(px, this.imageWidth), percent(py, this.imageHeight)]);
    return changed(region, { points });
  }

  /** @param {Region} region @param {number} index */
  deleteVertex(region, index) {
    if (region.points.length <= 3) return false;
    const points = region.points.filter((_, i) => i !== index);
    this.selectedVertex = null;
    this.replace(region, changed(region, { points }));
    return true;
  }

  /** Delete the picked vertex of the selected polygon, if any. */
  deleteSelectedVertex() {
    if (this.selectedVertex === null) return false;
    const region = this.currentRegions().find((r) => this.host.selection.has(r.id) && r.kind === 'polygon');
    if (!region || this.host.locked.has(region.id)) return false;
    return this.deleteVertex(region, this.selectedVertex);
  }

  /**
   * Move the selected regions by (dx, dy) image pixels (arrow keys).
   * @param {number} dx @param {number} dy
   */
  nudge(dx, dy) {
    const ids = this.host.selection;
    let any = false;
    const entries = this.host.entries().map((e) => {
      if (e.kind === 'item' || !ids.has(e.id) || e.object !== this.object.name || this.host.locked.has(e.id)) return e;
      any = true;
      const [sx, sy] = this.view.toScreen(0, 0);
      return this.edited({ region: e, part: 'body' }, sx, sy, sx + dx * this.view.scale, sy + dy * this.view.scale, false);
    });
    if (any) this.host.commit(entries);
    return any;
  }
}
