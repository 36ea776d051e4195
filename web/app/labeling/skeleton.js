// Skeletons (Gloss's extension of `KeyPointLabels`): one instance is one
// region whose joints are points sharing the instance's id as `parentID`.
// A new instance is placed joint by joint, in the order of the control's
// labels; a joint not in the image is skipped and gets no result at all.

import { newId, newRegion, POINT_SIZE } from './model.js';

/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').ControlTag} ControlTag */

/**
 * The edges of a skeleton between the joints an instance has, as index
 * pairs into `joints` (edges to an absent joint are left out).
 * @param {ControlTag | undefined} control
 * @param {Region[]} joints
 * @returns {[number, number][]}
 */
export function jointEdges(control, joints) {
  const index = new Map(joints.map((joint, i) => [joint.labels[0], i]));
  /** @type {[number, number][]} */
  const pairs = [];
  for (const [from, to] of control?.skeleton?.edges ?? []) {
    const a = index.get(from);
    const b = index.get(to);
    if (a !== undefined && b !== undefined) pairs.push([a, b]);
  }
  return pairs;
}

/**
 * The instance after the next visibility step of one joint: visible →
 * occluded → absent (the joint and its result go). Null when no joint is left.
 * @param {Region} instance @param {number} index
 * @returns {Region | null}
 */
export function cycleJoint(instance, index) {
  const joint = instance.joints[index];
  if (!joint) return instance;
  if (joint.occluded) return withoutJoint(instance, index);
  const joints = instance.joints.slice();
  joints[index] = { ...joint, occluded: true };
  return { ...instance, joints };
}

/**
 * The instance without one joint (now absent from the image). Null when no
 * joint is left.
 * @param {Region} instance @param {number} index
 * @returns {Region | null}
 */
export function withoutJoint(instance, index) {
  const joints = instance.joints.filter((_, i) => i !== index);
  return joints.length ? { ...instance, joints } : null;
}

/**
 * One instance being placed: each joint is placed (a point, percent of the
 * image), skipped as absent, or still to come.
 */
export class SkeletonDraft {
  /**
   * @param {ControlTag} control a `KeyPointLabels` with a skeleton
   * @param {string} object the image
   * @param {string[]} joints the control's labels, in order
   */
  constructor(control, object, joints) {
    this.control = control;
    this.object = object;
    this.joints = joints;
    /** The instance's id, known from the start so it is drawn in its colour. */
    this.id = newId();
    /** @type {({x: number, y: number, occluded: boolean} | null)[]} */
    this.placed = joints.map(() => null);
    /** @type {Set<number>} */
    this.skipped = new Set();
    /** The joint placed last (O toggles it). @type {number | null} */
    this.last = null;
    /** The joint the next click places; -1 once every joint is placed or skipped. */
    this.next = joints.length ? 0 : -1;
  }

  get done() {
    return this.next < 0;
  }

  /** Go on with the first joint, in order, neither placed nor skipped. */
  advance() {
    this.next = this.joints.findIndex((_, i) => this.placed[i] === null && !this.skipped.has(i));
  }

  /** Place the next joint at (x, y), percent of the image. @param {number} x @param {number} y */
  place(x, y) {
    if (this.done) return;
    this.placed[this.next] = { x, y, occluded: false };
    this.last = this.next;
    this.advance();
  }

  /** The next joint is not in the image. */
  skip() {
    if (this.done) return;
    this.skipped.add(this.next);
    this.advance();
  }

  /** Place `label` next (picked in the panel), even if it was placed or skipped. @param {string} label */
  choose(label) {
    const index = this.joints.indexOf(label);
    if (index < 0) return;
    this.placed[index] = null;
    this.skipped.delete(index);
    this.next = index;
  }

  /** The joint placed last is visible again, or occluded. */
  toggleOccluded() {
    const joint = this.last === null ? null : this.placed[this.last];
    if (joint) joint.occluded = !joint.occluded;
    return Boolean(joint);
  }

  /** Labels of the joints placed or skipped. */
  resolved() {
    return new Set(this.joints.filter((_, i) => this.placed[i] !== null || this.skipped.has(i)));
  }

  /** What the status line says: the joint to place next and where we are. */
  status() {
    if (this.done) return '';
    return `Next joint: ${this.joints[this.next]} (${this.next + 1}/${this.joints.length})`;
  }

  /**
   * The instance as a region, its joints in the control's order.
   * @returns {Region}
   */
  region() {
    /** @type {Region[]} */
    const joints = [];
    this.placed.forEach((point, i) => {
      if (!point) return;
      joints.push(newRegion({
        kind: 'point', control: this.control.name, object: this.object, labels: [this.joints[i]], labelControl: null,
        x: point.x, y: point.y, width: POINT_SIZE, occluded: point.occluded,
      }));
    });
    return newRegion({ kind: 'skeleton', id: this.id, control: this.control.name, object: this.object, labels: [], labelControl: null, joints });
  }
}
