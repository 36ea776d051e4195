// Painting masks: the brush, the eraser and the fill tools of an image
// editor. A stroke paints into the selected mask, or starts a new mask
// region (one instance) of the active label; the eraser takes pixels from
// the selected mask (or the one under the press); each stroke is one undo
// step. Strokes work on a `PaintBuffer` of the mask, kept for the next
// stroke while the mask stays the same, and are written back as counts
// when the button is released.
//
// The brush is round, `diameter` image pixels wide, and snaps to the pixel
// grid (see `stampOrigin`): a dab paints exactly the pixels whose centres
// lie inside the circle drawn at the cursor, at any zoom.
//
// Fill works on the selected mask (else the topmost one whose bounds hold
// the click): a click in an unpainted area that the mask encloses fills it
// (a hole: the 4-connected area must not reach the edge of the mask's
// bounds, else it is outside and nothing happens); Shift+click clears the
// painted patch under the cursor (4-connected).

import { PaintBuffer, stampOrigin } from './mask.js';
import { PaintPreview } from './mask-layer.js';
import { changed, newRegion } from './model.js';

/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./mask.js').Mask} Mask */
/** @typedef {import('./editor.js').ImageEditor} ImageEditor */
/** @typedef {'brush' | 'eraser' | 'fill'} MaskTool */

/** The tools that paint masks. @param {string} tool @returns {tool is MaskTool} */
export function isMaskTool(tool) {
  return tool === 'brush' || tool === 'eraser' || tool === 'fill';
}

/**
 * A stroke being painted: into `target`, or into a new region of
 * `control` with `labels` when it is null.
 * @typedef {{
 *   target: Region | null,
 *   control: ControlTag | null,
 *   fields: {labels: string[], labelControl: string | null},
 *   buffer: PaintBuffer,
 *   value: 0 | 1,
 *   diameter: number,
 *   last: [number, number],
 *   color: string,
 * }} Stroke
 */

export class MaskPainter {
  /** @param {ImageEditor} editor */
  constructor(editor) {
    this.editor = editor;
    /** @type {Stroke | null} */
    this.stroke = null;
    /** The buffer of the mask painted last, while it is that mask. @type {{mask: Mask, buffer: PaintBuffer} | null} */
    this.kept = null;
    this.preview = new PaintPreview();
  }

  get host() {
    return this.editor.host;
  }

  /** The id of the region being painted, drawn from the stroke rather than its stored mask. */
  paintingId() {
    return this.stroke?.target?.id ?? null;
  }

  /** Whether a mask fits this image's grid, so strokes can go into it. @param {Region} region */
  paintable(region) {
    const mask = region.mask;
    return Boolean(mask && mask.width === this.editor.imageWidth && mask.height === this.editor.imageHeight);
  }

  /**
   * The mask a press works on: the one selected; for the eraser and fill,
   * else the topmost visible one under the press. Null: a new mask (brush).
   * @param {MaskTool} tool @param {[number, number]} point image pixels
   */
  targetAt(tool, point) {
    const selected = this.editor.editableSelection();
    if (selected && selected.kind === 'mask' && this.paintable(selected)) return selected;
    if (tool === 'brush') return null;
    const regions = this.editor.currentRegions();
    for (let i = regions.length - 1; i >= 0; i--) {
      const region = regions[i];
      if (region.kind !== 'mask' || !this.paintable(region) || this.host.hidden.has(region.id) || this.host.locked.has(region.id)) continue;
      const [x0, y0, x1, y1] = /** @type {Mask} */ (region.mask).bbox;
      const inside = point[0] >= x0 && point[1] >= y0 && point[0] < x1 && point[1] < y1;
      if (inside && (tool === 'fill' || this.editor.touches(region, ...this.editor.view.toScreen(...point)))) return region;
    }
    return null;
  }

  /**
   * A press with a mask tool at an image point. Returns true when a stroke
   * started (the drag goes on painting); a fill is done at once.
   * @param {MaskTool} tool @param {[number, number]} point image pixels @param {boolean} shift
   */
  press(tool, point, shift) {
    const target = this.targetAt(tool, point);
    if (tool === 'fill') {
      if (target) this.fill(target, point, shift ? 'clear' : 'hole');
      return false;
    }
    const erase = tool === 'eraser' || shift;
    if (erase && !target) return false;
    const control = target ? null : this.host.drawControl(this.editor.object.name, 'brush');
    if (!target && !control) return false;
    const diameter = this.host.brushSize();
    const origin = stampOrigin(point[0], point[1], diameter);
    const buffer = this.bufferFor(target, [origin[0], origin[1], origin[0] + diameter, origin[1] + diameter]);
    const fields = control ? this.host.newLabels(control) : { labels: [], labelControl: null };
    const color = this.host.colorOf(target ?? newRegion({ kind: 'mask', control: control?.name ?? '', object: '', ...fields }));
    this.stroke = { target, control, fields, buffer, value: erase ? 0 : 1, diameter, last: origin, color };
    if (target) this.host.select([target.id]);
    buffer.changed = false;
    buffer.stamp(origin[0], origin[1], diameter, this.stroke.value);
    this.editor.invalidate();
    return true;
  }

  /**
   * The paint buffer of a mask (the one kept from the last stroke while
   * the mask is unchanged), or an empty one for a new mask, covering `dab`.
   * @param {Region | null} target @param {[number, number, number, number]} dab
   */
  bufferFor(target, dab) {
    const { imageWidth: width, imageHeight: height } = this.editor;
    if (target?.mask && this.kept?.mask === target.mask) return this.kept.buffer;
    this.kept = null;
    return target?.mask ? PaintBuffer.fromMask(target.mask, dab) : PaintBuffer.around(width, height, dab);
  }

  /**
   * The pointer moved while painting: dabs from the last position to each
   * new one (the browser's coalesced positions, so curves stay round).
   * @param {[number, number][]} points image pixels
   */
  extend(points) {
    const stroke = this.stroke;
    if (!stroke) return;
    for (const [x, y] of points) {
      const origin = stampOrigin(x, y, stroke.diameter);
      stroke.buffer.line(stroke.last, origin, stroke.diameter, stroke.value);
      stroke.last = origin;
    }
    this.editor.invalidate();
  }

  /**
   * The button went up: the stroke becomes one undo step (a new region, a
   * changed one, or none when its last pixel was erased). `keep` false
   * drops it (pointercancel, Escape).
   * @param {boolean} keep
   */
  release(keep) {
    const stroke = this.stroke;
    this.stroke = null;
    if (!stroke) return;
    this.editor.invalidate();
    if (!keep) {
      this.kept = null; // the buffer holds the dropped stroke
      return;
    }
    if (!stroke.buffer.changed) {
      if (stroke.target?.mask) this.kept = { mask: stroke.target.mask, buffer: stroke.buffer };
      return;
    }
    this.commit(stroke.target, stroke.buffer, stroke.control, stroke.fields);
  }

  /**
   * Write a painted buffer back as the target's mask, or as a new region.
   * @param {Region | null} target @param {PaintBuffer} buffer
   * @param {ControlTag | null} control @param {{labels: string[], labelControl: string | null}} fields
   */
  commit(target, buffer, control, fields) {
    const mask = buffer.toMask();
    this.kept = { mask, buffer };
    if (target && !mask.area) {
      this.editor.replaceOrRemove(target, null);
    } else if (target) {
      this.editor.replace(target, changed(target, { mask }));
    } else if (mask.area && control) {
      this.editor.add(newRegion({ kind: 'mask', control: control.name, object: this.editor.object.name, ...fields, mask }));
    }
  }

  /**
   * Fill the hole at `point`, or clear the painted patch there.
   * @param {Region} target @param {[number, number]} point @param {'hole' | 'clear'} mode
   */
  fill(target, point, mode) {
    const mask = /** @type {Mask} */ (target.mask);
    const buffer = this.bufferFor(target, [...mask.bbox]);
    const x = Math.floor(point[0]);
    const y = Math.floor(point[1]);
    this.host.select([target.id]);
    if (buffer.flood(x, y, mode, mask.bbox)) this.commit(target, buffer, null, { labels: target.labels, labelControl: target.labelControl });
  }

  /**
   * The status line's hint for a mask tool: what the next press does.
   * @param {MaskTool} tool
   */
  hint(tool) {
    const selected = this.editor.editableSelection();
    const target = selected?.kind === 'mask' && this.paintable(selected) ? selected : null;
    const name = target ? `“${target.labels.join(', ') || 'mask'}”` : '';
    if (tool === 'fill') return `${target ? `Fill a hole in ${name}` : 'Fill a hole in a mask'} · Shift+click: clear a patch`;
    const size = `${this.host.brushSize()} px · [ ]: size`;
    if (tool === 'eraser') return `Eraser ${size} · ${target ? `erasing from ${name}` : 'erases the mask under it'}`;
    return `Brush ${size} · Shift: erase · ${target ? `painting into ${name} · Esc: new mask` : 'a stroke starts a new mask'}`;
  }

  /** Drop a stroke in progress. */
  cancel() {
    const had = Boolean(this.stroke);
    this.release(false);
    return had;
  }

  /**
   * The stroke's mask, from its buffer, at the masks' opacity.
   * @param {CanvasRenderingContext2D} ctx @param {number} alpha
   */
  drawStroke(ctx, alpha) {
    const stroke = this.stroke;
    const { view, dpr, cssWidth: width, cssHeight: height } = this.editor;
    if (stroke) this.preview.draw(ctx, stroke.buffer, stroke.color, alpha, view, { dpr, width, height });
  }

  /**
   * The brush's outline where the next dab goes: the circle whose pixels
   * it paints, on the grid it snaps to.
   * @param {CanvasRenderingContext2D} ctx @param {MaskTool} tool @param {boolean} erase
   */
  drawCursor(ctx, tool, erase) {
    const pointer = this.editor.pointer;
    if (!pointer || tool === 'fill') return;
    const diameter = this.host.brushSize();
    const [x, y] = this.editor.view.toImage(pointer[0], pointer[1]);
    const [ox, oy] = stampOrigin(x, y, diameter);
    const [cx, cy] = this.editor.view.toScreen(ox + diameter / 2, oy + diameter / 2);
    const radius = Math.max(1, (diameter / 2) * this.editor.view.scale);
    ctx.beginPath();
    ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.stroke();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#fff';
    if (erase) ctx.setLineDash([4, 3]);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  /** Let the buffers go (the editor goes). */
  dispose() {
    this.stroke = null;
    this.kept = null;
    this.preview.release();
  }
}
