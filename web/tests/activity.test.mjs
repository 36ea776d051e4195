// The labeling page's active-time counter under node, with a fake clock,
// window and document: time counts only while the tab is visible and
// focused and the last input is younger than the idle time.
// Run: cd web && node --test tests/activity.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActiveTimer } from '../app/labeling/activity.js';

function fakes() {
  let now = 0;
  const target = new EventTarget();
  const doc = Object.assign(new EventTarget(), {
    visibilityState: 'visible',
    focused: true,
    hasFocus() { return this.focused; },
  });
  const timer = new ActiveTimer(60, {
    now: () => now,
    target: /** @type {any} */ (target),
    doc: /** @type {any} */ (doc),
  });
  return {
    timer, doc,
    /** @param {number} ms */
    wait(ms) { now += ms; },
    input() { target.dispatchEvent(new Event('keydown')); },
    /** @param {boolean} visible */
    show(visible) { doc.visibilityState = visible ? 'visible' : 'hidden'; doc.dispatchEvent(new Event('visibilitychange')); },
    /** @param {boolean} focused */
    focus(focused) { doc.focused = focused; target.dispatchEvent(new Event(focused ? 'focus' : 'blur')); },
  };
}

test('time counts while there is input, up to the idle time after the last', () => {
  const f = fakes();
  f.wait(10_000);
  f.input();
  f.wait(20_000);
  assert.equal(f.timer.seconds(), 30);
  // No input for 100 s: only up to 60 s after the last input (at 10 s) counts.
  f.wait(100_000);
  assert.equal(f.timer.seconds(), 70);
  f.input();
  f.wait(5_000);
  assert.equal(f.timer.seconds(), 75);
});

test('a hidden or unfocused tab does not count, and each task starts from zero', () => {
  const f = fakes();
  f.wait(5_000);
  f.show(false);
  f.wait(20_000);
  f.input();
  f.wait(1_000);
  assert.equal(f.timer.seconds(), 5);
  f.show(true);
  f.input();
  f.wait(2_000);
  f.focus(false);
  f.wait(30_000);
  assert.equal(f.timer.seconds(), 7);
  f.focus(true);
  f.wait(1_000);
  assert.equal(f.timer.seconds(), 8);
  f.timer.reset();
  f.wait(2_500);
  assert.equal(f.timer.seconds(), 2.5);
  f.timer.stop();
});
