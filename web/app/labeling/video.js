// A Video object in the labeling workspace: the frame on a canvas (the image
// editor's, so zoom, pan, the box tool and handles work as on images), the
// transport (frame steps, play, speed, seek bar), the track tools and the
// timeline.
//
// Tracks are regions of the workspace (kind 'track', one per followed
// object, its boxes the keyframes of `track.sequence`). The frame editor
// sees instead the boxes of the frame shown, one rect region per track
// visible there with the track's id; what it commits is turned back into
// keyframes on that frame (a box drawn: a new track; a box moved or
// resized: a keyframe). TimelineLabels segments stay result items
// (`timelinelabels`), edited here.

import { ImageEditor } from './editor.js';
import { FramePlayer, DEFAULT_FRAME_RATE } from './video-player.js';
import { SequencePlayer } from './sequence-player.js';

/** @typedef {FramePlayer | SequencePlayer} Player a video file's player, or an image sequence's */
import { Timeline } from './timeline.js';
import { BoxTracker } from './tracker.js';
import {
  boxAt, shapeAt, lastShape, keyframeOn, makeKeyframe, placeShape, toggleOutside, toggleOccluded, deleteKeyframe, splitTrack, mergeTracks,
  shownSpans, readRanges,
} from './video-tracks.js';
import { changed, newId, newRegion, POINT_SIZE } from './model.js';
import { maskFromValue, maskValue } from './mask.js';
import { countsToString } from './rle.js';
import { el, button, iconButton } from './dom.js';
import { keyLabel } from './keymap.js';
import { paintCaption } from './draw.js';

/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').LabelDef} LabelDef */
/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ItemEntry} ItemEntry */
/** @typedef {import('./types.js').ResultItem} ResultItem */
/** @typedef {import('./types.js').Keyframe} Keyframe */
/** @typedef {import('./types.js').TrackShape} TrackShape */
/** @typedef {import('./video-tracks.js').Geometry} Geometry */
/** @typedef {import('./editor.js').EditorHost} EditorHost */
/** @typedef {import('./timeline.js').SegmentRef} SegmentRef */
/** @typedef {import('./timeline.js').TimelineRow} TimelineRow */
/** @typedef {import('./video-tracks.js').FrameBox} FrameBox */

/**
 * What a video view needs from its workspace.
 * @typedef {{
 *   editorHost: EditorHost,
 *   commit: (entries: Entry[], mergeKey?: string | null) => void,
 *   controls: ControlTag[],
 *   labelsOf: (control: ControlTag) => LabelDef[],
 *   colorOfLabel: (control: string, value: string) => string,
 *   activeLabel: (control: ControlTag) => string | null,
 * }} VideoHost
 */

/** A key of the video: key name, what it does, what runs, how the keymap shows it. @typedef {[string, string, (e: KeyboardEvent) => boolean, string?]} VideoCommand */

/** Playback speeds offered. */
const SPEEDS = [0.25, 0.5, 1, 1.5, 2];
/** Frames tracked forward by default. */
const TRACK_FRAMES = 30;
/** Frames are grabbed for the tracker at most this wide (the box is found as well, faster). */
const TRACKER_WIDTH = 960;

/** Gestures of the video, for the keyboard map. */
export const VIDEO_MOUSE_HELP = /** @type {[string, string][]} */ ([
  ['Space (tap)', 'Video: play or pause (hold and drag to pan)'],
  ['Drag on the timeline ruler', 'Video: scrub through the frames'],
  ['Click a track on the timeline', 'Video: select it and go to that frame (a keyframe under the pointer: to it); Shift adds it to the selection'],
  ['Drag on a TimelineLabels row', 'Video: mark those frames with the control\'s picked label; drag a segment\'s end to change it'],
]);

/**
 * Opens the workspace's videos: each with its frame index, its first frame decoded.
 * @param {ObjectTag[]} objects @param {Record<string, unknown>} data
 */
export async function loadVideos(objects, data) {
  /** @type {Map<string, Player>} */
  const players = new Map();
  /** @type {Map<string, string>} */
  const errors = new Map();
  await Promise.all(objects.filter((o) => o.kind === 'Video').map(async (object) => {
    const value = data[object.value];
    const rate = Number(object.attributes.frameRate) || DEFAULT_FRAME_RATE;
    // A list of image URLs is an image sequence.
    const frames = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v) ? /** @type {string[]} */ (value) : null;
    if (!frames && (typeof value !== 'string' || !value)) {
      errors.set(object.name, `No video in the task's "${object.value}" field.`);
      return;
    }
    try {
      players.set(object.name, frames ? await SequencePlayer.open(frames, rate) : await FramePlayer.open(/** @type {string} */ (value), rate));
    } catch {
      errors.set(object.name, frames ? `The image sequence could not be loaded: ${frames[0]} …` : `The video could not be loaded: ${value}`);
    }
  }));
  return { players, errors };
}

/**
 * The image editor on the frames of a video: draws the frame the player
 * shows, and the frame's boxes solid on keyframes, dashed where interpolated.
 */
class VideoEditor extends ImageEditor {
  /**
   * @param {ObjectTag} object @param {Player} player @param {EditorHost} host
   * @param {VideoView} view
   */
  constructor(object, player, host, view) {
    super(object, player.video, host);
    this.player = player;
    this.owner = view;
    this.imageWidth = player.width;
    this.imageHeight = player.height;
  }

  /** @param {boolean} [image] */
  invalidate(image = false) {
    super.invalidate(image);
    this.owner?.changed();
  }

  /** Frames are drawn whole as the player shows them: no smaller copies. */
  async buildLevels() {
    this.levelsPending = false;
  }

  drawImage() {
    this.levels = [{ scale: 1, source: this.player.source }];
    super.drawImage();
  }

  drawOverlay() {
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.overlay.getContext('2d'));
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    /** @type {Region[]} */
    const selected = [];
    for (const stored of this.currentRegions()) {
      if (this.host.hidden.has(stored.id)) continue;
      const region = this.preview?.id === stored.id ? this.preview : stored;
      if (this.host.selection.has(region.id)) selected.push(region);
      else this.drawBox(ctx, region, this.owner.frameBox(region.id));
    }
    this.drawOutsideGhosts(ctx);
    for (const region of selected) this.drawSelected(ctx, region, selected.length === 1);
    this.drawDrafts(ctx);
  }

  /**
   * A track's shape on this frame: solid on a keyframe, dashed where
   * interpolated, faint where occluded.
   * @param {CanvasRenderingContext2D} ctx @param {Region} region @param {{keyframe: boolean, occluded: boolean} | null} box
   */
  drawBox(ctx, region, box) {
    if (region.kind === 'skeleton') {
      // Joints and edges, as on images; faint where occluded.
      ctx.globalAlpha = box?.occluded ? 0.5 : 1;
      this.drawMark(ctx, region, false);
      ctx.globalAlpha = 1;
      return;
    }
    const color = this.host.colorOf(region);
    const path = new Path2D();
    this.traceShape(path, region);
    ctx.setLineDash(box?.keyframe ? [] : [6, 4]);
    ctx.globalAlpha = box?.occluded ? 0.5 : 1;
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = color;
    ctx.stroke(path);
    ctx.setLineDash([]);
    const [x, y] = this.captionAnchor(region);
    paintCaption(ctx, `${region.labels.join(', ')}${box?.occluded ? ' (occluded)' : ''}`, color, x, y, 300);
    ctx.globalAlpha = 1;
  }

  /** Selected tracks that are outside on this frame: where they were, dotted. @param {CanvasRenderingContext2D} ctx */
  drawOutsideGhosts(ctx) {
    for (const track of this.owner.selectedTracks()) {
      if (this.owner.frameBox(track.id)) continue;
      const geometry = lastShape(track.track?.sequence ?? [], this.owner.frameNumber());
      if (!geometry) continue;
      const path = new Path2D();
      this.traceShape(path, frameRegion(track, geometry, false, [this.imageWidth, this.imageHeight]));
      ctx.setLineDash([2, 4]);
      ctx.globalAlpha = 0.7;
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = this.host.colorOf(track);
      ctx.stroke(path);
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    }
  }

  hintText() {
    return super.hintText() || this.owner.trackHint();
  }
}

/**
 * One Video object's player, frame editor, tools and timeline.
 */
export class VideoView {
  /**
   * @param {ObjectTag} object @param {Player} player @param {VideoHost} host
   */
  constructor(object, player, host) {
    this.object = object;
    this.player = player;
    this.host = host;
    this.readOnly = host.editorHost.readOnly;
    /** The frame's boxes, made again when the entries or the frame change. */
    this.frameState = { entries: /** @type {readonly Entry[] | null} */ (null), frame: -1, regions: /** @type {Region[]} */ ([]), boxes: new Map() };
    /** @type {SegmentRef | null} */
    this.selectedSegment = null;
    /** A segment started by a label's key, ended by the next press. @type {{id: string, control: string, label: string} | null} */
    this.openSegment = null;
    /** The tracking run in progress. @type {{id: string, stop: boolean} | null} */
    this.tracking = null;
    this.trackStatus = '';
    this.timelineControls = host.controls.filter((c) => c.kind === 'TimelineLabels' && c.to_names.includes(object.name));
    this.trackControls = host.controls.filter((c) => TRACK_CONTROLS.includes(c.kind) && c.to_names.includes(object.name));
    const editorHost = { ...host.editorHost, entries: () => this.frameRegions(), commit: (/** @type {Entry[]} */ next) => this.commitFrame(next) };
    this.editor = new VideoEditor(object, player, editorHost, this);
    // Editing a box stops playback: the keyframe goes on the frame shown.
    this.editor.overlay.addEventListener('pointerdown', () => player.pause(), { capture: true });
    this.timeline = new Timeline(this.timelineHost());
    this.transport = this.buildTransport();
    this.tools = this.trackControls.length && !this.readOnly ? this.buildTools() : null;
    this.element = el('div', { class: 'gl-video', 'data-object': object.name }, [this.editor.element, this.transport.element, this.tools?.element, this.timeline.element]);
    player.onChange = () => this.frameChanged();
    this.frameChanged();
  }

  destroy() {
    this.stopTracking();
    this.timeline.destroy();
    this.editor.destroy();
    this.player.destroy();
  }

  // ---- frames -----------------------------------------------------------------

  /** The frame shown, 1-based as results count them. */
  frameNumber() {
    return this.player.frame + 1;
  }

  /** The time of a 1-based frame, seconds. @param {number} frame */
  timeOf(frame) {
    return this.player.timeOf(frame - 1);
  }

  /** Show a 1-based frame. @param {number} frame */
  seek(frame) {
    return this.player.seek(frame - 1);
  }

  frameChanged() {
    this.editor.invalidate(true);
    this.transport.update();
    // Which decoder reads frames ahead (tests and support look): 'webcodecs' or 'element'.
    const decoder = 'decoder' in this.player ? this.player.decoder : 'sequence';
    if (this.element && this.element.dataset.decoder !== decoder) this.element.dataset.decoder = decoder;
  }

  /** Something the tools, the timeline or the transport show may have changed. */
  changed() {
    this.timeline?.invalidate();
    this.tools?.update();
  }

  /** The tracks on this video. */
  tracks() {
    return /** @type {Region[]} */ (this.host.editorHost.entries().filter((e) => e.kind === 'track' && e.object === this.object.name));
  }

  selectedTracks() {
    return this.tracks().filter((t) => this.host.editorHost.selection.has(t.id));
  }

  /** The frame's shapes as regions (boxes, polygons, …) with their tracks' ids, for the frame editor. */
  frameRegions() {
    const entries = this.host.editorHost.entries();
    const frame = this.frameNumber();
    const state = this.frameState;
    if (state.entries === entries && state.frame === frame) return state.regions;
    state.entries = entries;
    state.frame = frame;
    state.regions = [];
    state.boxes = new Map();
    for (const track of this.tracks()) {
      const shown = shapeAt(track.track?.sequence ?? [], frame);
      if (!shown) continue;
      state.boxes.set(track.id, { ...shown.geometry, keyframe: shown.keyframe, occluded: shown.occluded });
      state.regions.push(frameRegion(track, shown.geometry, shown.occluded, [this.player.width, this.player.height]));
    }
    return state.regions;
  }

  /**
   * A track's shape on the frame shown (a box track's box; points or joints
   * for the others) with its keyframe and occluded flags, or null where it
   * is not shown.
   * @param {string} id
   */
  frameBox(id) {
    this.frameRegions();
    return this.frameState.boxes.get(id) ?? null;
  }

  /**
   * The frame editor's edit, made keyframes: a new box is a new track with a
   * keyframe on this frame, a changed box a keyframe on this frame.
   * @param {Entry[]} next the frame's regions after the edit
   */
  commitFrame(next) {
    const before = new Map(this.frameRegions().map((r) => [r.id, r]));
    const frame = this.frameNumber();
    const time = this.timeOf(frame);
    /** @type {Map<string, Region>} */
    const moved = new Map();
    /** @type {Region[]} */
    const added = [];
    for (const entry of next) {
      if (entry.kind === 'item') continue;
      const old = before.get(entry.id);
      if (!old) added.push(entry);
      else if (old !== entry) moved.set(entry.id, entry);
    }
    const entries = this.host.editorHost.entries().map((e) => {
      const shape = e.kind === 'track' ? moved.get(e.id) : undefined;
      if (!shape || e.kind !== 'track' || !e.track) return e;
      return this.withSequence(e, placeShape(e.track.sequence, frame, regionGeometry(shape, e.track.shape), time));
    });
    const tracked = added.filter((r) => isTrackShape(r.kind));
    this.host.commit([...entries, ...tracked.map((r) => this.newTrack(r, frame, time))]);
  }

  /**
   * A track from a box drawn on `frame`; without a label picked, the first
   * label of a Labels control of this video.
   * @param {Region} box @param {number} frame @param {number} time
   * @returns {Region}
   */
  newTrack(box, frame, time) {
    let { labels, labelControl } = box;
    const labelsControl = this.host.controls.find((c) => c.kind === 'Labels' && c.to_names.includes(this.object.name));
    if (!labels.length && labelsControl) {
      const first = this.host.labelsOf(labelsControl)[0]?.value;
      if (first) [labels, labelControl] = [[first], labelsControl.name];
    }
    const shape = /** @type {TrackShape} */ (box.kind);
    return {
      ...box, kind: 'track', labels, labelControl, items: [], joints: [],
      track: { shape, sequence: [makeKeyframe(frame, regionGeometry(box, shape), time, true, false)], framesCount: this.player.frames, duration: this.player.index.duration },
    };
  }

  /** @param {Region} track @param {readonly Keyframe[]} sequence */
  withSequence(track, sequence) {
    const shape = track.track?.shape ?? 'rect';
    return changed(track, { track: { shape, sequence, framesCount: this.player.frames, duration: this.player.index.duration } });
  }

  // ---- track commands -----------------------------------------------------------

  /** The one selected track, when it may be edited. */
  editableTrack() {
    const tracks = this.selectedTracks();
    const host = this.host.editorHost;
    return tracks.length === 1 && !host.readOnly && !host.locked.has(tracks[0].id) ? tracks[0] : null;
  }

  /**
   * Change the selected track's keyframes; an empty sequence removes the track.
   * @param {(sequence: readonly Keyframe[], frame: number, time: number) => Keyframe[] | null} change null: nothing to do
   */
  editTrack(change) {
    const track = this.editableTrack();
    if (!track?.track) return false;
    const frame = this.frameNumber();
    const sequence = change(track.track.sequence, frame, this.timeOf(frame));
    if (!sequence) return false;
    const entries = this.host.editorHost.entries();
    this.host.commit(sequence.length
      ? entries.map((e) => (e === track ? this.withSequence(track, sequence) : e))
      : entries.filter((e) => e !== track));
    return true;
  }

  toggleOutside() {
    return this.editTrack((s, f, t) => toggleOutside(s, f, t));
  }

  toggleOccluded() {
    return this.editTrack((s, f, t) => (boxAt(s, f) ? toggleOccluded(s, f, t) : null));
  }

  deleteKeyframe() {
    return this.editTrack((s, f) => (keyframeOn(s, f) ? deleteKeyframe(s, f) : null));
  }

  /** Split the selected track at the frame shown: the part from here on becomes a new track, selected. */
  split() {
    const track = this.editableTrack();
    if (!track?.track) return false;
    const parts = splitTrack(track.track.sequence, this.frameNumber(), (f) => this.timeOf(f));
    if (!parts) return false;
    const second = { ...this.withSequence(track, parts[1]), id: newId(), items: [] };
    const entries = this.host.editorHost.entries().flatMap((e) => (e === track ? [this.withSequence(track, parts[0]), second] : [e]));
    this.host.commit(entries);
    this.host.editorHost.select([second.id]);
    return true;
  }

  /** Merge the two selected tracks into the one that starts first. */
  merge() {
    const tracks = this.selectedTracks();
    const host = this.host.editorHost;
    if (tracks.length !== 2 || host.readOnly || tracks.some((t) => host.locked.has(t.id))) return false;
    const [a, b] = tracks.map((t) => t.track?.sequence ?? []);
    const [keep, drop] = (a[0]?.frame ?? 0) <= (b[0]?.frame ?? 0) ? tracks : [tracks[1], tracks[0]];
    const merged = this.withSequence(keep, mergeTracks(a, b));
    this.host.commit(host.entries().filter((e) => e !== drop).map((e) => (e === keep ? merged : e)));
    host.select([keep.id]);
    return true;
  }

  /** Go to the selected track's previous (-1) or next (1) keyframe. @param {-1 | 1} direction */
  jumpKeyframe(direction) {
    const track = this.selectedTracks()[0];
    if (!track?.track) return false;
    const frame = this.frameNumber();
    const frames = track.track.sequence.map((k) => k.frame);
    const target = direction > 0 ? frames.find((f) => f > frame) : frames.filter((f) => f < frame).pop();
    if (target === undefined) return false;
    void this.seek(target);
    return true;
  }

  /** The status line's hint for the selected track. */
  trackHint() {
    if (this.trackStatus) return this.trackStatus;
    const tracks = this.selectedTracks();
    if (tracks.length === 2) return 'Two tracks selected · M: merge them';
    const track = tracks[0];
    if (!track?.track) return '';
    const box = this.frameBox(track.id);
    const state = !box ? 'outside' : box.keyframe ? 'keyframe' : 'interpolated';
    return `Track ${track.labels.join(', ') || '(no label)'}: ${state}${box?.occluded ? ', occluded' : ''} · O outside · Q occluded · T track forward`;
  }

  // ---- tracker assist ---------------------------------------------------------------

  /**
   * Follow the selected track's box through the next frames, a keyframe on
   * each, until `count` frames, the end of the video, the object is lost,
   * or the run is stopped (another seek, selection, Escape). One undo step.
   * @param {number} [count]
   */
  async trackForward(count = Number(this.tools?.frames.value) || TRACK_FRAMES) {
    const track = this.editableTrack();
    const box = track?.track?.shape === 'rect' ? boxAt(track.track.sequence, this.frameNumber()) : null;
    if (!track || !box || this.tracking) return false;
    const run = { id: track.id, stop: false };
    this.tracking = run;
    const mergeKey = `track:${newId()}`;
    const start = this.player.frame;
    const grabber = new FrameGrabber(this.player);
    try {
      const first = await grabber.grab(start);
      if (!first) return false;
      const scale = [first.width / 100, first.height / 100];
      const tracker = new BoxTracker(first, { x: box.x * scale[0], y: box.y * scale[1], width: box.width * scale[0], height: box.height * scale[1] });
      const last = Math.min(this.player.frames - 1, start + Math.max(1, Math.round(count)));
      for (let i = start + 1; i <= last && !run.stop; i++) {
        this.setTrackStatus(`Tracking: frame ${i + 1} (${i - start} of ${last - start}) · Esc stops`);
        const image = await grabber.grab(i);
        if (!image || run.stop) break;
        const found = tracker.next(image);
        if (!found) {
          this.setTrackStatus(`Tracking lost the object at frame ${i + 1}`);
          return true;
        }
        if (!this.addTrackedKeyframe(track.id, i + 1, found, scale, mergeKey)) break;
      }
      this.setTrackStatus('');
      return true;
    } finally {
      this.tracking = null;
    }
  }

  /**
   * @param {string} id @param {number} frame @param {import('./tracker.js').Rect} found pixels of the grabbed frame
   * @param {number[]} scale grabbed pixels per percent @param {string} mergeKey
   */
  addTrackedKeyframe(id, frame, found, scale, mergeKey) {
    const track = this.tracks().find((t) => t.id === id);
    if (!track?.track || !this.host.editorHost.selection.has(id)) return false;
    const keep = keyframeOn(track.track.sequence, frame);
    const box = { x: found.x / scale[0], y: found.y / scale[1], width: found.width / scale[0], height: found.height / scale[1], rotation: 0 };
    const sequence = placeShape(track.track.sequence, frame, { ...box, rotation: keep?.rotation ?? boxAt(track.track.sequence, frame)?.rotation ?? 0 }, this.timeOf(frame));
    this.host.commit(this.host.editorHost.entries().map((e) => (e === track ? this.withSequence(track, sequence) : e)), mergeKey);
    return true;
  }

  stopTracking() {
    if (!this.tracking) return false;
    this.tracking.stop = true;
    this.setTrackStatus('');
    return true;
  }

  /** @param {string} text */
  setTrackStatus(text) {
    this.trackStatus = text;
    this.editor.invalidate();
  }

  // ---- timeline labels ----------------------------------------------------------------

  /** The `timelinelabels` items of this video. */
  segmentItems() {
    return /** @type {ItemEntry[]} */ (this.host.editorHost.entries().filter((e) => e.kind === 'item' && e.item.type === 'timelinelabels' && e.item.to_name === this.object.name));
  }

  /**
   * A label's key of a TimelineLabels control: starts a segment on the
   * frame shown; the next press ends it there (another label of the same
   * control ends it and starts its own).
   * @param {ControlTag} control @param {string} label
   */
  pressTimelineLabel(control, label) {
    if (this.readOnly) return;
    const frame = this.frameNumber();
    const open = this.openSegment;
    if (open && open.control === control.name) {
      this.openSegment = null;
      const ref = { id: open.id, range: 0 };
      const range = this.segmentRange(ref);
      if (range) this.resizeSegment(ref, Math.min(range[0], frame), Math.max(range[0], frame));
      if (open.label === label) return;
    }
    const id = this.createSegment(control.name, frame, frame, label);
    this.openSegment = { id, control: control.name, label };
  }

  /** @param {SegmentRef} ref @returns {[number, number] | null} */
  segmentRange(ref) {
    const entry = this.segmentItems().find((e) => e.id === ref.id);
    return entry ? readRanges(entry.item.value)[ref.range] ?? null : null;
  }

  /**
   * A new segment of `control`'s picked label (or `label`), selected.
   * @param {string} controlName @param {number} start @param {number} end @param {string} [label]
   */
  createSegment(controlName, start, end, label) {
    const control = this.timelineControls.find((c) => c.name === controlName);
    const value = label ?? (control && (this.host.activeLabel(control) ?? this.host.labelsOf(control)[0]?.value));
    if (!control || !value) return '';
    const id = newId();
    /** @type {ResultItem} */
    const item = { id, from_name: control.name, to_name: this.object.name, type: 'timelinelabels', value: { ranges: [{ start, end }], timelinelabels: [value] } };
    this.host.commit([...this.host.editorHost.entries(), { kind: 'item', id, item: Object.freeze(item) }]);
    this.selectedSegment = { id, range: 0 };
    this.changed();
    return id;
  }

  /** @param {SegmentRef} ref @param {number} start @param {number} end */
  resizeSegment(ref, start, end) {
    this.replaceSegment(ref, (ranges) => ranges.map((r, i) => (i === ref.range ? { ...r, start, end } : r)));
  }

  /** Delete the selected segment (Delete); false when none is selected. */
  deleteSelectedSegment() {
    const ref = this.selectedSegment;
    if (!ref || this.readOnly) return false;
    this.selectedSegment = null;
    if (this.openSegment?.id === ref.id) this.openSegment = null;
    this.replaceSegment(ref, (ranges) => ranges.filter((_, i) => i !== ref.range));
    return true;
  }

  /**
   * @param {SegmentRef} ref
   * @param {(ranges: Record<string, any>[]) => Record<string, any>[]} change a segment item with no range left goes
   */
  replaceSegment(ref, change) {
    const entries = this.host.editorHost.entries();
    const entry = entries.find((e) => e.kind === 'item' && e.id === ref.id);
    if (!entry || entry.kind !== 'item') return;
    const ranges = change(Array.isArray(entry.item.value.ranges) ? entry.item.value.ranges : []);
    const item = Object.freeze({ ...entry.item, value: { ...entry.item.value, ranges } });
    this.host.commit(ranges.length ? entries.map((e) => (e === entry ? { ...entry, item } : e)) : entries.filter((e) => e !== entry));
  }

  // ---- timeline ---------------------------------------------------------------------

  /** @returns {import('./timeline.js').TimelineHost} */
  timelineHost() {
    return {
      readOnly: this.readOnly,
      frames: () => this.player.frames,
      frame: () => this.frameNumber(),
      rows: () => this.timelineRows(),
      seek: (frame) => void this.seek(frame),
      selectTrack: (id, add) => {
        const selection = this.host.editorHost.selection;
        this.selectedSegment = null;
        this.host.editorHost.select(add ? (selection.has(id) ? [...selection].filter((s) => s !== id) : [...selection, id]) : [id]);
      },
      selectSegment: (ref) => {
        this.selectedSegment = ref;
        if (ref) this.host.editorHost.select([]);
        this.changed();
      },
      createSegment: (control, start, end) => void this.createSegment(control, start, end),
      resizeSegment: (ref, start, end) => this.resizeSegment(ref, start, end),
    };
  }

  /** @returns {TimelineRow[]} */
  timelineRows() {
    const frame = this.frameNumber();
    const items = this.segmentItems();
    /** @type {TimelineRow[]} */
    const rows = this.timelineControls.map((control) => ({
      kind: 'segments',
      control: control.name,
      name: control.name,
      segments: items.filter((e) => e.item.from_name === control.name).flatMap((e) => {
        const label = String(e.item.value.timelinelabels?.[0] ?? '');
        return readRanges(e.item.value).map(([start, end], range) => {
          // A segment being marked reaches the frame shown.
          const open = this.openSegment?.id === e.id;
          return {
            ref: { id: e.id, range }, start: open ? Math.min(start, frame) : start, end: open ? Math.max(end, frame) : end,
            label, color: this.host.colorOfLabel(control.name, label), selected: this.selectedSegment?.id === e.id && this.selectedSegment.range === range,
          };
        });
      }),
    }));
    this.tracks().forEach((track, i) => {
      const sequence = track.track?.sequence ?? [];
      rows.push({
        kind: 'track', id: track.id, name: `${i + 1}. ${track.labels.join(', ') || '(no label)'}`, color: this.host.editorHost.colorOf(track),
        selected: this.host.editorHost.selection.has(track.id), spans: shownSpans(sequence, this.player.frames), keyframes: sequence.map((k) => ({ frame: k.frame, enabled: k.enabled })),
      });
    });
    return rows;
  }

  /** Bring a track into view: to its first frame when it is not shown on this one. @param {Region} track */
  focusTrack(track) {
    const first = track.track?.sequence.find((k) => k.enabled)?.frame;
    if (first !== undefined && !this.frameBox(track.id)) void this.seek(first);
  }

  // ---- transport and tools ------------------------------------------------------------

  togglePlay() {
    this.stopTracking();
    void this.player.toggle();
  }

  /** @param {number} delta */
  step(delta) {
    this.stopTracking();
    void this.player.step(delta);
    return true;
  }

  buildTransport() {
    const player = this.player;
    const frameInput = el('input', { type: 'number', class: 'gl-frame-input', min: 1, max: player.frames, step: 1, 'aria-label': 'Frame' });
    frameInput.addEventListener('change', () => void this.seek(Number(frameInput.value) || 1));
    const timeText = el('span', { class: 'gl-video-time' });
    const speed = el('select', { class: 'gl-speed', 'aria-label': 'Playback speed', title: 'Playback speed' },
      SPEEDS.map((s) => el('option', { value: s, selected: s === 1 }, [`${s}×`])));
    speed.addEventListener('change', () => player.setRate(Number(speed.value)));
    const seekBar = el('input', { type: 'range', class: 'gl-seek', min: 1, max: player.frames, step: 1, value: 1, 'aria-label': 'Seek' });
    seekBar.addEventListener('input', () => void this.seek(Number(seekBar.value)));
    const playButton = iconButton('play', 'Play (Space)', () => this.togglePlay(), 'gl-icon gl-play');
    const pauseButton = iconButton('pause', 'Pause (Space)', () => this.togglePlay(), 'gl-icon gl-pause');
    const element = el('div', { class: 'gl-transport' }, [
      iconButton('first', 'First frame (Home)', () => void this.seek(1), 'gl-icon'),
      iconButton('previous', 'Previous frame (← or ,; Shift: 10 frames)', () => this.step(-1), 'gl-icon gl-step-back'),
      playButton, pauseButton,
      iconButton('next', 'Next frame (→ or .; Shift: 10 frames)', () => this.step(1), 'gl-icon gl-step-forward'),
      iconButton('last', 'Last frame (End)', () => void this.seek(player.frames), 'gl-icon'),
      el('label', { class: 'gl-frame' }, ['Frame', frameInput, `/ ${player.frames}`]),
      timeText, speed, seekBar,
    ]);
    const update = () => {
      const frame = this.frameNumber();
      if (document.activeElement !== frameInput) frameInput.value = String(frame);
      seekBar.value = String(frame);
      timeText.textContent = `${player.timeOf(player.frame).toFixed(3)} s`;
      playButton.hidden = player.playing;
      pauseButton.hidden = !player.playing;
    };
    return { element, update };
  }

  buildTools() {
    const frames = el('input', { type: 'number', class: 'gl-track-frames', min: 1, max: 1000, value: TRACK_FRAMES, 'aria-label': 'Frames to track' });
    const keyed = (/** @type {string} */ text, /** @type {string} */ title, /** @type {() => unknown} */ run) => button(text, title, () => void run(), 'gl-track-tool');
    const buttons = {
      outside: keyed('Outside', 'The selected track is outside from this frame, or back in (O)', () => this.toggleOutside()),
      occluded: keyed('Occluded', 'The selected track is occluded from this frame, or visible again (Q)', () => this.toggleOccluded()),
      keyframe: keyed('Delete keyframe', 'Delete the selected track\'s keyframe on this frame (Shift+Delete)', () => this.deleteKeyframe()),
      split: keyed('Split', 'Split the selected track at this frame (X)', () => this.split()),
      merge: keyed('Merge', 'Merge the two selected tracks (M)', () => this.merge()),
      track: keyed('Track →', 'Follow the selected box through the next frames (T)', () => (this.tracking ? this.stopTracking() : this.trackForward())),
    };
    const element = el('div', { class: 'gl-track-tools' }, [
      ...Object.values(buttons).slice(0, 5), el('span', { class: 'gl-sep' }), buttons.track, frames, el('span', { class: 'gl-muted' }, ['frames']),
    ]);
    const update = () => {
      const track = this.editableTrack();
      const sequence = track?.track?.sequence ?? [];
      const frame = this.frameNumber();
      buttons.outside.disabled = !track;
      buttons.occluded.disabled = !track || !this.frameBox(track.id);
      buttons.keyframe.disabled = !track || !keyframeOn(sequence, frame);
      buttons.split.disabled = !track || !sequence.length || sequence[0].frame >= frame;
      buttons.merge.disabled = this.selectedTracks().length !== 2;
      buttons.track.disabled = !this.tracking && (!track || track.track?.shape !== 'rect' || !this.frameBox(track.id));
      buttons.track.textContent = this.tracking ? 'Stop' : 'Track →';
    };
    return { element, update, frames };
  }

  /**
   * The video's keys. Arrows step frames here (on images they nudge the selection).
   * @param {Set<string>} taken keys the workspace binds already; the track tools move off them
   * @returns {VideoCommand[]}
   */
  commands(taken) {
    const steps = /** @type {[string, number][]} */ ([['arrowleft', -1], ['arrowright', 1], [',', -1], ['.', 1], ['shift+arrowleft', -10], ['shift+arrowright', 10], ['<', -10], ['>', 10]]);
    /** @type {VideoCommand[]} */
    const list = steps.map(([key, delta], i) => [key, i === 0 ? 'Video: previous / next frame (Shift: 10 frames)' : '', () => this.step(delta), i === 0 ? '← → or , .' : undefined]);
    list.push(
      ['home', 'Video: first frame', () => (void this.seek(1), true), 'Home'],
      ['end', 'Video: last frame', () => (void this.seek(this.player.frames), true), 'End'],
      ['[', 'Video: the selected track\'s previous keyframe', () => this.jumpKeyframe(-1)],
      [']', 'Video: the selected track\'s next keyframe', () => this.jumpKeyframe(1)],
    );
    if (this.tools) {
      const free = (/** @type {string} */ key) => (taken.has(key) ? `shift+${key}` : key);
      list.push(
        [free('o'), 'Track: outside from this frame, or back in', () => this.toggleOutside()],
        [free('q'), 'Track: occluded from this frame, or visible again', () => this.toggleOccluded()],
        ['shift+delete', 'Track: delete the keyframe on this frame', () => this.deleteKeyframe()],
        ['shift+backspace', '', () => this.deleteKeyframe()],
        [free('x'), 'Track: split the selected track at this frame', () => this.split()],
        [free('m'), 'Track: merge the two selected tracks', () => this.merge()],
        [free('t'), `Track: follow the selected box forward (frames: the box beside Track →, ${TRACK_FRAMES} by default)`, () => {
          void this.trackForward();
          return Boolean(this.editableTrack());
        }],
      );
    }
    return list.map(([key, what, run, label]) => [key, what, run, label ?? (what ? keyLabel(key) : undefined)]);
  }
}

/** The controls whose regions on a video are tracks. @type {readonly string[]} */
const TRACK_CONTROLS = ['VideoRectangle', 'VideoPolygon', 'VideoPolyLine', 'VideoKeyPointLabels', 'VideoBrush'];

/** @param {string} kind @returns {kind is TrackShape} */
const isTrackShape = (kind) => kind === 'rect' || kind === 'polygon' || kind === 'polyline' || kind === 'skeleton' || kind === 'mask';

/** Masks decoded from keyframes, by their counts (a mask holds over many frames). @type {Map<string, import('./mask.js').Mask>} */
const decodedMasks = new Map();
/** Decoded masks kept at most. */
const DECODED_MASKS = 32;

/**
 * A keyframe's mask decoded at the video's size (kept for the frames that show it).
 * @param {{format: string, counts: string}} geometry @param {number} width @param {number} height
 */
function decodedMask(geometry, width, height) {
  const key = `${width}x${height}:${geometry.counts}`;
  let mask = decodedMasks.get(key);
  if (!mask) {
    mask = maskFromValue(geometry, width, height);
    if (decodedMasks.size >= DECODED_MASKS) decodedMasks.delete(/** @type {string} */ (decodedMasks.keys().next().value));
    decodedMasks.set(key, mask);
  }
  return mask;
}

/**
 * A track's shape on a frame as the region the frame editor edits: a box,
 * a polygon or polyline, a skeleton whose joints are points (ids
 * `{track id}/{joint}`), or a mask at the video's size.
 * @param {Region} track @param {Geometry} geometry @param {boolean} occluded @param {[number, number]} size the video's
 * @returns {Region}
 */
function frameRegion(track, geometry, occluded, size) {
  const shape = track.track?.shape ?? 'rect';
  const base = { ...track, kind: shape, occluded, track: undefined };
  if ('counts' in geometry) return { ...base, mask: decodedMask(geometry, size[0], size[1]) };
  if ('points' in geometry) return { ...base, points: geometry.points, closed: shape === 'polygon' };
  if ('joints' in geometry) {
    const joints = geometry.joints.map((j) => newRegion({
      kind: 'point', id: `${track.id}/${j.label}`, control: track.control, object: track.object, labels: [j.label], labelControl: null,
      x: j.x, y: j.y, width: POINT_SIZE, occluded: j.visibility === 'occluded',
    }));
    return { ...base, joints };
  }
  return { ...base, x: geometry.x, y: geometry.y, width: geometry.width, height: geometry.height, rotation: geometry.rotation };
}

/**
 * The geometry a keyframe keeps of a region edited on a frame.
 * @param {Region} region @param {TrackShape} shape
 * @returns {Geometry}
 */
function regionGeometry(region, shape) {
  if (shape === 'polygon' || shape === 'polyline') return { points: region.points };
  if (shape === 'mask') {
    const mask = /** @type {import('./mask.js').Mask} */ (region.mask);
    // Keyframes hold COCO counts (a Label Studio rle read in is re-encoded).
    const value = maskValue(mask);
    return { format: 'coco_rle', counts: value.format === 'coco_rle' && typeof value.counts === 'string' ? value.counts : countsToString(mask.counts) };
  }
  if (shape === 'skeleton') {
    return {
      joints: region.joints.map((j) => ({ label: j.labels[0] ?? '', x: j.x, y: j.y, ...(j.occluded ? { visibility: 'occluded' } : {}) })),
    };
  }
  return { x: region.x, y: region.y, width: region.width, height: region.height, rotation: region.rotation };
}

/**
 * Frames of a player as pixels for the tracker: each seeked to, then drawn
 * on a canvas at most TRACKER_WIDTH wide.
 */
class FrameGrabber {
  /** @param {Player} player */
  constructor(player) {
    this.player = player;
    const scale = Math.min(1, TRACKER_WIDTH / player.width);
    this.canvas = document.createElement('canvas');
    this.canvas.width = Math.max(1, Math.round(player.width * scale));
    this.canvas.height = Math.max(1, Math.round(player.height * scale));
    this.ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d', { willReadFrequently: true }));
  }

  /** Frame i's pixels, or null when another seek took over. @param {number} i */
  async grab(i) {
    await this.player.seek(i);
    if (this.player.frame !== i || this.player.target !== i) return null;
    this.ctx.drawImage(this.player.source, 0, 0, this.canvas.width, this.canvas.height);
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }
}
