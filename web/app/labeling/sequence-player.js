// An image sequence shown as a video: each frame is an image file (a task
// whose video field lists the frames' URLs). Frames are decoded ahead of
// the playhead (and a few behind it) into a window sized to a memory
// budget, so stepping and playing draw decoded frames; a frame not decoded
// yet is awaited, never skipped while stepping. Playing at a rate skips
// the frames that are not ready in time, as a video would drop them.

/** Bytes of decoded frames kept around the frame shown, about. */
const CACHE_BUDGET = 256 * 1024 * 1024;
/** Frames kept at most, and at least, whatever the budget says. */
const CACHE_FRAMES = { min: 8, max: 240 };
/** Of the frames kept, this share is ahead of the frame shown. */
const AHEAD_SHARE = 2 / 3;
/** Frames loaded at once (each is a request and a decode). */
const PARALLEL_LOADS = 6;

/**
 * Loads and decodes one image.
 * @param {string} url
 * @returns {Promise<HTMLImageElement>}
 */
function decodedImage(url) {
  const image = new Image();
  image.decoding = 'async';
  image.src = url;
  return image.decode().then(() => image);
}

/**
 * The frames of an image sequence as a player: `frame` is the frame shown
 * (0-based), `source` what to draw for it. `onChange` hears every change of
 * frame or of playing. The same members as FramePlayer, so the video
 * screen uses either.
 */
export class SequencePlayer {
  /**
   * Opens the sequence, its first frame decoded.
   * @param {string[]} urls the frames in order @param {number} frameRate frames per second
   */
  static async open(urls, frameRate) {
    if (urls.length === 0) throw new Error('an image sequence needs frames');
    const first = await decodedImage(urls[0]);
    const player = new SequencePlayer(urls, frameRate, first);
    await player.seek(0);
    return player;
  }

  /**
   * @param {string[]} urls @param {number} frameRate @param {HTMLImageElement} first decoded
   */
  constructor(urls, frameRate, first) {
    this.urls = urls;
    this.frameRate = frameRate;
    /** The first frame: what the editor takes as its image. */
    this.video = first;
    this.width = first.naturalWidth;
    this.height = first.naturalHeight;
    this.index = {
      frames: urls.length,
      timestamps: urls.map((_, i) => i / frameRate),
      duration: urls.length / frameRate,
      exact: true,
    };
    /** The frame shown, and the one asked for last. */
    this.frame = 0;
    this.target = 0;
    /** @type {CanvasImageSource} */
    this.source = first;
    this.playing = false;
    this.speed = 1;
    /** @type {() => void} */
    this.onChange = () => {};
    this.destroyed = false;
    /** Frames loaded or loading, by index. @type {Map<number, Promise<HTMLImageElement | null>>} */
    this.loads = new Map([[0, Promise.resolve(first)]]);
    /** Frames decoded, by index. @type {Map<number, HTMLImageElement>} */
    this.ready = new Map([[0, first]]);
    this.loading = 0;
    const frameBytes = Math.max(1, this.width * this.height * 4);
    this.limit = Math.max(CACHE_FRAMES.min, Math.min(CACHE_FRAMES.max, Math.floor(CACHE_BUDGET / frameBytes)));
    this.playTimer = 0;
    /** Where playing started counting: a frame and its moment. */
    this.clock = { frame: 0, time: 0 };
  }

  get frames() {
    return this.index.frames;
  }

  /** The time of frame i, seconds. @param {number} i */
  timeOf(i) {
    return this.index.timestamps[Math.max(0, Math.min(this.index.frames - 1, i))];
  }

  /**
   * Frame i decoded (null when it cannot be loaded).
   * @param {number} i
   * @returns {Promise<HTMLImageElement | null>}
   */
  load(i) {
    let load = this.loads.get(i);
    if (!load) {
      this.loading++;
      load = decodedImage(this.urls[i])
        .then((image) => {
          if (this.loads.get(i) === load) this.ready.set(i, image);
          return image;
        })
        .catch(() => null)
        .finally(() => {
          this.loading--;
          this.prefetch();
        });
      this.loads.set(i, load);
    }
    return load;
  }

  /**
   * Show frame i (clamped); resolves when it is shown or another was asked for.
   * @param {number} i
   */
  async seek(i) {
    if (this.destroyed) return;
    const frame = Math.max(0, Math.min(this.index.frames - 1, Math.round(i)));
    this.target = frame;
    if (this.playing) this.stopPlaying();
    const image = this.ready.get(frame) ?? (await this.load(frame));
    if (this.destroyed || this.target !== frame) return;
    // A frame that cannot be loaded shows as the one before it did.
    this.show(frame, image ?? this.source);
  }

  /** @param {number} delta */
  step(delta) {
    return this.seek(this.target + delta);
  }

  /** @param {number} frame @param {CanvasImageSource} source */
  show(frame, source) {
    this.frame = frame;
    this.source = source;
    this.onChange();
    this.prefetch();
  }

  /** Load the frames of the window around the frame shown, nearest first; forget those outside it. */
  prefetch() {
    if (this.destroyed) return;
    const ahead = Math.floor(this.limit * AHEAD_SHARE);
    const first = Math.max(0, this.frame - (this.limit - ahead - 1));
    const last = Math.min(this.index.frames - 1, this.frame + ahead);
    for (const i of [...this.loads.keys()]) {
      if (i < first || i > last) {
        this.loads.delete(i);
        this.ready.delete(i);
      }
    }
    // Ahead first, then behind.
    for (let i = this.frame + 1; i <= last && this.loading < PARALLEL_LOADS; i++) void this.load(i);
    for (let i = this.frame - 1; i >= first && this.loading < PARALLEL_LOADS; i--) void this.load(i);
  }

  async play() {
    if (this.playing || this.destroyed) return;
    if (this.frame >= this.index.frames - 1) await this.seek(0);
    this.playing = true;
    this.onChange();
    this.startClock();
    const tick = () => {
      if (!this.playing) return;
      const seconds = (performance.now() - this.clock.time) / 1000;
      const due = this.clock.frame + Math.floor(seconds * this.frameRate * this.speed);
      if (due >= this.index.frames - 1 && this.ready.has(this.index.frames - 1)) {
        this.stopPlaying();
        this.show(this.index.frames - 1, /** @type {HTMLImageElement} */ (this.ready.get(this.index.frames - 1)));
        return;
      }
      // The latest frame due that is decoded; frames not ready in time are dropped.
      for (let i = Math.min(due, this.index.frames - 1); i > this.frame; i--) {
        const image = this.ready.get(i);
        if (image) {
          this.frame = this.target = i;
          this.source = image;
          this.onChange();
          this.prefetch();
          break;
        }
      }
      this.playTimer = requestAnimationFrame(tick);
    };
    this.playTimer = requestAnimationFrame(tick);
  }

  /** Playing times frames from the frame shown, now. */
  startClock() {
    this.clock = { frame: this.frame, time: performance.now() };
  }

  stopPlaying() {
    this.playing = false;
    cancelAnimationFrame(this.playTimer);
  }

  pause() {
    if (!this.playing) return;
    this.stopPlaying();
    this.onChange();
  }

  toggle() {
    return this.playing ? (this.pause(), Promise.resolve()) : this.play();
  }

  /** @param {number} rate */
  setRate(rate) {
    this.speed = rate;
    if (this.playing) this.startClock();
  }

  destroy() {
    this.destroyed = true;
    this.stopPlaying();
    this.loads.clear();
    this.ready.clear();
  }
}
