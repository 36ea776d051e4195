// The timeline under a video: a frame ruler with the playhead, one row per
// TimelineLabels control with its segments, and one row per track with the
// frames it is shown on and its keyframes. One canvas; the rows are
// described by the video view on every draw, so the timeline keeps no state
// of its own beyond a drag in progress.

/**
 * A stretch of frames of a `timelinelabels` item: the item and which of its ranges.
 * @typedef {{id: string, range: number}} SegmentRef
 */

/**
 * @typedef {{kind: 'track', id: string, name: string, color: string, selected: boolean, spans: [number, number][], keyframes: {frame: number, enabled: boolean}[]}
 *   | {kind: 'segments', control: string, name: string, segments: {ref: SegmentRef, start: number, end: number, label: string, color: string, selected: boolean}[]}} TimelineRow
 */

/**
 * What the timeline needs from its video view. Frames are 1-based.
 * @typedef {{
 *   readOnly: boolean,
 *   frames: () => number,
 *   frame: () => number,
 *   rows: () => TimelineRow[],
 *   seek: (frame: number) => void,
 *   selectTrack: (id: string, add: boolean) => void,
 *   selectSegment: (ref: SegmentRef | null) => void,
 *   createSegment: (control: string, start: number, end: number) => void,
 *   resizeSegment: (ref: SegmentRef, start: number, end: number) => void,
 * }} TimelineHost
 */

const RULER = 18;
const ROW = 18;
const GUTTER = 120;
const PAD_RIGHT = 8;
/** How near (CSS pixels) a press must be to a keyframe or a segment's end to grab it. */
const GRAB = 4;
const TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

export class Timeline {
  /** @param {TimelineHost} host */
  constructor(host) {
    this.host = host;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'gl-timeline-canvas';
    this.element = document.createElement('div');
    this.element.className = 'gl-timeline';
    this.element.append(this.canvas);
    this.width = 0;
    this.frameRequest = 0;
    /** @type {TimelineRow[]} */
    this.rows = [];
    /**
     * A drag in progress: scrubbing, a new segment, or one end of a segment.
     * @type {null | {kind: 'scrub'} | {kind: 'create', control: string, from: number, to: number} | {kind: 'resize', ref: SegmentRef, fixed: number, moving: number}}
     */
    this.drag = null;
    this.canvas.addEventListener('pointerdown', (e) => this.pointerDown(e));
    this.canvas.addEventListener('pointermove', (e) => this.pointerMove(e));
    this.canvas.addEventListener('pointerup', (e) => this.pointerUp(e));
    this.canvas.addEventListener('pointercancel', () => {
      this.drag = null;
      this.invalidate();
    });
    this.resizeObserver = new ResizeObserver(() => this.invalidate());
    this.resizeObserver.observe(this.element);
  }

  destroy() {
    this.resizeObserver.disconnect();
    if (this.frameRequest) cancelAnimationFrame(this.frameRequest);
  }

  invalidate() {
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame(() => this.draw());
  }

  /** Width of the frame axis, CSS pixels. */
  axis() {
    return Math.max(1, this.width - GUTTER - PAD_RIGHT);
  }

  /** The x of a frame's middle. @param {number} frame */
  xOf(frame) {
    return GUTTER + ((frame - 0.5) / this.host.frames()) * this.axis();
  }

  /** The frame under x. @param {number} x */
  frameAt(x) {
    const frames = this.host.frames();
    return Math.max(1, Math.min(frames, Math.floor(((x - GUTTER) / this.axis()) * frames) + 1));
  }

  draw() {
    this.frameRequest = 0;
    this.rows = this.host.rows();
    const dpr = window.devicePixelRatio || 1;
    this.width = Math.max(1, Math.round(this.element.clientWidth));
    const height = RULER + this.rows.length * ROW;
    if (this.canvas.width !== Math.round(this.width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(this.width * dpr);
      this.canvas.height = Math.round(height * dpr);
      this.canvas.style.height = `${height}px`;
    }
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    this.drawRuler(ctx);
    this.rows.forEach((row, i) => {
      const y = RULER + i * ROW;
      if (row.kind === 'track') this.drawTrack(ctx, row, y);
      else this.drawSegments(ctx, row, y);
    });
    const x = this.xOf(this.host.frame());
    ctx.fillStyle = '#cf222e';
    ctx.fillRect(Math.round(x) - 1, 0, 2, height);
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawRuler(ctx) {
    const frames = this.host.frames();
    const pixelsPerFrame = this.axis() / frames;
    const step = TICK_STEPS.find((s) => s * pixelsPerFrame >= 60) ?? TICK_STEPS[TICK_STEPS.length - 1];
    ctx.fillStyle = '#656d76';
    ctx.fillText(`frame ${this.host.frame()} / ${frames}`, 4, RULER / 2);
    for (let f = step; f <= frames; f += step) {
      const x = this.xOf(f);
      ctx.fillRect(Math.round(x), RULER - 5, 1, 5);
      ctx.fillText(String(f), x + 2, RULER / 2 - 1);
    }
    ctx.fillRect(GUTTER, RULER - 1, this.axis(), 1);
  }

  /** @param {CanvasRenderingContext2D} ctx @param {string} text @param {number} y @param {boolean} selected */
  drawName(ctx, text, y, selected) {
    if (selected) {
      ctx.fillStyle = '#ddf4ff';
      ctx.fillRect(0, y, this.width, ROW);
    }
    ctx.fillStyle = '#1f2328';
    ctx.fillText(text, 4, y + ROW / 2, GUTTER - 8);
  }

  /** @param {CanvasRenderingContext2D} ctx @param {Extract<TimelineRow, {kind: 'track'}>} row @param {number} y */
  drawTrack(ctx, row, y) {
    this.drawName(ctx, row.name, y, row.selected);
    ctx.fillStyle = row.color;
    ctx.globalAlpha = 0.45;
    for (const [from, to] of row.spans) {
      const x0 = this.xOf(from) - this.axis() / this.host.frames() / 2;
      const x1 = this.xOf(to) + this.axis() / this.host.frames() / 2;
      ctx.fillRect(x0, y + 5, Math.max(1, x1 - x0), ROW - 10);
    }
    ctx.globalAlpha = 1;
    // Keyframes as diamonds; one that sends the object outside, hollow.
    for (const { frame, enabled } of row.keyframes) {
      const x = this.xOf(frame);
      ctx.beginPath();
      ctx.moveTo(x, y + 3);
      ctx.lineTo(x + 4, y + ROW / 2);
      ctx.lineTo(x, y + ROW - 3);
      ctx.lineTo(x - 4, y + ROW / 2);
      ctx.closePath();
      ctx.fillStyle = enabled ? row.color : '#fff';
      ctx.fill();
      ctx.strokeStyle = enabled ? '#fff' : row.color;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
  }

  /** @param {CanvasRenderingContext2D} ctx @param {Extract<TimelineRow, {kind: 'segments'}>} row @param {number} y */
  drawSegments(ctx, row, y) {
    this.drawName(ctx, row.name, y, false);
    const drag = this.drag;
    const half = this.axis() / this.host.frames() / 2;
    for (const segment of row.segments) {
      let { start, end } = segment;
      if (drag?.kind === 'resize' && drag.ref.id === segment.ref.id && drag.ref.range === segment.ref.range) {
        start = Math.min(drag.fixed, drag.moving);
        end = Math.max(drag.fixed, drag.moving);
      }
      this.paintSegment(ctx, start, end, y, segment.color, segment.label, segment.selected, half);
    }
    if (drag?.kind === 'create' && drag.control === row.control) {
      this.paintSegment(ctx, Math.min(drag.from, drag.to), Math.max(drag.from, drag.to), y, '#1f6feb', '', true, half);
    }
  }

  /**
   * @param {CanvasRenderingContext2D} ctx @param {number} start @param {number} end @param {number} y
   * @param {string} color @param {string} label @param {boolean} selected @param {number} half half a frame's width
   */
  paintSegment(ctx, start, end, y, color, label, selected, half) {
    const x0 = this.xOf(start) - half;
    const x1 = this.xOf(end) + half;
    const w = Math.max(2, x1 - x0);
    ctx.fillStyle = color;
    ctx.globalAlpha = selected ? 0.9 : 0.6;
    ctx.fillRect(x0, y + 2, w, ROW - 4);
    ctx.globalAlpha = 1;
    if (selected) {
      ctx.strokeStyle = '#1f2328';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(x0, y + 2, w, ROW - 4);
    }
    if (w > 30) {
      ctx.fillStyle = '#fff';
      ctx.fillText(label, x0 + 3, y + ROW / 2, w - 6);
    }
  }

  /** @param {PointerEvent} e @returns {[number, number]} */
  local(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  /** The row under y, or null on the ruler. @param {number} y */
  rowAt(y) {
    const index = Math.floor((y - RULER) / ROW);
    return y < RULER ? null : this.rows[index] ?? null;
  }

  /** @param {PointerEvent} e */
  pointerDown(e) {
    if (e.button !== 0) return;
    const [x, y] = this.local(e);
    const row = this.rowAt(y);
    const frame = this.frameAt(x);
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events have no pointer to capture.
    }
    if (row?.kind === 'track') {
      this.pressTrack(row, x, e.shiftKey || e.ctrlKey || e.metaKey);
      return;
    }
    if (row?.kind === 'segments' && x >= GUTTER) {
      this.pressSegments(row, x, frame);
      return;
    }
    this.drag = { kind: 'scrub' };
    this.host.seek(frame);
  }

  /**
   * A press on a track's row: selects it (Shift: adds it) and goes to the
   * keyframe under the pointer, else to the frame.
   * @param {Extract<TimelineRow, {kind: 'track'}>} row @param {number} x @param {boolean} add
   */
  pressTrack(row, x, add) {
    const near = row.keyframes.find((k) => Math.abs(this.xOf(k.frame) - x) <= GRAB)?.frame;
    this.host.selectTrack(row.id, add);
    if (x >= GUTTER) this.host.seek(near ?? this.frameAt(x));
  }

  /**
   * A press on a TimelineLabels row: an end of a segment starts a resize,
   * a segment is selected, empty frames start a new segment.
   * @param {Extract<TimelineRow, {kind: 'segments'}>} row @param {number} x @param {number} frame
   */
  pressSegments(row, x, frame) {
    const half = this.axis() / this.host.frames() / 2;
    for (const segment of row.segments) {
      const x0 = this.xOf(segment.start) - half;
      const x1 = this.xOf(segment.end) + half;
      const nearStart = Math.abs(x - x0) <= GRAB;
      const nearEnd = Math.abs(x - x1) <= GRAB;
      if ((nearStart || nearEnd) && !this.host.readOnly) {
        this.host.selectSegment(segment.ref);
        this.drag = nearEnd
          ? { kind: 'resize', ref: segment.ref, fixed: segment.start, moving: segment.end }
          : { kind: 'resize', ref: segment.ref, fixed: segment.end, moving: segment.start };
        return;
      }
      if (x > x0 && x < x1) {
        this.host.selectSegment(segment.ref);
        this.host.seek(frame);
        return;
      }
    }
    this.host.selectSegment(null);
    if (this.host.readOnly) this.host.seek(frame);
    else this.drag = { kind: 'create', control: row.control, from: frame, to: frame };
  }

  /** @param {PointerEvent} e */
  pointerMove(e) {
    const drag = this.drag;
    if (!drag) return;
    const frame = this.frameAt(this.local(e)[0]);
    if (drag.kind === 'scrub') this.host.seek(frame);
    else if (drag.kind === 'create') drag.to = frame;
    else drag.moving = frame;
    this.invalidate();
  }

  /** @param {PointerEvent} e */
  pointerUp(e) {
    const drag = this.drag;
    this.drag = null;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (!drag) return;
    const frame = this.frameAt(this.local(e)[0]);
    if (drag.kind === 'create') {
      // A click without a drag only moves the playhead.
      if (frame === drag.from) this.host.seek(frame);
      else this.host.createSegment(drag.control, Math.min(drag.from, frame), Math.max(drag.from, frame));
    } else if (drag.kind === 'resize') {
      this.host.resizeSegment(drag.ref, Math.min(drag.fixed, frame), Math.max(drag.fixed, frame));
    }
    this.invalidate();
  }
}
