// Frame-accurate video for labeling: a `<video>` element driven by a frame
// index (each frame's presentation time), and a read-ahead cache so that
// stepping frame by frame does not wait for a seek each time.
//
// Seeking to frame i sets `currentTime` to the middle of its display
// interval (between its time and the next frame's), so the browser shows
// exactly frame i whatever the frame rate does; where the browser has
// `requestVideoFrameCallback`, the frame presented is checked against the
// index and the seek corrected once if it differs.
//
// A browser seek decodes from the key frame before the target, so one step
// costs up to a whole group of pictures. A second, hidden video element
// therefore plays ahead of (or up to) the frame shown and keeps each frame
// it presents as a `VideoFrame` (no copy); a step to a kept frame draws it
// at once. Frames are kept within a window around the frame shown, sized
// to a memory budget.
//
// Where the server has the video's sample table (`/api/v1/media/<key>/samples`:
// H.264 in MP4) and the browser decodes it with WebCodecs, a SampleReader
// takes the hidden element's place: it fetches the samples of the groups of
// pictures it needs by byte range and decodes them itself, each output
// stamped with its frame number, so frames arrive exactly and, stepping
// backwards, the group behind the frame shown is decoded first. It also
// serves seeks there: the frame's group is decoded from its key frame as
// fast as the decoder takes samples, without the element's own seek (about
// 36 ms whatever the frame), and the frames behind it are kept on the way;
// samples before those that no other picture refers to (most B-frames) are
// not decoded at all.

import { lastAtMost } from './video-tracks.js';

/**
 * @typedef {{frames: number, timestamps: number[], duration: number, exact: boolean}} FrameIndex
 * `exact`: the times come from the container (the server's frame index);
 * otherwise they are derived from a frame rate.
 */

/** Used when neither the server's index nor the config's `frameRate` says. */
export const DEFAULT_FRAME_RATE = 25;
/** Bytes of decoded frames kept ahead of and behind the frame shown, about. */
const CACHE_BUDGET = 256 * 1024 * 1024;
/** Frames kept at most, and at least, whatever the budget says. */
const CACHE_FRAMES = { min: 8, max: 240 };
/**
 * The read-ahead plays so that its shortest frames last this long on screen
 * (shorter ones the compositor may skip at 60 Hz; faster than stepping at 30 a second).
 */
const READ_AHEAD_FRAME_S = 1 / 40;
/** A frame no seek lands on is caught by playing past it this much slower. */
const RESCUE_SLOWER = 2;
/**
 * A step waits for the read-ahead when it will present the frame within
 * this long (a seek costs up to a group of pictures' decoding; stepping
 * backwards, the first frame behind comes last in a run, the rest at once).
 */
const READ_AHEAD_WAIT_MS = 800;
/** A move back by at most this many frames (Shift+← steps 10) is a step back, a longer one a jump. */
const STEP_BACK_MAX = 10;
/** After this long without a seek, the visible element catches up with a kept frame shown. */
const SETTLE_MS = 250;
/** A seek with WebCodecs waits this long more than its decoding should take, then the element seeks. */
const SAMPLE_SEEK_SLACK_MS = 2000;
/** Seeks tried at most to land on one frame (see exactSeek). */
const SEEK_ATTEMPTS = 6;
/** How long a seek waits for `seeked` at most. */
const SEEKED_TIMEOUT_MS = 3000;
/** How long a seek waits for the browser to report the frame presented. */
const FRAME_CALLBACK_TIMEOUT_MS = 300;

/**
 * The frame index route of a video stored in Gloss (`/api/v1/media/<key>`), else null.
 * @param {string} url
 */
export function framesUrl(url) {
  const parsed = new URL(url, location.href);
  if (parsed.origin !== location.origin || parsed.search || !/^\/api\/v1\/media\/[^/]+$/.test(parsed.pathname)) return null;
  return `${parsed.pathname}/frames`;
}

/**
 * An H.264 video's samples in decoding order, as the samples route gives
 * them: `frames[p]` is the frame (0-based, presentation order) sample `p`
 * shows; `keys` the positions of the key frames, ascending, from 0.
 * @typedef {{codec: string, description: Uint8Array, width: number, height: number, offsets: number[], sizes: number[], keys: number[], frames: number[]}} SampleTable
 */

/**
 * The sample table route of a video stored in Gloss, else null.
 * @param {string} url
 */
export function samplesUrl(url) {
  const route = framesUrl(url);
  return route && route.replace(/\/frames$/, '/samples');
}

/** @param {SampleTable} table @returns {VideoDecoderConfig} */
function decoderConfig(table) {
  return { codec: table.codec, description: table.description, codedWidth: table.width, codedHeight: table.height };
}

/**
 * The bytes of the length before each NAL unit of a sample, from the
 * `avcC` box (its fifth byte's two low bits, plus one); null when the
 * description is not one.
 * @param {Uint8Array} description
 */
export function nalLengthSize(description) {
  return description.length >= 5 && description[0] === 1 ? (description[4] & 3) + 1 : null;
}

/**
 * Whether no other picture refers to this sample, so that a decoder may
 * pass it by when its own frame is not wanted: it has slices, and every
 * slice's `nal_ref_idc` is 0 (as x264 makes most of its B-frames).
 * The sample's NAL units each follow a big-endian length of `lengthSize`
 * bytes; a sample that does not parse so is not passed by.
 * @param {Uint8Array} sample @param {number} lengthSize
 */
export function isDisposable(sample, lengthSize) {
  let at = 0;
  let slices = 0;
  while (at < sample.length) {
    if (at + lengthSize >= sample.length) return false;
    let length = 0;
    for (let k = 0; k < lengthSize; k++) length = length * 256 + sample[at + k];
    at += lengthSize;
    if (length < 1 || at + length > sample.length) return false;
    const header = sample[at];
    const type = header & 0x1f;
    // Types 1 to 5 are slices; 5 (an IDR picture's) is always a reference.
    if (type >= 1 && type <= 5) {
      if (type === 5 || (header & 0x60) !== 0) return false;
      slices++;
    }
    at += length;
  }
  return slices > 0;
}

/**
 * The server's sample table of a stored H.264 video, when this browser can
 * decode it with WebCodecs (`VideoDecoder.isConfigSupported`); else null (another
 * URL, WebM or another codec: 415, no WebCodecs, an answer that does not add up).
 * @param {string} url
 * @returns {Promise<SampleTable | null>}
 */
export async function fetchSampleTable(url) {
  const route = samplesUrl(url);
  if (!route || typeof VideoDecoder !== 'function' || typeof EncodedVideoChunk !== 'function') return null;
  try {
    const response = await fetch(route, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    const body = await response.json();
    const list = (/** @type {unknown} */ v) => (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0) ? /** @type {number[]} */ (v) : null);
    const [offsets, sizes, keys, shown] = [list(body?.offsets), list(body?.sizes), list(body?.keys), list(body?.frames)];
    if (!offsets || !sizes || !keys || !shown || typeof body.codec !== 'string' || typeof body.description !== 'string') return null;
    const n = offsets.length;
    if (!n || sizes.length !== n || shown.length !== n || keys[0] !== 0 || keys.some((k, i) => k >= n || (i > 0 && k <= keys[i - 1]))) return null;
    const seen = new Uint8Array(n);
    for (const f of shown) {
      if (f >= n || seen[f]) return null;
      seen[f] = 1;
    }
    const description = Uint8Array.from(atob(body.description), (c) => c.charCodeAt(0));
    const table = { codec: body.codec, description, width: Number(body.width), height: Number(body.height), offsets, sizes, keys, frames: shown };
    const support = await VideoDecoder.isConfigSupported(decoderConfig(table));
    return support.supported ? table : null;
  } catch {
    return null;
  }
}

/**
 * A frame index from a constant frame rate.
 * @param {number} duration seconds @param {number} frameRate
 * @returns {FrameIndex}
 */
export function indexFromRate(duration, frameRate) {
  const rate = frameRate > 0 ? frameRate : DEFAULT_FRAME_RATE;
  const frames = Math.max(1, Math.round((Number.isFinite(duration) ? duration : 0) * rate));
  return { frames, timestamps: Array.from({ length: frames }, (_, i) => i / rate), duration: frames / rate, exact: false };
}

/**
 * The server's frame index of a stored video, or null when there is none
 * (another URL, a 404 or 415, or an answer that does not add up).
 * @param {string} url
 * @returns {Promise<FrameIndex | null>}
 */
export async function fetchFrameIndex(url) {
  const route = framesUrl(url);
  if (!route) return null;
  try {
    const response = await fetch(route, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    const body = await response.json();
    const timestamps = Array.isArray(body?.timestamps) ? body.timestamps.map(Number) : [];
    const ascending = timestamps.every((/** @type {number} */ t, /** @type {number} */ i) => Number.isFinite(t) && (i === 0 || t > timestamps[i - 1]));
    if (!timestamps.length || !ascending) return null;
    const duration = Number(body.duration);
    return { frames: timestamps.length, timestamps, duration: Number.isFinite(duration) ? duration : timestamps[timestamps.length - 1], exact: true };
  } catch {
    return null;
  }
}

/**
 * The frame shown at time `t`: the last whose time is not after it.
 * @param {readonly number[]} timestamps @param {number} t
 */
export function frameAtTime(timestamps, t) {
  // A microsecond of slack: browsers keep media times in microseconds.
  return Math.max(0, lastAtMost(timestamps.length, (i) => timestamps[i], t + 1e-6));
}

/**
 * The frame whose time is nearest to `t` (a presented frame's media time).
 * @param {readonly number[]} timestamps @param {number} t
 */
export function nearestFrame(timestamps, t) {
  const i = frameAtTime(timestamps, t);
  return i + 1 < timestamps.length && timestamps[i + 1] - t < t - timestamps[i] ? i + 1 : i;
}

/**
 * The time to seek to for frame i: the middle of its display interval.
 * @param {FrameIndex} index @param {number} i @param {number} duration the element's, when known
 */
export function seekTime(index, i, duration) {
  const t = index.timestamps;
  if (i + 1 < t.length) return (t[i] + t[i + 1]) / 2;
  const previous = t.length > 1 ? t[i] - t[i - 1] : 1 / DEFAULT_FRAME_RATE;
  const end = Number.isFinite(duration) && duration > t[i] ? duration : t[i] + previous;
  return (t[i] + end) / 2;
}

/** @param {HTMLVideoElement} video */
const hasFrameCallback = (video) => typeof video.requestVideoFrameCallback === 'function';

/**
 * The display time of the shortest frames (the 2nd percentile, so that a
 * stray timestamp does not decide), seconds.
 * @param {FrameIndex} index
 */
function shortestFrame(index) {
  const t = index.timestamps;
  const intervals = t.slice(1).map((time, i) => time - t[i]).filter((d) => d > 0).sort((a, b) => a - b);
  return intervals.length ? intervals[Math.floor(intervals.length * 0.02)] : index.duration || READ_AHEAD_FRAME_S;
}

/**
 * Resolves at the next event of that name on `target`, or after `ms` (a
 * seek the browser dropped must not hang the player).
 * @param {EventTarget} target @param {string} name @param {number} [ms]
 */
function once(target, name, ms = Infinity) {
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : 0;
    target.addEventListener(name, () => {
      clearTimeout(timer);
      resolve(undefined);
    }, { once: true });
  });
}

/**
 * The media time of the next frame the element presents, or null when the
 * browser cannot tell (no `requestVideoFrameCallback`) or none comes soon.
 * @param {HTMLVideoElement} video
 * @returns {Promise<number | null>}
 */
function nextPresentedTime(video) {
  if (!hasFrameCallback(video)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), FRAME_CALLBACK_TIMEOUT_MS);
    video.requestVideoFrameCallback((_, metadata) => {
      clearTimeout(timer);
      resolve(metadata.mediaTime);
    });
  });
}

/**
 * A video element on `url`, muted, its first frame decoded.
 * @param {string} url
 * @returns {Promise<HTMLVideoElement>}
 */
export function openVideo(url) {
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.playsInline = true;
  return new Promise((resolve, reject) => {
    video.addEventListener('loadeddata', () => resolve(video), { once: true });
    video.addEventListener('error', () => reject(new Error(video.error?.message || 'the video could not be decoded')), { once: true });
    video.src = url;
  });
}

/**
 * Whether this browser's `VideoFrame` timestamps are media times: null
 * until a seek has compared one with the presented frame's media time.
 * (Firefox 153's count whole seconds as microseconds.)
 * @type {boolean | null}
 */
let frameTimestampsTrusted = null;

/**
 * The media time of the frame the element shows now, from a `VideoFrame`
 * of it, or null where the browser has no WebCodecs or cannot make one yet.
 * @param {HTMLVideoElement} video
 */
function frameTimestamp(video) {
  if (typeof VideoFrame !== 'function' || frameTimestampsTrusted === false) return null;
  try {
    const frame = new VideoFrame(video);
    const time = frame.timestamp / 1e6;
    frame.close();
    return time;
  } catch {
    return null;
  }
}

/**
 * The media time of the frame shown after a seek: its `VideoFrame`'s
 * timestamp where those are trusted, else the presented frame's (learning
 * on the way whether timestamps can be trusted).
 * @param {HTMLVideoElement} video @param {Promise<number | null>} presented
 */
async function shownTime(video, presented) {
  const stamped = frameTimestamp(video);
  if (stamped !== null && frameTimestampsTrusted) return stamped;
  const mediaTime = await presented;
  if (stamped !== null && mediaTime !== null && mediaTime > 1e-3) frameTimestampsTrusted = Math.abs(stamped - mediaTime) < 1e-3;
  return mediaTime ?? (frameTimestampsTrusted ? stamped : null);
}

/**
 * Moves `video` to show frame i exactly, checking the frame shown.
 *
 * The middle of the frame's interval is right wherever the browser shows
 * the last frame that started. Chromium gives each frame of an MP4 the
 * duration of its sample in decoding order, so with B-frames an earlier
 * frame may still be shown a little past the next one's start, or a later
 * one from a little before: the seek then narrows the interval on the side
 * the wrong frame came from, a few times. A frame far off means the index's
 * times and the browser's differ by an offset: the seek moves by it.
 * @param {HTMLVideoElement} video @param {FrameIndex} index @param {number} i
 * @returns {Promise<number>} the frame now shown (i, unless the browser never shows it)
 */
async function exactSeek(video, index, i) {
  const t = index.timestamps;
  let lo = t[i];
  let hi = i + 1 < t.length ? t[i + 1] : 2 * seekTime(index, i, video.duration) - t[i];
  let shown = i;
  for (let attempt = 0; attempt < SEEK_ATTEMPTS; attempt++) {
    const target = (lo + hi) / 2;
    const presented = nextPresentedTime(video);
    const seeked = once(video, 'seeked', SEEKED_TIMEOUT_MS);
    video.currentTime = target;
    await seeked;
    const time = await shownTime(video, presented);
    const found = time === null ? null : nearestFrame(t, time);
    if (found === null || found === i) return i;
    shown = found;
    if (Math.abs(found - i) > 1) {
      const offset = t[i] - t[found];
      lo += offset;
      hi += offset;
    } else if (found < i) {
      lo = target;
    } else {
      hi = target;
    }
  }
  return shown;
}

/** Decoded frames by index, kept in a window around the frame shown. */
class FrameCache {
  /** @param {number} limit frames */
  constructor(limit) {
    this.limit = limit;
    /** @type {Map<number, VideoFrame>} */
    this.frames = new Map();
    this.center = 0;
    /** The frame on screen, never closed while it is. @type {VideoFrame | null} */
    this.pinned = null;
    /** The window's shares ahead of and behind the centre (see evict). */
    this.ahead = 1;
    this.behind = 1;
    /** Waiters for a frame being read ahead. @type {Map<number, ((kept: boolean) => void)[]>} */
    this.waiters = new Map();
  }

  /** @param {number} i */
  get(i) {
    return this.frames.get(i) ?? null;
  }

  /** @param {number} i @param {VideoFrame} frame */
  put(i, frame) {
    this.frames.get(i)?.close();
    this.frames.set(i, frame);
    for (const wake of this.waiters.get(i) ?? []) wake(true);
    this.waiters.delete(i);
    this.evict();
  }

  /**
   * Drop the frames farthest from the centre while over the limit (never
   * the centre's own); distances ahead count `1 / ahead`, behind `1 / behind`
   * (the window's shares: the same unless a reader sets them).
   */
  evict() {
    if (this.frames.size <= this.limit) return;
    const distance = (/** @type {number} */ i) => (i >= this.center ? (i - this.center) / this.ahead : (this.center - i) / this.behind);
    const far = [...this.frames.keys()].sort((a, b) => distance(b) - distance(a));
    for (const i of far.slice(0, this.frames.size - this.limit)) {
      if (i === this.center || this.frames.get(i) === this.pinned) continue;
      this.frames.get(i)?.close();
      this.frames.delete(i);
    }
  }

  /**
   * Resolves true when frame i arrives within `ms`, else false.
   * @param {number} i @param {number} ms
   * @returns {Promise<boolean>}
   */
  wait(i, ms) {
    if (this.frames.has(i)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      const list = this.waiters.get(i) ?? [];
      list.push((kept) => {
        clearTimeout(timer);
        resolve(kept);
      });
      this.waiters.set(i, list);
    });
  }

  /** Every waiter hears now that its frame will not come (the reader failed). */
  abandon() {
    for (const list of this.waiters.values()) for (const wake of list) wake(false);
    this.waiters.clear();
  }

  clear() {
    for (const frame of this.frames.values()) frame.close();
    this.frames.clear();
  }
}

/**
 * The hidden element that plays over the frames to keep, and keeps each
 * frame it presents. One run at a time; a new run replaces the old.
 */
class ReadAhead {
  /** @param {string} url @param {FrameIndex} index @param {FrameCache} cache */
  constructor(url, index, cache) {
    this.index = index;
    this.cache = cache;
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.preload = 'auto';
    this.video.src = url;
    /** The run in progress: frames from..to, the last one presented, its playback rate. @type {{from: number, to: number, at: number, rate: number} | null} */
    this.run = null;
    this.generation = 0;
    this.disabled = false;
    this.rate = Math.min(2, Math.max(0.25, shortestFrame(index) / READ_AHEAD_FRAME_S));
  }

  /** Whether frame i lies within the run in progress (or just before it). @param {number} i */
  covers(i) {
    return Boolean(this.run && i >= this.run.from - 1 && i <= this.run.to);
  }

  /**
   * When the run in progress will have kept frame i, in milliseconds from
   * now (about), or null when it will not.
   * @param {number} i
   */
  arrival(i) {
    const run = this.run;
    if (!run || i < run.from || i > run.to || i <= run.at) return null;
    const t = this.index.timestamps;
    // Before its first frame the run still seeks: count a frame's worth more.
    const from = Math.max(run.at, run.from - 1);
    return ((t[i] - t[Math.max(0, from)]) / run.rate) * 1000 + (run.at < run.from ? 100 : 0);
  }

  /**
   * Keep frames from..to: the run in progress goes on (to the later end)
   * when it is about to reach `from`, else a new run starts there.
   * @param {number} from @param {number} to @param {number} [rate] playback rate (slower to catch short frames)
   */
  start(from, to, rate = this.rate) {
    if (this.disabled) return;
    const run = this.run;
    if (run && from >= run.from && from <= Math.max(run.at, run.from) + 1 && rate === run.rate) {
      run.to = Math.max(run.to, to);
      return;
    }
    const generation = ++this.generation;
    this.run = { from, to, at: from - 1, rate };
    void this.play(generation, this.run);
  }

  /**
   * Catch frame i by playing over it slowly (for a frame no seek shows:
   * Chromium may give an MP4 frame's whole interval to the one before);
   * resolves true once it is kept.
   * @param {number} i
   */
  rescue(i) {
    if (this.disabled || this.cache.get(i)) return Promise.resolve(Boolean(this.cache.get(i)));
    const from = Math.max(0, i - 1);
    this.start(from, Math.min(this.index.frames - 1, i + 2), this.rate / RESCUE_SLOWER);
    const seconds = (this.index.timestamps[Math.min(this.index.frames - 1, i + 1)] - this.index.timestamps[from]) * RESCUE_SLOWER / this.rate;
    return this.cache.wait(i, 500 + seconds * 1000);
  }

  /** @param {number} generation @param {{from: number, to: number, at: number, rate: number}} run */
  async play(generation, run) {
    const video = this.video;
    video.pause();
    if (video.readyState < HTMLMediaElement.HAVE_METADATA) await once(video, 'loadedmetadata');
    const first = await exactSeek(video, this.index, run.from);
    if (generation !== this.generation) return;
    // Without trusted frame timestamps (Firefox) a frame kept in a callback
    // may be the one before: keep none, every step seeks.
    if (frameTimestampsTrusted === false) this.disabled = true;
    if (!frameTimestampsTrusted) return this.stop();
    this.keep(run, this.index.timestamps[first]);
    const onFrame = (/** @type {number} */ _, /** @type {VideoFrameCallbackMetadata} */ metadata) => {
      if (generation !== this.generation) return;
      if (this.keep(run, metadata.mediaTime) >= run.to || video.ended) this.stop();
      else video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    video.playbackRate = run.rate;
    video.play().catch(() => this.stop());
  }

  /**
   * Keep the frame the element shows, under the index its own timestamp
   * gives where those are trusted (a callback's media time may describe a
   * frame already replaced), else the callback's.
   * @param {{from: number, to: number, at: number}} run @param {number} mediaTime
   * @returns {number} the frame's index
   */
  keep(run, mediaTime) {
    let frame;
    try {
      frame = new VideoFrame(this.video);
    } catch {
      return run.at;
    }
    const time = frameTimestampsTrusted ? frame.timestamp / 1e6 : mediaTime;
    const i = nearestFrame(this.index.timestamps, time);
    run.at = Math.max(run.at, i);
    if (i < run.from || i > run.to || this.cache.get(i)) frame.close();
    else this.cache.put(i, frame);
    return i;
  }

  stop() {
    this.generation++;
    this.run = null;
    this.video.pause();
  }

  destroy() {
    this.stop();
    this.video.removeAttribute('src');
    this.video.load();
  }
}

/**
 * The bytes of a byte range as they arrive: `received` of them are in
 * (from the start), and `until(n)` waits for the first n.
 */
class ArrivingBytes {
  /**
   * @param {number} base the file offset of the first byte
   * @param {Uint8Array} bytes sized for the whole range
   * @param {ReadableStreamDefaultReader<Uint8Array> | null} body where the rest comes from; null: all are in
   */
  constructor(base, bytes, body) {
    this.base = base;
    this.bytes = bytes;
    this.received = body ? 0 : bytes.length;
    /** @type {unknown} */
    this.failure = null;
    /** @type {(() => void)[]} */
    this.waiting = [];
    if (body) void this.read(body);
  }

  /** @param {ReadableStreamDefaultReader<Uint8Array>} body */
  async read(body) {
    try {
      for (;;) {
        const { done, value } = await body.read();
        if (done) break;
        const room = Math.min(value.length, this.bytes.length - this.received);
        this.bytes.set(value.subarray(0, room), this.received);
        this.received += room;
        this.wake();
      }
      if (this.received < this.bytes.length) throw new Error("the samples' bytes came short");
    } catch (error) {
      this.failure = error;
    } finally {
      this.wake();
    }
  }

  wake() {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** @param {number} n */
  async until(n) {
    while (this.received < n) {
      if (this.failure) throw this.failure;
      await new Promise((resolve) => this.waiting.push(() => resolve(undefined)));
    }
  }
}

/** Samples fed past the last one a forward run needs, so that its last frames leave the decoder's reordering. */
const FEED_MARGIN = 8;
/** Samples waiting in the decoder's queue at most (the rest wait for a `dequeue`). */
const DECODE_QUEUE = 8;
/** How long a seek's frame may take to leave the decoder after its last sample was taken, before a flush lets it out. */
const SEEK_OUTPUT_WAIT_MS = 50;
/** Groups of pictures' bytes kept after fetching (a step back and forth fetches none again). */
const BYTES_KEPT = 4;

/**
 * A stretch of samples to decode in one feed: positions start..end, start
 * a key frame (or where the decoder's feed stands, continuing it).
 * @typedef {{start: number, end: number, fed: number}} Segment
 */
/**
 * `seek`: the frame a seek waits for; until it is out, samples are fed
 * without the limit of DECODE_QUEUE.
 * @typedef {{from: number, to: number, at: number, rate: number, backward: boolean, segments: Segment[], seek?: number}} SampleRun
 */

/**
 * Reads frames ahead (or behind) with WebCodecs: the samples of each group
 * of pictures needed are fetched in one byte range of the media URL and
 * decoded from its key frame; each output carries its frame number as its
 * timestamp, and only those within the run's frames are kept (the others
 * are closed at once). Going forwards the feed continues from run to run;
 * going backwards the group holding the frame just behind comes first, then
 * the groups before it. A new run that needs other samples resets the
 * decoder. Same members as ReadAhead, for FramePlayer.
 */
class SampleReader {
  /**
   * @param {string} url @param {FrameIndex} index @param {SampleTable} table @param {FrameCache} cache
   * @param {() => number} direction the player's: -1 stepping backwards
   */
  constructor(url, index, table, cache, direction) {
    this.url = url;
    this.index = index;
    this.table = table;
    this.cache = cache;
    this.direction = direction;
    const n = table.frames.length;
    /** The sample showing each frame. */
    this.sampleOf = new Int32Array(n);
    table.frames.forEach((f, p) => { this.sampleOf[f] = p; });
    /** The group of pictures (its key's position in `keys`) of each sample. */
    this.groupOf = new Int32Array(n);
    for (let g = 0; g < table.keys.length; g++) this.groupOf.fill(g, table.keys[g], table.keys[g + 1] ?? n);
    this.isKey = new Uint8Array(n);
    for (const k of table.keys) this.isKey[k] = 1;
    /** For samples no other refers to (see isDisposable): null, never pass one by. */
    this.lengthSize = nalLengthSize(table.description);
    /** Samples passed by unfed, since the reader began (for tests and measurements). */
    this.passedBy = 0;
    /** @type {SampleRun | null} */
    this.run = null;
    this.generation = 0;
    this.disabled = false;
    /**
     * Samples gone through a second, fed or passed by (as `arrival` counts
     * them), measured (a first guess until then).
     */
    this.rate = 150;
    /** The next sample the decoder can take without a key frame first; -1: it needs one. */
    this.cursor = -1;
    /** Where the decoder's feed last started from a key frame, and the frames it has put out since. */
    this.feedStart = 0;
    this.emitted = new Set();
    /** The flush in progress, if any (a reset ends it). @type {Promise<void> | null} */
    this.flushing = null;
    /** Frames put out just past a forward run's last, held until the run is extended to them. @type {Map<number, VideoFrame>} */
    this.held = new Map();
    /** Bytes of groups of pictures by their first group's number, latest last. @type {Map<string, Promise<ArrivingBytes>>} */
    this.bytes = new Map();
    /** Called once when decoding fails: the player falls back to the element. */
    this.onFail = () => {};
    /** Ends the wait of the seek in progress (see seek) when another run takes over. */
    this.cancelSeek = () => {};
    this.decoder = this.makeDecoder();
  }

  /** A new run (or none) takes over: the decode loop of the last one ends, and a seek waiting for it hears so. */
  nextGeneration() {
    this.cancelSeek();
    this.cancelSeek = () => {};
    return ++this.generation;
  }

  /**
   * A seek: decode frame i now, from its group's key frame, feeding the
   * decoder every sample at once, and keep the frames from `from` to i that
   * come out on the way (a step back after the seek finds them). The feed
   * stays open a few samples past i, so that reading ahead goes on from
   * there instead of decoding the group again (a run backwards starts anew).
   * Resolves true once frame i is kept, false when another run took over
   * first, decoding failed, or it took far longer than it should.
   * @param {number} i @param {number} from
   * @returns {Promise<boolean>}
   */
  seek(i, from) {
    if (this.disabled) return Promise.resolve(false);
    if (this.cache.get(i)) return Promise.resolve(true);
    this.stop();
    const generation = this.nextGeneration();
    const segments = this.plan([i], false);
    const run = { from: Math.min(Math.max(0, from), i), to: i, at: from - 1, rate: 1, backward: false, segments, seek: i };
    this.run = run;
    /** @type {Promise<boolean>} */
    const cancelled = new Promise((resolve) => {
      this.cancelSeek = () => resolve(false);
    });
    void this.decode(generation, run);
    const samples = segments.reduce((sum, s) => sum + s.end - s.start + 1, 0);
    return Promise.race([this.cache.wait(i, (samples / this.rate) * 1000 + SAMPLE_SEEK_SLACK_MS), cancelled]);
  }

  makeDecoder() {
    const decoder = new VideoDecoder({
      output: (frame) => this.output(frame),
      error: (error) => this.fail(error),
    });
    decoder.configure(decoderConfig(this.table));
    return decoder;
  }

  /** Whether frame i lies within the run in progress (or just before it). @param {number} i */
  covers(i) {
    return Boolean(this.run && i >= this.run.from - 1 && i <= this.run.to);
  }

  /**
   * When the run in progress will have kept frame i, in milliseconds from
   * now (about), or null when it will not.
   * @param {number} i
   */
  arrival(i) {
    const run = this.run;
    if (this.disabled || !run || i < run.from || i > run.to) return null;
    if (this.held.has(i)) {
      this.release();
      return 0;
    }
    const p = this.sampleOf[i];
    let before = 0;
    for (const segment of run.segments) {
      const done = Math.max(segment.start, segment.fed);
      if (p >= segment.start && p <= segment.end) {
        // Reordering holds a few frames back: count some more.
        const left = Math.max(0, p - done) + 4;
        return Math.round(((before + left) / this.rate) * 1000);
      }
      before += Math.max(0, segment.end + 1 - done);
    }
    // Fed already but still in the decoder (a forward run's last frames): let them out.
    if (!run.segments.length && this.cursor > p && p >= this.feedStart && !this.emitted.has(i)) {
      void this.drain();
      return 50;
    }
    return null;
  }

  /**
   * Keep frames from..to (those not kept already): the run in progress goes
   * on when it brings them or can, else a new one starts.
   * @param {number} from @param {number} to @param {number} [_rate] (the element's playing rate: unused)
   */
  start(from, to, _rate) {
    if (this.disabled) return;
    from = Math.max(0, from);
    to = Math.min(this.table.frames.length - 1, to);
    if (from > to) return;
    const backward = this.direction() < 0;
    const run = this.run;
    /** @type {number[]} */
    const needed = [];
    for (let i = from; i <= to; i++) if (!this.cache.get(i) && !this.held.has(i)) needed.push(i);
    const widen = () => {
      const r = /** @type {SampleRun} */ (this.run);
      r.from = Math.min(r.from, from);
      r.to = Math.max(r.to, to);
      this.release();
    };
    if (run && run.backward === backward && needed.every((i) => this.brings(run, i))) return widen();
    if (!needed.length) return;
    const positions = needed.map((i) => this.sampleOf[i]);
    const first = Math.min(...positions);
    const last = Math.max(...positions);
    if (!backward) {
      // Forwards the feed goes on, without a key frame, when no key frame
      // lies between it and the first sample needed and no frame needed
      // has left the decoder already.
      const feeding = run && !run.backward ? run.segments[0] ?? null : null;
      const point = feeding ? feeding.fed : this.cursor;
      const goesOn = point >= 0 && this.feedStart <= first && this.table.keys[this.groupOf[first]] <= point
        && needed.every((i) => this.sampleOf[i] >= point || !this.emitted.has(i));
      if (goesOn && run && feeding) {
        feeding.end = Math.max(feeding.end, last);
        run.segments = [feeding];
        return widen();
      }
      if (goesOn) {
        const generation = this.nextGeneration();
        this.run = { from, to, at: from - 1, rate: 1, backward, segments: [{ start: point, end: last, fed: point }] };
        void this.decode(generation, this.run);
        return;
      }
    }
    const plan = this.plan(needed, backward);
    if (run && run.backward === backward) {
      // The segment being fed goes on when the new run needs it.
      const current = run.segments[0];
      const same = current && plan.find((s) => s.start === current.start);
      if (current && same) {
        current.end = Math.max(current.end, same.end);
        run.segments = [current, ...plan.filter((s) => s !== same)];
        Object.assign(run, { from, to });
        this.release();
        return;
      }
    }
    const generation = this.nextGeneration();
    this.reset();
    this.run = { from, to, at: from - 1, rate: 1, backward, segments: plan };
    this.release();
    void this.decode(generation, this.run);
  }

  /**
   * Whether the run in progress will put out frame i: a segment still to
   * feed holds its sample, or it was fed and has not come out yet.
   * @param {SampleRun} run @param {number} i
   */
  brings(run, i) {
    const p = this.sampleOf[i];
    return run.segments.some((s) => p >= s.start && p <= s.end && (p >= s.fed || !this.emitted.has(i)));
  }

  /**
   * The segments that bring frames `needed`: one per group of pictures,
   * from its key frame (or from the group before, for frames shown before
   * their key frame: an open group) to the last sample needed; in decoding
   * order, or going backwards the last group first.
   * @param {number[]} needed @param {boolean} backward
   * @returns {Segment[]}
   */
  plan(needed, backward) {
    const { keys, frames } = this.table;
    /** @type {Map<number, {start: number, end: number}>} */
    const groups = new Map();
    for (const i of needed) {
      const p = this.sampleOf[i];
      const g = this.groupOf[p];
      const key = keys[g > 0 && i < frames[keys[g]] ? g - 1 : g];
      const group = groups.get(g) ?? { start: key, end: p };
      group.start = Math.min(group.start, key);
      group.end = Math.max(group.end, p);
      groups.set(g, group);
    }
    const order = [...groups.keys()].sort((a, b) => (backward ? b - a : a - b));
    /** @type {Segment[]} */
    const segments = [];
    for (const g of order) {
      const { start, end } = /** @type {{start: number, end: number}} */ (groups.get(g));
      const previous = segments[segments.length - 1];
      // Forwards, a group that follows the last one's samples is fed on without a key frame.
      if (!backward && previous && start <= previous.end + 1 + FEED_MARGIN) previous.end = Math.max(previous.end, end);
      else segments.push({ start, end, fed: start });
    }
    return segments;
  }

  /** Held frames now within the run go to the cache; those far past it close. */
  release() {
    const run = this.run;
    for (const [i, frame] of this.held) {
      if (run && i >= run.from && i <= run.to) {
        if (this.cache.get(i)) frame.close();
        else this.cache.put(i, frame);
        this.held.delete(i);
      } else if (!run || i < run.from || i > run.to + 2 * FEED_MARGIN) {
        frame.close();
        this.held.delete(i);
      }
    }
  }

  /**
   * The bytes of samples start..end (one range request: a group's samples
   * lie together in the file), with the file offset they begin at.
   * @param {number} start @param {number} end
   */
  fetchBytes(start, end) {
    const g0 = this.groupOf[start];
    const g1 = this.groupOf[end];
    const name = `${g0}-${g1}`;
    const known = this.bytes.get(name);
    if (known) {
      this.bytes.delete(name);
      this.bytes.set(name, known);
      return known;
    }
    const { keys, offsets, sizes } = this.table;
    const first = keys[g0];
    const last = (keys[g1 + 1] ?? offsets.length) - 1;
    let base = Infinity;
    let stop = 0;
    for (let p = first; p <= last; p++) {
      base = Math.min(base, offsets[p]);
      stop = Math.max(stop, offsets[p] + sizes[p]);
    }
    const promise = fetch(this.url, { credentials: 'same-origin', headers: { Range: `bytes=${base}-${stop - 1}` } }).then(async (response) => {
      if (!response.ok) throw new Error(`the samples' bytes: ${response.status}`);
      // A server that ignores the range sends the whole file.
      if (response.status === 200 || !response.body) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        const from = response.status === 200 ? 0 : base;
        if (bytes.length < stop - from) throw new Error('the samples\' bytes came short');
        return new ArrivingBytes(from, bytes, null);
      }
      // Decoding starts with the first sample's bytes, not the last's.
      return new ArrivingBytes(base, new Uint8Array(stop - base), response.body.getReader());
    });
    promise.catch(() => this.bytes.delete(name));
    this.bytes.set(name, promise);
    while (this.bytes.size > BYTES_KEPT) this.bytes.delete(/** @type {string} */ (this.bytes.keys().next().value));
    return promise;
  }

  /** @param {number} generation @param {SampleRun} run */
  async decode(generation, run) {
    const { offsets, sizes, frames } = this.table;
    const live = () => generation === this.generation && !this.disabled;
    const n = frames.length;
    try {
      while (live() && run.segments.length) {
        const segment = run.segments[0];
        if (this.cursor !== segment.fed) {
          // Not where the feed stands: from the segment's key frame.
          if (this.cursor >= 0) this.reset();
          segment.fed = segment.start;
          this.feedStart = segment.start;
          this.emitted.clear();
        }
        // Forwards, the last segment goes a few samples on, so that its last
        // frames leave the decoder's reordering without a flush.
        const stop = () => Math.min(n - 1, segment.end + (run.backward || run.segments.length > 1 ? 0 : FEED_MARGIN));
        // A seek fetches the samples fed past its frame too, as they come out only after them.
        let chunk = await this.fetchBytes(segment.fed, run.seek !== undefined ? stop() : Math.min(segment.end, n - 1));
        // The next segment's bytes come while this one decodes.
        const next = run.segments[1];
        if (next) void this.fetchBytes(next.start, next.end).catch(() => {});
        if (!live()) return;
        if (this.cursor !== segment.fed && this.cursor >= 0) continue;
        const started = performance.now();
        const startedAt = segment.fed;
        for (; segment.fed <= stop(); segment.fed++) {
          const p = segment.fed;
          if (offsets[p] < chunk.base || offsets[p] + sizes[p] - chunk.base > chunk.bytes.length) {
            chunk = await this.fetchBytes(p, stop());
            if (!live()) return;
          }
          if (chunk.received < offsets[p] + sizes[p] - chunk.base) {
            await chunk.until(offsets[p] + sizes[p] - chunk.base);
            if (!live()) return;
          }
          const at = offsets[p] - chunk.base;
          const data = chunk.bytes.subarray(at, at + sizes[p]);
          // A frame before the run's that no other picture refers to need
          // not be decoded: it would be closed as it came out. With B-frames
          // that is about half of a group's frames, so a seek late in a long
          // group decodes about half as many. It counts as come out (see
          // `emitted`), so no run waits for it.
          if (frames[p] < run.from && !this.isKey[p] && this.lengthSize && isDisposable(data, this.lengthSize)) {
            this.emitted.add(frames[p]);
            this.passedBy++;
            this.cursor = p + 1;
            continue;
          }
          const rush = run.seek !== undefined && !this.emitted.has(run.seek);
          while (!rush && this.decoder.decodeQueueSize >= DECODE_QUEUE && live()) await once(this.decoder, 'dequeue', 20);
          if (!live()) return;
          this.decoder.decode(new EncodedVideoChunk({ type: this.isKey[p] ? 'key' : 'delta', timestamp: frames[p], data }));
          this.cursor = p + 1;
        }
        // Backwards (or at the end) every frame fed comes out now; forwards the feed stays open.
        if (run.backward || run.segments.length > 1 || this.cursor >= n) await this.drain();
        else {
          while (this.decoder.decodeQueueSize > 0 && live()) await once(this.decoder, 'dequeue', 20);
          // A seek's frame must come out: a decoder holding back more
          // frames than the margin fed past it lets them out.
          if (live() && run.seek !== undefined && !this.emitted.has(run.seek) && !(await this.cache.wait(run.seek, SEEK_OUTPUT_WAIT_MS))) {
            if (!live()) return;
            await this.drain();
          }
        }
        if (!live()) return;
        const seconds = (performance.now() - started) / 1000;
        const count = segment.fed - startedAt;
        if (count >= 8 && seconds > 0) this.rate = 0.5 * this.rate + 0.5 * Math.max(20, count / seconds);
        // Widened meanwhile: on to the new end (from the key frame again if drained).
        if (segment.fed <= stop()) continue;
        run.segments.shift();
      }
    } catch (error) {
      if (live()) this.fail(error);
    }
  }

  /** Let out every frame fed (the decoder then needs a key frame). */
  async drain() {
    if (this.cursor < 0 || this.flushing) return;
    // After a flush the decoder takes a key frame first, whoever feeds it next.
    this.cursor = -1;
    // Reset meanwhile: nothing to let out.
    const flushing = this.decoder.flush().catch(() => {});
    this.flushing = flushing;
    await flushing;
    if (this.flushing === flushing) this.flushing = null;
  }

  /** @param {VideoFrame} frame */
  output(frame) {
    const i = frame.timestamp;
    this.emitted.add(i);
    const run = this.run;
    if (run) run.at = Math.max(run.at, i);
    if (run && i >= run.from && i <= run.to && !this.cache.get(i)) this.cache.put(i, frame);
    else if (run && !run.backward && i > run.to && i <= run.to + 2 * FEED_MARGIN && !this.held.has(i)) this.held.set(i, frame);
    else frame.close();
  }

  /** The decoder drops what it holds and waits for a key frame. */
  reset() {
    this.cursor = -1;
    // A flush in progress is aborted: the next feed flushes anew.
    this.flushing = null;
    this.emitted.clear();
    if (this.decoder.state === 'configured') {
      this.decoder.reset();
      this.decoder.configure(decoderConfig(this.table));
    }
  }

  /**
   * Catch frame i (a frame the element's seek did not land on); resolves
   * true once it is kept.
   * @param {number} i
   */
  rescue(i) {
    if (this.disabled || this.cache.get(i)) return Promise.resolve(Boolean(this.cache.get(i)));
    this.start(i, i);
    return this.cache.wait(i, (this.arrival(i) ?? 1000) + 1000);
  }

  /** @param {unknown} error */
  fail(error) {
    if (this.disabled) return;
    console.warn('WebCodecs decoding failed; the video element reads ahead instead:', error);
    this.disabled = true;
    this.stop();
    try {
      this.decoder.close();
    } catch {
      // Closed already.
    }
    this.cache.abandon();
    this.onFail();
  }

  stop() {
    this.nextGeneration();
    this.run = null;
    for (const frame of this.held.values()) frame.close();
    this.held.clear();
    if (!this.disabled) this.reset();
  }

  destroy() {
    this.stop();
    this.disabled = true;
    this.bytes.clear();
    if (this.decoder.state !== 'closed') this.decoder.close();
  }
}

/**
 * The frames kept ahead of and behind the frame shown with WebCodecs:
 * most of the window lies the way the steps go.
 * @param {number} limit the cache's frames @param {boolean} backward
 */
function windowShares(limit, backward) {
  const ahead = backward ? Math.floor(limit / 6) : Math.floor((limit * 2) / 3);
  return { ahead, behind: limit - ahead - 1 };
}

/**
 * A video shown frame by frame: `frame` is the frame shown (0-based),
 * `source` what to draw for it. `onChange` hears every change of frame or
 * of playing.
 */
export class FramePlayer {
  /**
   * @param {HTMLVideoElement} video loaded
   * @param {FrameIndex} index
   * @param {SampleTable | null} [samples] the server's sample table, when WebCodecs decodes it
   */
  constructor(video, index, samples = null) {
    this.video = video;
    this.index = index;
    this.width = video.videoWidth;
    this.height = video.videoHeight;
    /** The frame shown, and the one asked for last. */
    this.frame = 0;
    this.target = 0;
    /** Which way the last seek went: -1 backwards, 1 forwards (what to read ahead). */
    this.direction = 1;
    /** Seeks of the element that did not land on their frame (the benchmark reports them). */
    this.misses = 0;
    /** The frame the element itself shows, -1 when unknown. */
    this.elementFrame = -1;
    /** @type {CanvasImageSource} */
    this.source = video;
    this.playing = false;
    /** @type {() => void} */
    this.onChange = () => {};
    /** @type {Promise<void> | null} */
    this.seeking = null;
    /** The seek with WebCodecs in progress (see seekSamples). @type {Promise<boolean> | null} */
    this.sampleSeek = null;
    this.settleTimer = 0;
    this.destroyed = false;
    const canKeep = typeof VideoFrame === 'function' && hasFrameCallback(video);
    const frameBytes = Math.max(1, this.width * this.height * 1.5);
    this.cache = new FrameCache(Math.max(CACHE_FRAMES.min, Math.min(CACHE_FRAMES.max, Math.floor(CACHE_BUDGET / frameBytes))));
    const url = video.currentSrc || video.src;
    const elementReader = () => (canKeep ? new ReadAhead(url, index, this.cache) : null);
    /** @type {ReadAhead | SampleReader | null} */
    this.readAhead = null;
    /** What reads frames ahead: 'webcodecs' (the sample table, decoded here) or 'element' (a hidden `<video>`). */
    this.decoder = 'element';
    if (samples && index.exact && typeof VideoFrame === 'function') {
      try {
        const reader = new SampleReader(url, index, samples, this.cache, () => this.direction);
        reader.onFail = () => {
          if (this.readAhead !== reader) return;
          this.readAhead = elementReader();
          this.decoder = 'element';
          this.cache.ahead = this.cache.behind = 1;
          if (!this.destroyed) {
            this.onChange();
            this.readAheadFrom(this.frame);
          }
        };
        this.readAhead = reader;
        this.decoder = 'webcodecs';
      } catch {
        this.readAhead = null;
      }
    }
    this.readAhead ??= elementReader();
    video.addEventListener('pause', () => this.stopped());
    video.addEventListener('ended', () => this.stopped());
  }

  /**
   * Opens `url` with the server's frame index where it has one, else times from `frameRate`.
   * @param {string} url @param {number} frameRate
   */
  static async open(url, frameRate) {
    const [video, served, table] = await Promise.all([openVideo(url), fetchFrameIndex(url), fetchSampleTable(url)]);
    // The table must number the frames as the index does.
    const samples = served && table?.frames.length === served.frames ? table : null;
    const player = new FramePlayer(video, served ?? indexFromRate(video.duration, frameRate), samples);
    await player.seek(0);
    return player;
  }

  get frames() {
    return this.index.frames;
  }

  /** The time of frame i, seconds. @param {number} i */
  timeOf(i) {
    return this.index.timestamps[Math.max(0, Math.min(this.index.frames - 1, i))];
  }

  /**
   * Show frame i (clamped); resolves when it is shown or another was asked for.
   * @param {number} i
   */
  async seek(i) {
    if (this.destroyed) return;
    const frame = Math.max(0, Math.min(this.index.frames - 1, Math.round(i)));
    // Stepping back reads the frames behind; after a jump (either way) the
    // frames ahead are read, as watching goes on forwards from there.
    if (frame !== this.target) this.direction = frame < this.target && this.target - frame <= STEP_BACK_MAX ? -1 : 1;
    this.target = frame;
    if (this.playing) {
      // Not stopped(): it would settle on the frame playing had reached.
      this.playing = false;
      this.video.pause();
    }
    this.cache.center = frame;
    const kept = this.cache.get(frame);
    if (kept) {
      this.show(frame, kept);
      return;
    }
    // The element catches up once the frame is shown, not while it is decoded.
    clearTimeout(this.settleTimer);
    const arrival = this.readAhead?.arrival(frame) ?? null;
    if (arrival !== null && arrival <= READ_AHEAD_WAIT_MS && (await this.cache.wait(frame, arrival + 300))) {
      if (this.target === frame) this.show(frame, /** @type {VideoFrame} */ (this.cache.get(frame)));
      return;
    }
    // A later seek shows its own frame.
    if (this.target !== frame) return;
    const reader = this.readAhead;
    if (reader instanceof SampleReader && !reader.disabled && (await this.seekSamples(reader))) return;
    await this.seekElement();
  }

  /**
   * Decodes the latest target with WebCodecs and shows it (one such seek at
   * a time: targets asked for meanwhile are skipped, so dragging over the
   * timeline shows frames as fast as they decode). Resolves false when the
   * reader could not bring the frame: the element seeks then.
   * @param {SampleReader} reader
   * @returns {Promise<boolean>}
   */
  seekSamples(reader) {
    if (this.sampleSeek) return this.sampleSeek;
    this.sampleSeek = (async () => {
      for (;;) {
        const wanted = this.target;
        // Shown meanwhile (a kept frame).
        if (this.frame === wanted && this.source !== this.video) return true;
        const { behind } = windowShares(this.cache.limit, this.direction < 0);
        const decoded = await reader.seek(wanted, wanted - behind);
        if (this.destroyed || this.playing) return true;
        const kept = this.cache.get(wanted);
        if (this.target === wanted) {
          if (!kept) return false;
          this.show(wanted, kept);
          return true;
        }
        if (!decoded && reader.disabled) return false;
      }
    })().finally(() => {
      this.sampleSeek = null;
    });
    return this.sampleSeek;
  }

  /** @param {number} delta */
  step(delta) {
    return this.seek(this.target + delta);
  }

  /**
   * Seeks the element until it shows the latest target (one seek at a time;
   * targets asked for meanwhile are skipped), then shows the element.
   */
  seekElement() {
    if (this.seeking) return this.seeking;
    this.seeking = (async () => {
      for (;;) {
        // A seek with WebCodecs has the cores; the element catches up after it.
        if (this.sampleSeek && !this.playing) return;
        const wanted = this.target;
        if (this.elementFrame !== wanted) {
          // A frame elsewhere first: the read-ahead would take half the decoding.
          // (A frame its run skipped, it goes on past.)
          // (Catching up with a kept frame shown, the decoder goes on.)
          const settling = this.readAhead instanceof SampleReader && this.cache.get(wanted);
          if (!this.readAhead?.covers(wanted) && !settling) this.readAhead?.stop();
          this.elementFrame = -1;
          this.elementFrame = await exactSeek(this.video, this.index, wanted);
        }
        if (this.destroyed) return;
        if (this.target === wanted && this.elementFrame !== wanted && (await this.readAhead?.rescue(wanted))) {
          if (this.target === wanted) this.show(wanted, /** @type {VideoFrame} */ (this.cache.get(wanted)));
          return;
        }
        if (this.target === wanted) {
          if (this.elementFrame !== wanted) this.misses++;
          // A kept frame shown stays when the element could not land on it;
          // otherwise the frame the browser shows, even where it disagrees with the index.
          if (this.elementFrame === wanted || this.source === this.video || this.frame !== wanted) this.show(this.elementFrame, this.video);
          return;
        }
        // seek() showed a kept frame meanwhile; the element catches up later.
        if (this.cache.get(this.target)) return;
      }
    })().finally(() => {
      this.seeking = null;
    });
    return this.seeking;
  }

  /**
   * @param {number} frame @param {CanvasImageSource} source
   */
  show(frame, source) {
    this.frame = frame;
    this.source = source;
    this.cache.center = frame;
    this.cache.pinned = source !== this.video ? /** @type {VideoFrame} */ (source) : null;
    this.onChange();
    if (this.playing) return;
    this.readAheadFrom(frame);
    clearTimeout(this.settleTimer);
    if (source !== this.video) this.settleTimer = window.setTimeout(() => void this.seekElement(), SETTLE_MS);
  }

  /**
   * Keep the frames around `frame`: those ahead first, or, stepping
   * backwards, those behind (one run at a time there: a run plays forwards,
   * so it fills from the bottom of the window up to `frame`).
   * @param {number} frame
   */
  readAheadFrom(frame) {
    const readAhead = this.readAhead;
    if (!readAhead) return;
    if (readAhead instanceof SampleReader) {
      this.decodeAround(readAhead, frame);
      return;
    }
    const ahead = Math.floor((this.cache.limit * 2) / 3);
    const last = Math.min(this.index.frames - 1, frame + ahead);
    const first = Math.max(0, frame - (this.cache.limit - ahead - 1));
    const missing = (/** @type {number} */ from, /** @type {number} */ to) => {
      for (let i = from; i <= to; i++) if (!this.cache.get(i)) return i;
      return -1;
    };
    const behind = missing(first, frame - 1);
    if (this.direction < 0 && behind >= 0) {
      if (!readAhead.run) readAhead.start(behind, frame - 1);
      return;
    }
    const next = missing(frame + 1, last);
    if (next >= 0) readAhead.start(next, last);
    else if (behind >= 0) readAhead.start(behind, frame - 1);
  }

  /**
   * Keep the frames around `frame` with WebCodecs: most of the window lies
   * the way the steps go (behind the frame, stepping backwards). A run starts
   * when fewer than half of that side's frames are kept in a row from
   * `frame`, for all that are missing, so that a group of pictures is
   * decoded for many steps and the next one starts before the kept run out.
   * @param {SampleReader} reader @param {number} frame
   */
  decodeAround(reader, frame) {
    const backward = this.direction < 0;
    const { ahead, behind } = windowShares(this.cache.limit, backward);
    this.cache.ahead = ahead;
    this.cache.behind = behind;
    const first = Math.max(0, frame - behind);
    const last = Math.min(this.index.frames - 1, frame + ahead);
    if (backward) {
      let low = frame - 1;
      while (low >= first && this.cache.get(low)) low--;
      if (low >= first && frame - 1 - low < behind / 2) reader.start(first, low);
    } else {
      let high = frame + 1;
      while (high <= last && this.cache.get(high)) high++;
      if (high <= last && high - frame - 1 < ahead / 2) reader.start(high, last);
    }
  }

  async play() {
    if (this.playing || this.destroyed) return;
    clearTimeout(this.settleTimer);
    if (this.frame >= this.index.frames - 1) await this.seek(0);
    // Playing first, so the frame shown on the way reads nothing ahead.
    this.playing = true;
    this.readAhead?.stop();
    this.target = this.frame;
    await this.seekElement();
    if (!this.playing) return;
    this.source = this.video;
    this.cache.pinned = null;
    this.elementFrame = -1;
    this.onChange();
    this.followPlayback();
    await this.video.play().catch(() => this.stopped());
  }

  pause() {
    if (this.playing) this.video.pause();
  }

  toggle() {
    return this.playing ? (this.pause(), Promise.resolve()) : this.play();
  }

  /** @param {number} rate */
  setRate(rate) {
    this.video.playbackRate = rate;
  }

  /** While playing, the frame shown follows the element's. */
  followPlayback() {
    const video = this.video;
    const update = (/** @type {number} */ time) => {
      if (!this.playing) return;
      this.frame = this.target = frameAtTime(this.index.timestamps, time);
      this.onChange();
    };
    if (hasFrameCallback(video)) {
      const onFrame = (/** @type {number} */ _, /** @type {VideoFrameCallbackMetadata} */ metadata) => {
        update(metadata.mediaTime);
        if (this.playing) video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    } else {
      const tick = () => {
        update(video.currentTime);
        if (this.playing) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }
  }

  /**
   * Paused or ended: settle exactly on the frame shown last (the element's
   * time may lag behind the frame it last presented).
   */
  stopped() {
    if (!this.playing) return;
    this.playing = false;
    const lastShown = hasFrameCallback(this.video) ? this.frame : frameAtTime(this.index.timestamps, this.video.currentTime);
    const frame = this.video.ended ? this.index.frames - 1 : lastShown;
    this.onChange();
    void this.seek(frame);
  }

  destroy() {
    this.destroyed = true;
    clearTimeout(this.settleTimer);
    this.video.pause();
    this.readAhead?.destroy();
    this.cache.clear();
    this.video.removeAttribute('src');
    this.video.load();
  }
}
