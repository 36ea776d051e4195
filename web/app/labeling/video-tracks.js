// Video tracks as data: an object followed through a video is a list of
// keyframes (Label Studio's `videorectangle` sequence), and a labelled
// stretch of frames is a range (`timelinelabels`). Pure functions over
// immutable arrays, no DOM; frames are 1-based, as results carry them.
//
// What a sequence means (docs/label-config.md says the same):
// - before the first keyframe the object is not shown;
// - between two enabled keyframes the box is interpolated linearly
//   (x, y, width, height, rotation);
// - from a keyframe with `enabled: false` until the next keyframe the object
//   is outside (not shown);
// - after an enabled keyframe followed by a disabled one, or by none, the
//   box stays as it is (to the end of the video).
// A frame's `occluded` flag is its keyframe's, or the previous keyframe's.

/** @typedef {import('./types.js').Keyframe} Keyframe */
/** @typedef {import('./types.js').Track} Track */
/** @typedef {{x: number, y: number, width: number, height: number, rotation: number}} Box */
/** A track's box at one frame: `keyframe` when a keyframe is on that frame, else interpolated or held. @typedef {Box & {keyframe: boolean, occluded: boolean}} FrameBox */

/** @param {unknown} v */
const finite = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.isFinite(Number(v)) ? Number(v) : 0);

/** @param {Keyframe} k @returns {Box} */
const boxOf = (k) => ({ x: k.x, y: k.y, width: k.width, height: k.height, rotation: k.rotation });

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
  const i = keyframeIndexAt(sequence, frame);
  if (i < 0) return null;
  const a = sequence[i];
  if (!a.enabled) return null;
  const occluded = Boolean(a.occluded);
  const b = sequence[i + 1];
  if (a.frame === frame || !b || !b.enabled) return { ...boxOf(a), keyframe: a.frame === frame, occluded };
  const t = (frame - a.frame) / (b.frame - a.frame);
  const mix = (/** @type {number} */ p, /** @type {number} */ q) => p + (q - p) * t;
  return {
    x: mix(a.x, b.x), y: mix(a.y, b.y), width: mix(a.width, b.width), height: mix(a.height, b.height),
    rotation: mix(a.rotation, b.rotation), keyframe: false, occluded,
  };
}

/**
 * A keyframe in Label Studio's key order, `occluded` only when set.
 * @param {number} frame @param {Box} box @param {number} time
 * @param {boolean} enabled @param {boolean} occluded
 * @param {Keyframe | null} [base] a keyframe whose other keys are kept
 * @returns {Keyframe}
 */
export function makeKeyframe(frame, box, time, enabled, occluded, base = null) {
  /** @type {Keyframe} */
  const k = {
    ...(base ?? {}), frame, enabled, rotation: box.rotation, x: box.x, y: box.y, width: box.width, height: box.height, time,
  };
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
 * The box moved or resized on `frame`: a keyframe there (enabled, with the
 * frame's occluded flag).
 * @param {readonly Keyframe[]} sequence @param {number} frame @param {Box} box @param {number} time
 */
export function placeBox(sequence, frame, box, time) {
  const occluded = boxAt(sequence, frame)?.occluded ?? false;
  return withKeyframe(sequence, makeKeyframe(frame, box, time, true, occluded, keyframeOn(sequence, frame)));
}

/**
 * The box a track would show at `frame` if it were inside: its box there, else
 * the box of the keyframe that hid it, else its first box.
 * @param {readonly Keyframe[]} sequence @param {number} frame
 * @returns {Box | null}
 */
export function lastBox(sequence, frame) {
  const shown = boxAt(sequence, frame);
  if (shown) return shown;
  const i = keyframeIndexAt(sequence, frame);
  const k = sequence[Math.max(0, i)];
  return k ? boxOf(k) : null;
}

/**
 * Outside on and off at `frame`: a shown object goes outside from here (a
 * disabled keyframe keeping its box); a hidden one comes back with its last box.
 * @param {readonly Keyframe[]} sequence @param {number} frame @param {number} time
 */
export function toggleOutside(sequence, frame, time) {
  const shown = boxAt(sequence, frame);
  const box = lastBox(sequence, frame);
  if (!box) return sequence.slice();
  const base = keyframeOn(sequence, frame);
  return withKeyframe(sequence, makeKeyframe(frame, box, time, !shown, shown?.occluded ?? false, base));
}

/**
 * Occluded on and off from `frame` (a keyframe there); nothing where the object is outside.
 * @param {readonly Keyframe[]} sequence @param {number} frame @param {number} time
 */
export function toggleOccluded(sequence, frame, time) {
  const shown = boxAt(sequence, frame);
  if (!shown) return sequence.slice();
  return withKeyframe(sequence, makeKeyframe(frame, shown, time, true, !shown.occluded, keyframeOn(sequence, frame)));
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
  const end = boxAt(sequence, frame - 1);
  if (end && !end.keyframe) before.push(makeKeyframe(frame - 1, end, timeOf(frame - 1), true, end.occluded));
  if (end) before.push(makeKeyframe(frame, end, timeOf(frame), false, false));
  const start = boxAt(sequence, frame);
  const own = keyframeOn(sequence, frame);
  if (start) after.unshift(makeKeyframe(frame, start, timeOf(frame), true, start.occluded, own));
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
 * A track read from a `videorectangle` value: keyframes sorted by frame,
 * numbers made numbers, other keys kept.
 * @param {Record<string, any>} value
 * @returns {Track}
 */
export function readTrack(value) {
  const raw = Array.isArray(value.sequence) ? value.sequence : [];
  /** @type {Keyframe[]} */
  const sequence = raw
    .filter((/** @type {unknown} */ k) => k && typeof k === 'object')
    .map((/** @type {Record<string, any>} */ k) => ({
      ...k,
      frame: Math.max(1, Math.round(finite(k.frame))),
      enabled: k.enabled !== false,
      rotation: finite(k.rotation), x: finite(k.x), y: finite(k.y), width: finite(k.width), height: finite(k.height),
      time: finite(k.time),
    }));
  sequence.sort((p, q) => p.frame - q.frame);
  return { sequence, framesCount: finite(value.framesCount), duration: finite(value.duration) };
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
