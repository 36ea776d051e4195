// The annotation model: result items read into regions and other entries,
// written back to result items, and the undo history of whole states.
// States are frozen arrays of immutable entries, so an undo step costs one
// array of references, whatever the number of regions.

/** @typedef {import('./types.js').ResultItem} ResultItem */
/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ItemEntry} ItemEntry */
/** @typedef {import('./types.js').LabelConfig} LabelConfig */
/** @typedef {import('./types.js').ControlTag} ControlTag */

/** Result types that draw a region, with the key holding their labels (or null). */
export const REGION_TYPES = /** @type {Record<string, {kind: 'rect' | 'polygon', labelsKey: string | null}>} */ ({
  rectanglelabels: { kind: 'rect', labelsKey: 'rectanglelabels' },
  rectangle: { kind: 'rect', labelsKey: null },
  polygonlabels: { kind: 'polygon', labelsKey: 'polygonlabels' },
  polygon: { kind: 'polygon', labelsKey: null },
});

/** The result type each region-drawing control produces. */
export const CONTROL_RESULT_TYPE = /** @type {Record<string, string>} */ ({
  RectangleLabels: 'rectanglelabels',
  Rectangle: 'rectangle',
  PolygonLabels: 'polygonlabels',
  Polygon: 'polygon',
});

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A random 10-character id, as Label Studio makes for regions. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let id = '';
  for (const byte of bytes) id += ID_ALPHABET[byte & 63];
  return id;
}

/** @param {unknown} v */
function finite(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** @param {unknown} v @returns {string[]} */
function stringList(v) {
  return Array.isArray(v) ? v.filter((s) => typeof s === 'string') : [];
}

/**
 * Written form of each region, cached per (immutable) region object, so
 * producing the result after an edit only writes the edited regions.
 * Regions read from a result start with their original items, untouched.
 * @type {WeakMap<Region, ResultItem[]>}
 */
const written = new WeakMap();

/**
 * Read result items into entries: regions grouped by id (a geometry item
 * plus `labels` and per-region items sharing its id), everything else kept.
 * @param {ResultItem[]} items
 * @param {LabelConfig} config
 * @returns {Entry[]}
 */
export function readResult(items, config) {
  const controls = new Map(config.controls.map((c) => [c.name, c]));
  /** Ids of region geometry items. @type {Set<string>} */
  const regionIds = new Set();
  /** Other items sharing an id (labels, per-region results), by id. @type {Map<string, ResultItem[]>} */
  const attached = new Map();
  for (const item of items) {
    if (item && typeof item.id === 'string' && REGION_TYPES[item.type]) regionIds.add(item.id);
  }
  for (const item of items) {
    if (item && typeof item.id === 'string' && !REGION_TYPES[item.type] && regionIds.has(item.id)) {
      const group = attached.get(item.id);
      if (group) group.push(item);
      else attached.set(item.id, [item]);
    }
  }
  /** @type {Entry[]} */
  const entries = [];
  /** @type {Set<string>} */
  const done = new Set();
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const id = typeof item.id === 'string' ? item.id : null;
    if (id && done.has(id)) continue;
    const shape = REGION_TYPES[item.type];
    if (shape) {
      // The geometry item first, then the others with its id.
      const group = id ? [item, ...(attached.get(id) ?? [])] : [item];
      if (id) done.add(id);
      const region = regionFromItems(group, controls);
      entries.push(region);
      if (id === region.id) written.set(region, group.map((i) => Object.freeze(i)));
      continue;
    }
    if (id && regionIds.has(id)) continue; // belongs to a region, taken with it
    entries.push({ kind: 'item', id: id ?? newId(), item: Object.freeze(item) });
  }
  return entries;
}

/**
 * @param {ResultItem[]} group geometry item first
 * @param {Map<string, ControlTag>} controls
 * @returns {Region}
 */
function regionFromItems(group, controls) {
  const [item, ...others] = group;
  const shape = REGION_TYPES[item.type];
  const value = item.value ?? {};
  let labels = shape.labelsKey ? stringList(value[shape.labelsKey]) : [];
  /** @type {string | null} */
  let labelControl = null;
  const labelsItem = others.find((i) => i.type === 'labels');
  if (labelsItem) {
    labels = stringList(labelsItem.value?.labels);
    labelControl = labelsItem.from_name;
  }
  const points = Array.isArray(value.points)
    ? value.points.map((/** @type {unknown[]} */ p) => /** @type {[number, number]} */ ([finite(p?.[0]), finite(p?.[1])]))
    : [];
  void controls;
  return {
    kind: shape.kind,
    id: typeof item.id === 'string' ? item.id : newId(),
    control: item.from_name,
    object: item.to_name,
    labels,
    labelControl,
    x: finite(value.x),
    y: finite(value.y),
    width: finite(value.width),
    height: finite(value.height),
    rotation: finite(value.rotation),
    points,
    closed: value.closed !== false,
    items: group,
  };
}

/**
 * The value keys of a region's geometry.
 * @param {Region} region
 * @returns {Record<string, unknown>}
 */
function geometry(region) {
  if (region.kind === 'rect') {
    return { x: region.x, y: region.y, width: region.width, height: region.height, rotation: region.rotation };
  }
  return { points: region.points.map((p) => [p[0], p[1]]), closed: true };
}

/**
 * Write a region as result items: its geometry item, a `labels` item when
 * its labels come from a separate `Labels` control, and its per-region items
 * with the geometry brought up to date. Unknown keys of the items it was
 * read from are kept.
 * @param {Region} region
 * @param {Map<string, [number, number]>} sizes natural size per image object name
 * @param {Map<string, ControlTag>} controls
 * @returns {ResultItem[]}
 */
export function writeRegion(region, sizes, controls) {
  const cached = written.get(region);
  if (cached) return cached;
  const size = sizes.get(region.object);
  const control = controls.get(region.control);
  const type =
    (control && CONTROL_RESULT_TYPE[control.kind]) ??
    region.items[0]?.type ??
    (region.kind === 'rect' ? 'rectangle' : 'polygon');
  const shape = REGION_TYPES[type];
  const base = region.items[0] ?? {};
  const geo = geometry(region);
  /** @type {Record<string, any>} */
  const value = { ...(base.type === type ? base.value : {}), ...geo };
  for (const key of ['rectanglelabels', 'polygonlabels']) delete value[key];
  if (shape.labelsKey && !region.labelControl) value[shape.labelsKey] = [...region.labels];
  /** @type {Record<string, any>} */
  const sizeKeys = size ? { original_width: size[0], original_height: size[1] } : {};
  /** @type {ResultItem[]} */
  const out = [
    {
      ...base,
      id: region.id,
      from_name: region.control,
      to_name: region.object,
      type,
      ...sizeKeys,
      image_rotation: base.image_rotation ?? 0,
      value,
    },
  ];
  const oldLabels = region.items.find((i) => i.type === 'labels');
  if (region.labelControl && region.labels.length) {
    out.push({
      ...(oldLabels ?? {}),
      id: region.id,
      from_name: region.labelControl,
      to_name: region.object,
      type: 'labels',
      ...sizeKeys,
      image_rotation: oldLabels?.image_rotation ?? 0,
      value: { ...(oldLabels?.value ?? {}), ...geo, labels: [...region.labels] },
    });
  }
  for (const item of region.items.slice(1)) {
    if (item.type === 'labels') continue;
    out.push({ ...item, id: region.id, to_name: region.object, ...sizeKeys, value: { ...item.value, ...geo } });
  }
  for (const item of out) Object.freeze(item);
  written.set(region, out);
  return out;
}

/**
 * The result items of a state, in order.
 * @param {readonly Entry[]} entries
 * @param {Map<string, [number, number]>} sizes
 * @param {Map<string, ControlTag>} controls
 * @returns {ResultItem[]}
 */
export function writeResult(entries, sizes, controls) {
  /** @type {ResultItem[]} */
  const out = [];
  for (const entry of entries) {
    if (entry.kind === 'item') out.push(entry.item);
    else for (const item of writeRegion(entry, sizes, controls)) out.push(item);
  }
  return out;
}

/**
 * A copy of `region` with `changes`, a new object (so history and caches see
 * the change).
 * @param {Region} region
 * @param {Partial<Region>} changes
 * @returns {Region}
 */
export function changed(region, changes) {
  return { ...region, ...changes };
}

/**
 * Undo history of whole states. A step may be merged into the previous one
 * when both carry the same merge key within a short time (typing in a text
 * area is one step, not one per key).
 */
export class History {
  /** @param {readonly Entry[]} initial */
  constructor(initial) {
    /** @type {(readonly Entry[])[]} */
    this.states = [initial];
    this.index = 0;
    /** @type {string | null} */
    this.lastMergeKey = null;
    this.lastTime = 0;
    this.limit = 500;
  }

  get current() {
    return this.states[this.index];
  }

  /**
   * @param {readonly Entry[]} state
   * @param {string | null} [mergeKey]
   */
  push(state, mergeKey = null) {
    const now = performance.now();
    const merge =
      mergeKey !== null &&
      mergeKey === this.lastMergeKey &&
      now - this.lastTime < 1500 &&
      this.index === this.states.length - 1 &&
      this.index > 0;
    this.states.length = this.index + 1;
    if (merge) {
      this.states[this.index] = state;
    } else {
      this.states.push(state);
      if (this.states.length > this.limit) this.states.shift();
      this.index = this.states.length - 1;
    }
    this.lastMergeKey = mergeKey;
    this.lastTime = now;
  }

  /** Start again from `state`, forgetting the history (setResult). @param {readonly Entry[]} state */
  reset(state) {
    this.states = [state];
    this.index = 0;
    this.lastMergeKey = null;
  }

  canUndo() {
    return this.index > 0;
  }

  canRedo() {
    return this.index < this.states.length - 1;
  }

  undo() {
    if (this.canUndo()) this.index--;
    this.lastMergeKey = null;
    return this.current;
  }

  redo() {
    if (this.canRedo()) this.index++;
    this.lastMergeKey = null;
    return this.current;
  }
}
