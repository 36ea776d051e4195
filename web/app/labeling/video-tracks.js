// Video tracks as data: an object followed through a video is a list of
// keyframes (Label Studio's `videorectangle` sequence, or Gloss's
// `videopolygon`, `videopolyline` and `videokeypointlabels`), and a
// labelled stretch of frames is a range (`timelinelabels`). Pure functions
// over immutable arrays, no DOM; frames are 1-based, as results carry them.
//
// A keyframe's geometry is a box (x, y, width, height, rotation), points
// (a polygon's or polyline's vertices) or joints (a skeleton's, by label).
//
// What a sequence means (docs/label-config.md says the same):
// - before the first keyframe the object is not shown;
// - between two enabled keyframes the shape is interpolated linearly: a
//   box field by field, points when both keyframes have as many (else the
//   first holds), joints that both keyframes have (others hold);
// - from a keyframe with `enabled: false` until the next keyframe the object
//   is outside (not shown);
// - after an enabled keyframe followed by a disabled one, or by none, the
//   box stays as it is (to the end of the video).
// A frame's `occluded` flag is its keyframe's, or the previous keyframe's.

/** @typedef {import('./types.js').Keyframe} Keyframe */
/** @typedef {import('./types.js').Track} Track */
/** @typedef {import('./types.js').TrackShape} TrackShape */
/** @typedef {import('./types.js').Joint} Joint */
/** @typedef {{x: number, y: number, width: number, height: number, rotation: number}} Box */
/** @typedef {{points: [number, number][]}} PointsGeometry */
/** @typedef {{joints: Joint[]}} JointsGeometry */
/** A mask as results carry it (COCO compressed counts at the video's size). @typedef {{format: string, counts: string}} MaskGeometry */
/** What a keyframe places: a box, points, joints or a mask. @typedef {Box | PointsGeometry | JointsGeometry | MaskGeometry} Geometry */
/** A track's box at one frame: `keyframe` when a keyframe is on that frame, else interpolated or held. @typedef {Box & {keyframe: boolean, occluded: boolean}} FrameBox */
/** A track's geometry at one frame, flagged likewise. @typedef {{geometry: Geometry, keyframe: boolean, occluded: boolean}} FrameShape */

/** @param {unknown} v */
const finite = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.isFinite(Number(v)) ? Number(v) : 0);

/** @param {Keyframe} k @returns {Box} */
const boxOf = (k) => ({ x: k.x, y: k.y, width: k.width, height: k.height, rotation: k.rotation });

/**
 * A keyframe's geometry: its points, its joints, or its box.
 * @param {Keyframe} k @returns {Geometry}
 */
export function geometryOf(k) {
  if (Array.isArray(k.points)) return { points: k.points };
  if (Array.isArray(k.joints)) return { joints: k.joints };
  if (typeof k.counts === 'string') return { format: String(k.format ?? 'coco_rle'), counts: k.counts };
  return boxOf(k);
}

/** Whether a keyframe places anything (a disabled one read from a file may not). @param {Keyframe} k */
const placesSomething = (k) => Array.isArray(k.points) || Array.isArray(k.joints) || typeof k.counts === 'string' || Number.isFinite(k.x);

/**
 * The geometry a fraction t of the way from a to b.
 * @param {Geometry} a @param {Geometry} b @param {number} t
 * @returns {Geometry}
 */
function mixGeometry(a, b, t) {
  const mix = (/** @type {number} */ p, /** @type {number} */ q) => p + (q - p) * t;
  // A mask holds until the next keyframe.
  if ('counts' in a) return a;
  if ('points' in a) {
    if (!('points' in b) || b.points.length !== a.points.length) return a;
    return { points: a.points.map((p, i) => /** @type {[number, number]} */ ([mix(p[0], b.points[i][0]), mix(p[1], b.points[i][1])])) };
  }
  if ('joints' in a) {
    const next = 'joints' in b ? b.joints : [];
    return {
      joints: a.joints.map((j) => {
        const n = next.find((m) => m.label === j.label);
        return n ? { ...j, x: mix(j.x, n.x), y: mix(j.y, n.y) } : j;
      }),
    };
  }
  if (!('x' in b)) return a;
  return { x: mix(a.x, b.x), y: mix(a.y, b.y), width: mix(a.width, b.width), height: mix(a.height, b.height), rotation: mix(a.rotation, b.rotation) };
}

/**
 * The last position in 0..length-1 whose value is at most `x`, -1 when
 * none; `valueAt` must not decrease with the position (a binary search).
 * @param {number} length @param {(i: number) => number} valueAt @param {number} x
 */
export function lastAtMost(length, valueAt, x) {
  let lo = 0;
  let hi = length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (valueAt(mid) <= x) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The position of the last keyframe at or before `frame`, -1 when none.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 */
export function keyframeIndexAt(sequence, frame) {
  return lastAtMost(sequence.length, (i) => sequence[i].frame, frame);
}

/**
 * The box of a track at `frame`, or null where the object is not shown.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 * @returns {FrameBox | null}
 */
export function boxAt(sequence, frame) {
  const shown = shapeAt(sequence, frame);
  return shown && { ...boxOf(/** @type {Keyframe} */ (shown.geometry)), keyframe: shown.keyframe, occluded: shown.occluded };
}

/**
 * The geometry of a track at `frame`, or null where the object is not shown.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 * @returns {FrameShape | null}
 */
export function shapeAt(sequence, frame) {
  const i = keyframeIndexAt(sequence, frame);
  if (i < 0) return null;
  const a = sequence[i];
  if (!a.enabled) return null;
  const occluded = Boolean(a.occluded);
  const b = sequence[i + 1];
  if (a.frame === frame || !b || !b.enabled) return { geometry: geometryOf(a), keyframe: a.frame === frame, occluded };
  const t = (frame - a.frame) / (b.frame - a.frame);
  return { geometry: mixGeometry(geometryOf(a), geometryOf(b), t), keyframe: false, occluded };
}

/**
 * A keyframe in Label Studio's key order, `occluded` only when set.
 * @param {number} frame @param {Geometry} geometry @param {number} time
 * @param {boolean} enabled @param {boolean} occluded
 * @param {Keyframe | null} [base] a keyframe whose other keys are kept
 * @returns {Keyframe}
 */
export function makeKeyframe(frame, geometry, time, enabled, occluded, base = null) {
  const placed = 'points' in geometry ? { points: geometry.points.map((p) => /** @type {[number, number]} */ ([p[0], p[1]])) }
    : 'joints' in geometry ? { joints: geometry.joints.map((j) => ({ ...j })) }
    : 'counts' in geometry ? { format: geometry.format, counts: geometry.counts }
    : { rotation: geometry.rotation, x: geometry.x, y: geometry.y, width: geometry.width, height: geometry.height };
  /** @type {Keyframe} */
  const k = { ...(base ?? {}), frame, enabled, ...placed, time };
  if (occluded) k.occluded = true;
  else delete k.occluded;
  return k;
}

/**
 * The sequence with `keyframe` on its frame (replacing one there).
 * @param {readonly Keyframe[]} sequence @param {Keyframe} keyframe
 * @returns {Keyframe[]}
 */
export function withKeyframe(sequence, keyframe) {
  const out = sequence.filter((k) => k.frame !== keyframe.frame);
  const at = keyframeIndexAt(out, keyframe.frame) + 1;
  out.splice(at, 0, keyframe);
  return out;
}

/** @param {readonly Keyframe[]} sequence @param {number} frame */
export function keyframeOn(sequence, frame) {
  const i = keyframeIndexAt(sequence, frame);
  return i >= 0 && sequence[i].frame === frame ? sequence[i] : null;
}

/**
 * The shape moved or edited on `frame`: a keyframe there (enabled, with the
 * frame's occluded flag).
 * @param {readonly Keyframe[]} sequence @param {number} frame @param {Geometry} geometry @param {number} time
 */
export function placeShape(sequence, frame, geometry, time) {
  const occluded = shapeAt(sequence, frame)?.occluded ?? false;
  return withKeyframe(sequence, makeKeyframe(frame, geometry, time, true, occluded, keyframeOn(sequence, frame)));
}

/**
 * The geometry a track would show at `frame` if it were inside: its shape
 * there, else that of the keyframe that hid it (or of the last one before
 * it that places something), else its first.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 * @returns {Geometry | null}
 */
export function lastShape(sequence, frame) {
  const shown = shapeAt(sequence, frame);
  if (shown) return shown.geometry;
  for (let i = keyframeIndexAt(sequence, frame); i >= 0; i--) if (placesSomething(sequence[i])) return geometryOf(sequence[i]);
  const first = sequence.find(placesSomething);
  return first ? geometryOf(first) : null;
}

/**
 * The box a track would show at `frame` if it were inside (see lastShape).
 * @param {readonly Keyframe[]} sequence @param {number} frame
 * @returns {Box | null}
 */
export function lastBox(sequence, frame) {
  const geometry = lastShape(sequence, frame);
  return geometry && boxOf(/** @type {Keyframe} */ (geometry));
}

/**
 * Outside on and off at `frame`: a shown object goes outside from here (a
 * disabled keyframe keeping its shape); a hidden one comes back with its last shape.
 * @param {readonly Keyframe[]} sequence @param {number} frame @param {number} time
 */
export function toggleOutside(sequence, frame, time) {
  const shown = shapeAt(sequence, frame);
  const geometry = lastShape(sequence, frame);
  if (!geometry) return sequence.slice();
  const base = keyframeOn(sequence, frame);
  return withKeyframe(sequence, makeKeyframe(frame, geometry, time, !shown, shown?.occluded ?? false, base));
}

/**
 * Occluded on and off from `frame` (a keyframe there); nothing where the object is outside.
 * @param {readonly Keyframe[]} sequence @param {number} frame @param {number} time
 */
export function toggleOccluded(sequence, frame, time) {
  const shown = shapeAt(sequence, frame);
  if (!shown) return sequence.slice();
  return withKeyframe(sequence, makeKeyframe(frame, shown.geometry, time, true, !shown.occluded, keyframeOn(sequence, frame)));
}

/**
 * The sequence without its keyframe on `frame`.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 */
export function deleteKeyframe(sequence, frame) {
  return sequence.filter((k) => k.frame !== frame);
}

/**
 * Two tracks from one at `frame`: the first ends before it, the second
 * starts on it, each showing the same boxes as before. Null when one of
 * them would have no keyframe.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 * @param {(frame: number) => number} timeOf
 * @returns {[Keyframe[], Keyframe[]] | null}
 */
export function splitTrack(sequence, frame, timeOf) {
  const before = sequence.filter((k) => k.frame < frame);
  const after = sequence.filter((k) => k.frame > frame);
  if (!before.length) return null;
  // The first part keeps its boxes up to frame - 1 (interpolation towards a
  // keyframe it no longer has would change them), then goes outside.
  const end = shapeAt(sequence, frame - 1);
  if (end && !end.keyframe) before.push(makeKeyframe(frame - 1, end.geometry, timeOf(frame - 1), true, end.occluded));
  if (end) before.push(makeKeyframe(frame, end.geometry, timeOf(frame), false, false));
  const start = shapeAt(sequence, frame);
  const own = keyframeOn(sequence, frame);
  if (start) after.unshift(makeKeyframe(frame, start.geometry, timeOf(frame), true, start.occluded, own));
  else if (own) after.unshift(own);
  return after.length ? [before, after] : null;
}

/**
 * One track from two (the same object, re-found): the one that starts first
 * up to where the other starts, then the other's keyframes.
 * @param {readonly Keyframe[]} a @param {readonly Keyframe[]} b
 * @returns {Keyframe[]}
 */
export function mergeTracks(a, b) {
  if (!a.length || !b.length) return [...a, ...b];
  const [first, later] = a[0].frame <= b[0].frame ? [a, b] : [b, a];
  return [...first.filter((k) => k.frame < later[0].frame), ...later];
}

/**
 * The stretches of frames where a track is shown, for the timeline: [from, to] inclusive.
 * @param {readonly Keyframe[]} sequence @param {number} framesCount
 * @returns {[number, number][]}
 */
export function shownSpans(sequence, framesCount) {
  /** @type {[number, number][]} */
  const spans = [];
  sequence.forEach((k, i) => {
    if (!k.enabled) return;
    const end = i + 1 < sequence.length ? sequence[i + 1].frame - 1 : framesCount;
    const last = spans[spans.length - 1];
    if (last && last[1] === k.frame - 1) last[1] = Math.max(last[1], end);
    else spans.push([k.frame, Math.max(k.frame, end)]);
  });
  return spans;
}

/**
 * A keyframe's geometry read for a track of `shape`: numbers made numbers
 * (points and joints that are not are dropped); none where a disabled
 * keyframe places nothing.
 * @param {Record<string, any>} k @param {TrackShape} shape
 */
function readGeometry(k, shape) {
  if (shape === 'rect') return { rotation: finite(k.rotation), x: finite(k.x), y: finite(k.y), width: finite(k.width), height: finite(k.height) };
  if (shape === 'mask') return typeof k.counts === 'string' ? { format: String(k.format ?? 'coco_rle'), counts: k.counts } : {};
  if (shape === 'skeleton') {
    if (!Array.isArray(k.joints)) return {};
    return {
      joints: k.joints
        .filter((/** @type {any} */ j) => j && typeof j.label === 'string' && Number.isFinite(Number(j.x)) && Number.isFinite(Number(j.y)))
        .map((/** @type {any} */ j) => ({ ...j, x: Number(j.x), y: Number(j.y) })),
    };
  }
  if (!Array.isArray(k.points)) return {};
  return {
    points: k.points
      .filter((/** @type {unknown} */ p) => Array.isArray(p) && Number.isFinite(Number(p[0])) && Number.isFinite(Number(p[1])))
      .map((/** @type {unknown[]} */ p) => /** @type {[number, number]} */ ([Number(p[0]), Number(p[1])])),
  };
}

/**
 * A track read from a `videorectangle` (or shape track) value: keyframes
 * sorted by frame, numbers made numbers, other keys kept.
 * @param {Record<string, any>} value @param {TrackShape} [shape]
 * @returns {Track}
 */
export function readTrack(value, shape = 'rect') {
  const raw = Array.isArray(value.sequence) ? value.sequence : [];
  /** @type {Keyframe[]} */
  const sequence = raw
    .filter((/** @type {unknown} */ k) => k && typeof k === 'object')
    .map((/** @type {Record<string, any>} */ k) => ({
      ...k,
      frame: Math.max(1, Math.round(finite(k.frame))),
      enabled: k.enabled !== false,
      ...readGeometry(k, shape),
      time: finite(k.time),
    }));
  sequence.sort((p, q) => p.frame - q.frame);
  return { shape, sequence, framesCount: finite(value.framesCount), duration: finite(value.duration) };
}

/**
 * A track's `videorectangle` value: `base`'s other keys, then the track's.
 * @param {Track} track @param {string[]} labels @param {Record<string, any>} [base]
 */
export function trackValue(track, labels, base = {}) {
  return { ...base, framesCount: track.framesCount, duration: track.duration, sequence: track.sequence.map((k) => ({ ...k })), labels: [...labels] };
}

/**
 * A `timelinelabels` item's ranges, each [start, end] inclusive with start ≤ end.
 * @param {Record<string, any>} value
 * @returns {[number, number][]}
 */
export function readRanges(value) {
  const ranges = Array.isArray(value.ranges) ? value.ranges : [];
  return ranges
    .filter((/** @type {unknown} */ r) => r && typeof r === 'object')
    .map((/** @type {Record<string, any>} */ r) => {
      const start = Math.round(finite(r.start));
      const end = Math.round(finite(r.end ?? r.start));
      return /** @type {[number, number]} */ ([Math.min(start, end), Math.max(start, end)]);
    });
}
