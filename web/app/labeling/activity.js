// Active time on a task: milliseconds counted only while the tab is
// visible and focused and the last input (pointer, key, wheel) was less
// than the project's idle time ago. Reset for each task; sent with submits,
// updates and review verdicts as `active_time` (seconds), which the server
// caps at the time since the task was reserved.

/** Events that count as input. */
const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'];

export class ActiveTimer {
  /**
   * @param {number} idleSeconds  input older than this stops the count
   * @param {{now?: () => number, target?: Window, doc?: Document}} [options]  for tests
   */
  constructor(idleSeconds, options = {}) {
    this.idleMs = Math.max(1, idleSeconds) * 1000;
    this.now = options.now ?? (() => performance.now());
    this.target = options.target ?? window;
    this.doc = options.doc ?? document;
    /** Milliseconds counted up to `lastTick`. */
    this.counted = 0;
    this.lastTick = this.now();
    this.lastInput = this.lastTick;
    /** Whether time counted since the last tick. */
    this.wasActive = this.active();
    this.onInput = () => this.input();
    this.onVisibility = () => this.tick();
    for (const type of INPUT_EVENTS) this.target.addEventListener(type, this.onInput, { capture: true, passive: true });
    this.target.addEventListener('focus', this.onInput);
    this.target.addEventListener('blur', this.onVisibility);
    this.doc.addEventListener('visibilitychange', this.onVisibility);
  }

  /** Whether time counts now. */
  active() {
    return this.doc.visibilityState === 'visible' && this.doc.hasFocus();
  }

  /** Adds the time since the last tick that was active: up to the idle limit after the last input. */
  tick() {
    const now = this.now();
    const until = Math.min(now, this.lastInput + this.idleMs);
    if (this.wasActive && until > this.lastTick) this.counted += until - this.lastTick;
    this.lastTick = now;
    this.wasActive = this.active();
  }

  input() {
    this.tick();
    this.lastInput = this.now();
  }

  /** Starts counting from zero (a new task is shown). */
  reset() {
    this.counted = 0;
    this.lastTick = this.now();
    this.lastInput = this.lastTick;
  }

  /** Active seconds so far, to a tenth. */
  seconds() {
    this.tick();
    return Math.round(this.counted / 100) / 10;
  }

  stop() {
    for (const type of INPUT_EVENTS) this.target.removeEventListener(type, this.onInput, { capture: true });
    this.target.removeEventListener('focus', this.onInput);
    this.target.removeEventListener('blur', this.onVisibility);
    this.doc.removeEventListener('visibilitychange', this.onVisibility);
  }
}
