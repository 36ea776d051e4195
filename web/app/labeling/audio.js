// A sound (`Audio` object): its waveform, playback, and time segments
// labelled with a speaker or a class by a `Labels` control on it, each with
// a transcript when a per-region `TextArea` is on the sound.
//
// The waveform comes from the server (`/api/v1/media/{key}/peaks`: the
// lowest and highest sample of every 10 ms, computed once and cached), so an
// hour of sound is drawn without downloading or decoding it here; a sound
// from elsewhere is decoded in the browser instead. Playback is an `<audio>`
// element, streamed with range requests.
//
// Segments are regions (kind `segment`) in the workspace's entries, written
// as Label Studio writes audio regions: a `labels` item with `start` and
// `end` in seconds and `channel`, and per-region items (the transcript's
// `textarea`) with the same id and times. Overlapping segments (two speakers
// at once) are drawn in lanes.
//
// Mouse: drag on the waveform to make a segment with the picked label (the
// first one when none is picked); drag a segment's edge to move it; click
// to seek and select. Keys (with the sound focused): Space play/pause,
// ←/→ one second (Shift: five), [ and ] slower/faster, + and − zoom, Enter
// plays the selected segment, T types its transcript, Delete removes it
// (the workspace's keymap runs them). In a transcript: Enter goes
// to the next segment and plays it, Shift+Enter is a new line, Alt+Enter
// plays the segment again, Escape leaves it.

import { el } from './dom.js';
import { newId, changed } from './model.js';

/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').LabelDef} LabelDef */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').ResultItem} ResultItem */

/**
 * What the view needs from the workspace.
 * @typedef {{
 *   entries: () => readonly Entry[],
 *   commit: (next: Entry[], mergeKey?: string | null) => void,
 *   controls: ControlTag[],
 *   labelsOf: (control: ControlTag) => LabelDef[],
 *   activeLabel: (control: ControlTag) => string | null,
 *   colorOfLabel: (control: string, value: string) => string,
 *   regionColor?: ((id: string) => string | null) | null,
 *   select: (ids: string[]) => void,
 *   isSelected: (id: string) => boolean,
 *   readOnly: boolean,
 * }} AudioHost
 */

/** A waveform: `min, max` pairs of 16-bit samples, `perSecond` pairs a second. @typedef {{peaks: Int16Array, perSecond: number, duration: number}} Waveform */

/** Mouse and key help for the keymap overlay. @type {[string, string][]} */
export const AUDIO_HELP = [
  ['Drag on the waveform', 'Sound: a segment with the picked label; drag its edge to change it'],
  ['Click on the waveform', 'Sound: play from there, select the segment there'],
  ['Enter in a transcript', 'Sound: next segment, played (Shift+Enter: new line, Alt+Enter: play again)'],
];

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
/** Pixels of the time ruler above the waveform. */
const RULER = 18;
/** How near (CSS pixels) a press must be to a segment's edge to move it. */
const EDGE = 5;
/** Most pixels a second may take. */
const MAX_ZOOM = 2000;
/** A sound from elsewhere is decoded here only up to this size. */
const MAX_DECODED_BYTES = 200 * 1024 * 1024;

/**
 * The waveform of a sound: from the server for a stored sound, else decoded
 * here from the file.
 * @param {string} url
 * @returns {Promise<Waveform>}
 */
export async function loadWaveform(url) {
  if (url.startsWith('/api/v1/media/')) {
    const response = await fetch(`${url}/peaks`, { credentials: 'same-origin' });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.error?.message ?? `the waveform could not be read (${response.status})`);
    }
    const body = await response.json();
    const bytes = Uint8Array.from(atob(body.peaks), (c) => c.charCodeAt(0));
    return { peaks: new Int16Array(bytes.buffer, 0, bytes.byteLength >> 1), perSecond: body.peaks_per_second, duration: body.duration };
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the sound could not be fetched (${response.status})`);
  const size = Number(response.headers.get('content-length'));
  if (size > MAX_DECODED_BYTES) throw new Error('the sound is too large to decode in the browser; import it into Gloss for a waveform');
  const context = new OfflineAudioContext(1, 1, 8000);
  const buffer = await context.decodeAudioData(await response.arrayBuffer());
  return peaksOf(buffer);
}

/**
 * Peaks of decoded sound, 100 a second, all channels mixed (as the server's).
 * @param {AudioBuffer} buffer
 * @returns {Waveform}
 */
function peaksOf(buffer) {
  const perSecond = 100;
  const count = Math.ceil(buffer.duration * perSecond);
  const peaks = new Int16Array(count * 2);
  for (let channel = 0; channel < buffer.numberOfChannels; channel++) {
    const samples = buffer.getChannelData(channel);
    for (let i = 0; i < count; i++) {
      const from = Math.ceil((i * buffer.sampleRate) / perSecond);
      const to = Math.min(samples.length, Math.ceil(((i + 1) * buffer.sampleRate) / perSecond));
      let lo = 0;
      let hi = 0;
      for (let j = from; j < to; j++) {
        const s = samples[j];
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      peaks[2 * i] = Math.min(peaks[2 * i], Math.max(-32767, Math.round(lo * 32768)));
      peaks[2 * i + 1] = Math.max(peaks[2 * i + 1], Math.min(32767, Math.round(hi * 32768)));
    }
  }
  return { peaks, perSecond, duration: buffer.duration };
}

/** Seconds as `m:ss.cc` (or `h:mm:ss.cc`). @param {number} seconds */
export function formatTime(seconds) {
  const total = Math.max(0, seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = (total % 60).toFixed(2).padStart(5, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * Lanes for overlapping segments: each segment gets the first lane free at
 * its start, so two speakers at once are drawn one above the other.
 * @param {Region[]} segments sorted by start
 * @returns {{lanes: Map<string, number>, count: number}}
 */
function laneOf(segments) {
  /** @type {number[]} the end of the last segment in each lane */
  const ends = [];
  const lanes = new Map();
  for (const s of segments) {
    const { start, end } = /** @type {{start: number, end: number}} */ (s.segment);
    let lane = ends.findIndex((e) => e <= start);
    if (lane < 0) lane = ends.push(end) - 1;
    else ends[lane] = end;
    lanes.set(s.id, lane);
  }
  return { lanes, count: Math.max(1, ends.length) };
}

/** One Audio object's waveform, player and segments. */
export class AudioView {
  /**
   * @param {ObjectTag} object @param {string} url @param {AudioHost} host
   */
  constructor(object, url, host) {
    this.object = object;
    this.host = host;
    /** The Labels controls on this sound. */
    this.labelControls = host.controls.filter((c) => c.kind === 'Labels' && c.to_names.includes(object.name));
    /** Per-region TextArea controls on this sound: the transcripts. */
    this.transcriptControls = host.controls.filter((c) => c.kind === 'TextArea' && c.per_region && c.to_names.includes(object.name));
    /** @type {Waveform | null} */
    this.waveform = null;
    /** Pixels a second; set to fit the sound once its length is known. */
    this.zoom = 100;
    /** Where playing a segment stops, or null. @type {number | null} */
    this.stopAt = null;
    /** The segment whose edge is being dragged, or a new segment being drawn. @type {{id: string | null, edge: 'start' | 'end', anchor: number, moved: boolean, x: number} | null} */
    this.drag = null;
    /** Rows of the segment list by segment id. @type {Map<string, {row: HTMLElement, time: HTMLElement, label: HTMLElement, swatch: HTMLElement, transcripts: HTMLTextAreaElement[]}>} */
    this.rows = new Map();
    /** The entries drawn last. @type {readonly Entry[] | null} */
    this.drawn = null;

    this.audio = /** @type {HTMLAudioElement} */ (el('audio', { preload: 'metadata', src: url }));
    this.canvas = /** @type {HTMLCanvasElement} */ (el('canvas', { class: 'gl-audio-canvas' }));
    this.spacer = el('div', { class: 'gl-audio-spacer' });
    this.scroller = el('div', { class: 'gl-audio-scroll' }, [this.canvas, this.spacer]);
    this.status = el('span', { class: 'gl-muted gl-audio-status' }, ['Loading the waveform…']);
    this.clock = el('span', { class: 'gl-audio-clock' }, ['0:00.00']);
    this.playButton = el('button', { type: 'button', class: 'gl-audio-play', title: 'Play or pause (Space)' }, ['▶']);
    this.speed = /** @type {HTMLSelectElement} */ (el('select', { class: 'gl-audio-speed', 'aria-label': 'Playback speed', title: 'Playback speed ([ and ])' },
      SPEEDS.map((s) => el('option', { value: s, selected: s === 1 }, [`${s}×`]))));
    const zoomOut = el('button', { type: 'button', class: 'gl-icon', title: 'Zoom out (−)', 'aria-label': 'Zoom out' }, ['−']);
    const zoomIn = el('button', { type: 'button', class: 'gl-icon', title: 'Zoom in (+)', 'aria-label': 'Zoom in' }, ['+']);
    const controlsBar = el('div', { class: 'gl-audio-bar' }, [this.playButton, this.clock, this.speed, zoomOut, zoomIn, this.status]);
    this.list = el('ol', { class: 'gl-segment-list', 'aria-label': 'Segments' });
    this.element = el('div', { class: 'gl-audio', tabindex: 0, 'data-object': object.name, 'aria-label': `Sound ${object.name}` }, [controlsBar, this.scroller, this.audio, this.list]);

    this.playButton.addEventListener('click', () => this.togglePlay());
    this.speed.addEventListener('change', () => {
      this.audio.playbackRate = Number(this.speed.value);
    });
    zoomOut.addEventListener('click', () => this.setZoom(this.zoom / 1.5, this.playheadX()));
    zoomIn.addEventListener('click', () => this.setZoom(this.zoom * 1.5, this.playheadX()));
    this.audio.addEventListener('play', () => this.animate());
    this.audio.addEventListener('pause', () => this.showTime());
    this.audio.addEventListener('seeked', () => this.showTime());
    this.audio.addEventListener('loadedmetadata', () => this.showTime());
    this.scroller.addEventListener('scroll', () => this.draw());
    this.scroller.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    this.canvas.addEventListener('pointerdown', (e) => this.pointerDown(e));
    this.canvas.addEventListener('pointermove', (e) => this.pointerMove(e));
    this.canvas.addEventListener('pointerup', (e) => this.pointerUp(e));
    new ResizeObserver(() => this.draw()).observe(this.scroller);

    this.ready = loadWaveform(url).then(
      (waveform) => {
        this.waveform = waveform;
        this.status.textContent = '';
        this.fit();
      },
      (err) => {
        this.status.textContent = `No waveform: ${err instanceof Error ? err.message : err}`;
        this.status.classList.add('gl-error');
      },
    );
    this.update();
  }

  /** The sound's length: the waveform's, else the player's. */
  duration() {
    return this.waveform?.duration ?? (Number.isFinite(this.audio.duration) ? this.audio.duration : 0);
  }

  /** A segment's colour: its agreement's in a comparison, else its label's. @param {Region} segment */
  colorOf(segment) {
    return this.host.regionColor?.(segment.id) ?? this.host.colorOfLabel(segment.control, segment.labels[0] ?? '');
  }

  /** The segments of this sound, by start. @returns {Region[]} */
  segments() {
    return /** @type {Region[]} */ (this.host.entries().filter((e) => e.kind === 'segment' && e.object === this.object.name))
      .sort((a, b) => (a.segment?.start ?? 0) - (b.segment?.start ?? 0) || (a.segment?.end ?? 0) - (b.segment?.end ?? 0));
  }

  /** The whole sound across the view. */
  fit() {
    const width = this.scroller.clientWidth || 800;
    const duration = this.duration();
    if (duration > 0) this.setZoom(width / duration, 0);
    else this.draw();
  }

  /** The least zoom: the whole sound across the view. */
  minZoom() {
    const duration = this.duration();
    return duration > 0 ? (this.scroller.clientWidth || 800) / duration : 1;
  }

  /**
   * Zoom to `pixelsPerSecond`, keeping the time at view pixel `x` in place.
   * @param {number} pixelsPerSecond @param {number} x
   */
  setZoom(pixelsPerSecond, x) {
    const time = (this.scroller.scrollLeft + x) / this.zoom;
    this.zoom = Math.min(MAX_ZOOM, Math.max(this.minZoom(), pixelsPerSecond));
    this.spacer.style.width = `${Math.ceil(this.duration() * this.zoom)}px`;
    this.scroller.scrollLeft = time * this.zoom - x;
    this.draw();
  }

  /** The playhead's x in the view. */
  playheadX() {
    return this.audio.currentTime * this.zoom - this.scroller.scrollLeft;
  }

  /** @param {WheelEvent} e */
  wheel(e) {
    e.preventDefault();
    if (e.ctrlKey || e.metaKey) {
      const x = e.clientX - this.scroller.getBoundingClientRect().left;
      this.setZoom(this.zoom * Math.exp(-e.deltaY / 300), x);
    } else {
      this.scroller.scrollLeft += e.deltaX || e.deltaY;
    }
  }

  /** The time at a pointer event's x. @param {PointerEvent} e */
  timeAt(e) {
    const x = e.clientX - this.canvas.getBoundingClientRect().left;
    return Math.min(this.duration(), Math.max(0, (this.scroller.scrollLeft + x) / this.zoom));
  }

  togglePlay() {
    if (this.audio.paused) {
      this.stopAt = null;
      this.audio.play().catch(() => {});
    } else {
      this.audio.pause();
    }
  }

  /** Play from `start`, stopping at `end`. @param {number} start @param {number} end */
  playSegment(start, end) {
    this.audio.currentTime = start;
    this.stopAt = end;
    this.audio.play().catch(() => {});
  }

  /** @param {number} seconds */
  seek(seconds) {
    this.audio.currentTime = Math.min(this.duration(), Math.max(0, seconds));
    this.keepInView();
    this.showTime();
  }

  /** Scroll so the playhead shows. */
  keepInView() {
    const x = this.playheadX();
    const width = this.scroller.clientWidth;
    if (x < 0 || x > width - 10) this.scroller.scrollLeft = this.audio.currentTime * this.zoom - width * 0.1;
  }

  /** Redraw while playing. */
  animate() {
    const step = () => {
      if (this.stopAt !== null && this.audio.currentTime >= this.stopAt) {
        this.audio.pause();
        this.stopAt = null;
      }
      this.keepInView();
      this.showTime();
      if (!this.audio.paused) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  showTime() {
    this.clock.textContent = `${formatTime(this.audio.currentTime)} / ${formatTime(this.duration())}`;
    this.playButton.textContent = this.audio.paused ? '▶' : '⏸';
    this.draw();
  }

  /** Steps the playback speed through SPEEDS. @param {number} by */
  stepSpeed(by) {
    const at = SPEEDS.indexOf(Number(this.speed.value));
    const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, at + by))];
    this.speed.value = String(next);
    this.audio.playbackRate = next;
  }

  /**
   * The sound's keyboard commands, for the workspace's keymap: key, what it
   * does, and what it runs (true when the key was used).
   * @returns {[string, string, () => boolean][]}
   */
  commands() {
    const selected = () => this.segments().find((s) => this.host.isSelected(s.id));
    return [
      ['space', 'Sound: play or pause', () => (this.togglePlay(), true)],
      ['arrowleft', 'Sound: back one second (Shift: five)', () => (this.seek(this.audio.currentTime - 1), true)],
      ['arrowright', 'Sound: on one second (Shift: five)', () => (this.seek(this.audio.currentTime + 1), true)],
      ['shift+arrowleft', '', () => (this.seek(this.audio.currentTime - 5), true)],
      ['shift+arrowright', '', () => (this.seek(this.audio.currentTime + 5), true)],
      ['[', 'Sound: slower', () => (this.stepSpeed(-1), true)],
      [']', 'Sound: faster', () => (this.stepSpeed(1), true)],
      ['+', 'Sound: zoom in', () => (this.setZoom(this.zoom * 1.5, this.playheadX()), true)],
      ['=', '', () => (this.setZoom(this.zoom * 1.5, this.playheadX()), true)],
      ['-', 'Sound: zoom out', () => (this.setZoom(this.zoom / 1.5, this.playheadX()), true)],
      ['enter', 'Sound: play the selected segment', () => {
        const s = selected();
        if (s) this.playSegment(s.segment?.start ?? 0, s.segment?.end ?? 0);
        return Boolean(s);
      }],
      ['t', 'Sound: type the selected segment\'s transcript', () => {
        const s = selected();
        const area = s && this.rows.get(s.id)?.transcripts[0];
        area?.focus();
        return Boolean(area);
      }],
    ];
  }

  /** The segment edge near view pixel `x` (selected segments first), or null. @param {number} x */
  edgeAt(x) {
    const segments = this.segments().sort((a, b) => Number(this.host.isSelected(b.id)) - Number(this.host.isSelected(a.id)));
    for (const s of segments) {
      const { start, end } = /** @type {{start: number, end: number}} */ (s.segment);
      if (Math.abs(start * this.zoom - this.scroller.scrollLeft - x) <= EDGE) return { id: s.id, edge: /** @type {const} */ ('start'), anchor: end };
      if (Math.abs(end * this.zoom - this.scroller.scrollLeft - x) <= EDGE) return { id: s.id, edge: /** @type {const} */ ('end'), anchor: start };
    }
    return null;
  }

  /** @param {PointerEvent} e */
  pointerDown(e) {
    if (e.button !== 0 || !this.duration()) return;
    this.element.focus({ preventScroll: true });
    const x = e.clientX - this.canvas.getBoundingClientRect().left;
    const edge = this.host.readOnly ? null : this.edgeAt(x);
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = edge ? { ...edge, moved: false, x: e.clientX } : { id: null, edge: 'end', anchor: this.timeAt(e), moved: false, x: e.clientX };
  }

  /** @param {PointerEvent} e */
  pointerMove(e) {
    if (!this.drag) {
      const x = e.clientX - this.canvas.getBoundingClientRect().left;
      this.canvas.style.cursor = !this.host.readOnly && this.edgeAt(x) ? 'ew-resize' : 'crosshair';
      return;
    }
    if (Math.abs(e.clientX - this.drag.x) < 3 && !this.drag.moved) return;
    this.drag.moved = true;
    if (this.drag.id === null) {
      if (this.host.readOnly) return;
      // A new segment from the press to here.
      const region = this.newSegment(this.drag.anchor, this.timeAt(e));
      if (!region) return;
      this.drag.id = region.id;
      this.host.commit([...this.host.entries(), region]);
      this.host.select([region.id]);
      return;
    }
    this.moveEdge(this.drag.id, this.drag.anchor, this.timeAt(e));
  }

  /** @param {PointerEvent} e */
  pointerUp(e) {
    const drag = this.drag;
    this.drag = null;
    if (!drag || drag.moved) return;
    // A click: play from here; select the segment under it (the innermost lane's first).
    const time = this.timeAt(e);
    this.seek(time);
    const under = this.segments().filter((s) => (s.segment?.start ?? 0) <= time && time <= (s.segment?.end ?? 0));
    this.host.select(under.length ? [under[under.length - 1].id] : []);
  }

  /**
   * A new segment between two times, with the picked label of a Labels
   * control on the sound (else its first label); null when there is none.
   * @param {number} a @param {number} b
   * @returns {Region | null}
   */
  newSegment(a, b) {
    const control = this.labelControls.find((c) => this.host.activeLabel(c)) ?? this.labelControls[0];
    if (!control) return null;
    const label = this.host.activeLabel(control) ?? this.host.labelsOf(control)[0]?.value;
    if (!label) return null;
    const [start, end] = a <= b ? [a, b] : [b, a];
    const id = newId();
    /** @type {ResultItem} */
    const item = { id, from_name: control.name, to_name: this.object.name, type: 'labels', value: { start, end, channel: 0, labels: [label] } };
    return {
      kind: 'segment', id, control: control.name, object: this.object.name, labels: [label], labelControl: null,
      x: 0, y: 0, width: 0, height: 0, rotation: 0, radiusX: 0, radiusY: 0, points: [], closed: true, occluded: false,
      joints: [], mask: null, items: [item], segment: { start, end, channel: 0 },
    };
  }

  /**
   * Moves one end of a segment to `time`; the other stays at `anchor`.
   * Dragging is one undo step.
   * @param {string} id @param {number} anchor @param {number} time
   */
  moveEdge(id, anchor, time) {
    const [start, end] = anchor <= time ? [anchor, time] : [time, anchor];
    this.host.commit(this.host.entries().map((e) => (e.id === id && e.kind === 'segment'
      ? changed(e, { segment: { start, end, channel: e.segment?.channel ?? 0 } })
      : e)), `segment:${id}`);
  }

  /** @param {string[]} ids */
  remove(ids) {
    const doomed = new Set(ids);
    this.host.commit(this.host.entries().filter((e) => !doomed.has(e.id)));
  }

  /**
   * The transcript of a segment by a TextArea control.
   * @param {Region} segment @param {ControlTag} control
   */
  transcriptOf(segment, control) {
    const text = segment.items.slice(1).find((i) => i.from_name === control.name)?.value?.text;
    return Array.isArray(text) ? text.join('\n') : typeof text === 'string' ? text : '';
  }

  /**
   * Sets a segment's transcript; typing in one is one undo step.
   * @param {string} id @param {ControlTag} control @param {string} text
   */
  setTranscript(id, control, text) {
    if (this.host.readOnly) return;
    this.host.commit(this.host.entries().map((e) => {
      if (e.id !== id || e.kind !== 'segment') return e;
      const others = e.items.filter((item, index) => index === 0 || item.from_name !== control.name);
      const old = e.items.slice(1).find((i) => i.from_name === control.name);
      const items = text
        ? [...others, { ...(old ?? { id, from_name: control.name, to_name: this.object.name, type: 'textarea' }), value: { ...(old?.value ?? {}), text: [text] } }]
        : others;
      return changed(e, { items });
    }), `transcript:${id}:${control.name}`);
  }

  /** Shows a segment: scrolls to it and selects it. @param {Region} segment */
  focusSegment(segment) {
    const start = segment.segment?.start ?? 0;
    const x = start * this.zoom - this.scroller.scrollLeft;
    if (x < 0 || x > this.scroller.clientWidth) this.scroller.scrollLeft = start * this.zoom - this.scroller.clientWidth * 0.1;
    this.draw();
  }

  /**
   * From a segment's transcript to the next segment's: it is selected and played.
   * @param {string} id @param {number} controlIndex
   */
  nextTranscript(id, controlIndex) {
    const segments = this.segments();
    const next = segments[segments.findIndex((s) => s.id === id) + 1];
    if (!next) return;
    this.host.select([next.id]);
    this.focusSegment(next);
    this.rows.get(next.id)?.transcripts[controlIndex]?.focus();
    this.playSegment(next.segment?.start ?? 0, next.segment?.end ?? 0);
  }

  /** Draws the list and the waveform again when the entries changed. */
  update() {
    const entries = this.host.entries();
    if (entries !== this.drawn) {
      this.drawn = entries;
      this.updateList();
    }
    for (const [id, row] of this.rows) row.row.classList.toggle('gl-on', this.host.isSelected(id));
    this.draw();
  }

  /** The segment list, row by row, keeping rows (and a transcript being typed in) that still exist. */
  updateList() {
    const segments = this.segments();
    const alive = new Set(segments.map((s) => s.id));
    for (const id of this.rows.keys()) if (!alive.has(id)) this.rows.delete(id);
    const rows = segments.map((s) => {
      const row = this.rows.get(s.id) ?? this.makeRow(s.id);
      this.rows.set(s.id, row);
      const { start, end } = /** @type {{start: number, end: number}} */ (s.segment);
      row.time.textContent = `${formatTime(start)}–${formatTime(end)}`;
      row.label.textContent = s.labels.join(', ') || '(no label)';
      row.swatch.style.background = this.colorOf(s);
      this.transcriptControls.forEach((control, index) => {
        const area = row.transcripts[index];
        const text = this.transcriptOf(s, control);
        if (area.value !== text && document.activeElement !== area) area.value = text;
      });
      return row.row;
    });
    const current = [...this.list.children];
    if (current.length !== rows.length || rows.some((r, i) => r !== current[i])) this.list.replaceChildren(...rows);
  }

  /** @param {string} id */
  makeRow(id) {
    const segment = () => /** @type {Region | undefined} */ (this.segments().find((s) => s.id === id));
    const play = el('button', { type: 'button', class: 'gl-icon', title: 'Play this segment', 'aria-label': 'Play' }, ['▶']);
    play.addEventListener('click', () => {
      const s = segment();
      if (s) this.playSegment(s.segment?.start ?? 0, s.segment?.end ?? 0);
    });
    const remove = el('button', { type: 'button', class: 'gl-icon', title: 'Delete this segment', 'aria-label': 'Delete', disabled: this.host.readOnly }, ['×']);
    remove.addEventListener('click', () => this.remove([id]));
    const swatch = el('span', { class: 'gl-swatch' });
    const label = el('span', { class: 'gl-segment-label' });
    const time = el('span', { class: 'gl-segment-time' });
    const transcripts = this.transcriptControls.map((control, index) => {
      const area = /** @type {HTMLTextAreaElement} */ (el('textarea', {
        class: 'gl-transcript', rows: 1, readonly: this.host.readOnly, 'data-control': control.name,
        placeholder: control.attributes.placeholder || 'Transcript', 'aria-label': `${control.name} of the segment`,
      }));
      area.addEventListener('input', () => this.setTranscript(id, control, area.value));
      area.addEventListener('focus', () => {
        if (!this.host.isSelected(id)) this.host.select([id]);
      });
      area.addEventListener('keydown', (e) => {
        const s = segment();
        if (e.key === 'Enter' && e.altKey && s) {
          e.preventDefault();
          this.playSegment(s.segment?.start ?? 0, s.segment?.end ?? 0);
        } else if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          this.nextTranscript(id, index);
        } else if (e.key === 'Escape') {
          area.blur();
          this.element.focus();
          e.stopPropagation();
        }
      });
      return area;
    });
    const row = el('li', { class: 'gl-segment-row', 'data-segment': id }, [play, swatch, label, time, ...transcripts, remove]);
    row.addEventListener('click', (e) => {
      if (e.target instanceof HTMLElement && e.target.closest('button, textarea')) return;
      this.host.select([id]);
      const s = segment();
      if (s) this.seek(s.segment?.start ?? 0);
    });
    return { row, time, label, swatch, transcripts };
  }

  /** Draws the visible part of the waveform, the segments and the playhead. */
  draw() {
    const width = this.scroller.clientWidth;
    const height = this.canvas.clientHeight || 160;
    if (!width) return;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
    }
    const g = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const left = this.scroller.scrollLeft;
    const zoom = this.zoom;
    const wave = height - RULER;
    const middle = RULER + wave / 2;
    // Ruler: a tick every "round" interval at least 80 pixels apart.
    const steps = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
    const step = steps.find((s) => s * zoom >= 80) ?? 3600;
    g.fillStyle = '#666';
    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = '#bbb';
    g.beginPath();
    for (let t = Math.floor(left / zoom / step) * step; t * zoom - left < width; t += step) {
      const x = Math.round(t * zoom - left) + 0.5;
      g.moveTo(x, RULER - 6);
      g.lineTo(x, RULER);
      g.fillText(formatTime(t).replace(/\.00$/, ''), x + 3, 11);
    }
    g.stroke();
    // Segments, in lanes where they overlap.
    const segments = this.segments();
    const { lanes, count } = laneOf(segments);
    const laneHeight = wave / count;
    for (const s of segments) {
      const { start, end } = /** @type {{start: number, end: number}} */ (s.segment);
      const x0 = start * zoom - left;
      const x1 = end * zoom - left;
      if (x1 < 0 || x0 > width) continue;
      const y = RULER + (lanes.get(s.id) ?? 0) * laneHeight;
      const color = this.colorOf(s);
      const selected = this.host.isSelected(s.id);
      g.globalAlpha = selected ? 0.35 : 0.2;
      g.fillStyle = color;
      g.fillRect(x0, y, Math.max(1, x1 - x0), laneHeight);
      g.globalAlpha = 1;
      g.strokeStyle = color;
      g.lineWidth = selected ? 2 : 1;
      g.strokeRect(x0, y, Math.max(1, x1 - x0), laneHeight);
      g.fillStyle = '#222';
      g.fillText(s.labels.join(', '), Math.max(x0, 0) + 3, y + 12);
    }
    g.lineWidth = 1;
    // The waveform: the lowest and highest sample under each pixel column.
    const w = this.waveform;
    if (w) {
      g.fillStyle = '#3b6ea8';
      const count = w.peaks.length >> 1;
      const scale = wave / 2 / 32768;
      for (let x = 0; x < width; x++) {
        const from = Math.floor(((left + x) / zoom) * w.perSecond);
        const to = Math.max(from + 1, Math.floor(((left + x + 1) / zoom) * w.perSecond));
        if (from >= count) break;
        let lo = 0;
        let hi = 0;
        for (let i = from; i < Math.min(to, count); i++) {
          if (w.peaks[2 * i] < lo) lo = w.peaks[2 * i];
          if (w.peaks[2 * i + 1] > hi) hi = w.peaks[2 * i + 1];
        }
        const top = middle - hi * scale;
        g.fillRect(x, top, 1, Math.max(1, (hi - lo) * scale));
      }
    }
    // The playhead.
    const x = Math.round(this.playheadX()) + 0.5;
    if (x >= 0 && x <= width) {
      g.strokeStyle = '#d33';
      g.beginPath();
      g.moveTo(x, 0);
      g.lineTo(x, height);
      g.stroke();
    }
  }
}
