// The annotation model: result items read into regions and other entries,
// written back to result items, and the undo history of whole states.
// States are frozen arrays of immutable entries, so an undo step costs one
// array of references, whatever the number of regions.

import { maskFromValue, maskValue, MASK_KEYS } from './mask.js';

/** @typedef {import('./types.js').ResultItem} ResultItem */
/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ItemEntry} ItemEntry */
/** @typedef {import('./types.js').LabelConfig} LabelConfig */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').RegionKind} RegionKind */
/** @typedef {'rect' | 'polygon' | 'ellipse' | 'polyline' | 'point' | 'brush'} ShapeTool */

import { readTrack, trackValue } from './video-tracks.js';

/** The result type of a video track (a box followed through a video). */
export const TRACK_TYPE = 'videorectangle';
/** The result type of each shape a track follows, and back. */
const TRACK_TYPES = /** @type {Record<import('./types.js').TrackShape, string>} */ ({ rect: TRACK_TYPE, polygon: 'videopolygon', polyline: 'videopolyline', skeleton: 'videokeypointlabels', mask: 'videobrush' });
const TRACK_SHAPES = /** @type {Record<string, import('./types.js').TrackShape>} */ (Object.fromEntries(Object.entries(TRACK_TYPES).map(([shape, type]) => [type, shape])));

/**
 * Result types that draw a region: the region kind, and the value key
 * holding their labels (null for the unlabelled variants).
 * @type {Record<string, {kind: Exclude<RegionKind, 'skeleton'>, labelsKey: string | null}>}
 */
export const REGION_TYPES = {
  rectanglelabels: { kind: 'rect', labelsKey: 'rectanglelabels' },
  rectangle: { kind: 'rect', labelsKey: null },
  polygonlabels: { kind: 'polygon', labelsKey: 'polygonlabels' },
  polygon: { kind: 'polygon', labelsKey: null },
  ellipselabels: { kind: 'ellipse', labelsKey: 'ellipselabels' },
  ellipse: { kind: 'ellipse', labelsKey: null },
  polylinelabels: { kind: 'polyline', labelsKey: 'polylinelabels' },
  polyline: { kind: 'polyline', labelsKey: null },
  keypointlabels: { kind: 'point', labelsKey: 'keypointlabels' },
  keypoint: { kind: 'point', labelsKey: null },
  brushlabels: { kind: 'mask', labelsKey: 'brushlabels' },
  brush: { kind: 'mask', labelsKey: null },
};

/** Every value key that holds a region's labels. */
const LABEL_KEYS = Object.values(REGION_TYPES).flatMap((t) => (t.labelsKey ? [t.labelsKey] : []));

/**
 * The controls that draw regions: the tool that draws them, the result type
 * they produce, and whether they carry their own labels (the bare ones take
 * a `Labels` control's). A `KeyPointLabels` with a skeleton draws with the
 * skeleton tool instead (see `toolOf`).
 * @type {Record<string, {tool: ShapeTool, type: string, labelled: boolean}>}
 */
export const SHAPE_CONTROLS = {
  RectangleLabels: { tool: 'rect', type: 'rectanglelabels', labelled: true },
  Rectangle: { tool: 'rect', type: 'rectangle', labelled: false },
  PolygonLabels: { tool: 'polygon', type: 'polygonlabels', labelled: true },
  Polygon: { tool: 'polygon', type: 'polygon', labelled: false },
  EllipseLabels: { tool: 'ellipse', type: 'ellipselabels', labelled: true },
  Ellipse: { tool: 'ellipse', type: 'ellipse', labelled: false },
  PolyLineLabels: { tool: 'polyline', type: 'polylinelabels', labelled: true },
  PolyLine: { tool: 'polyline', type: 'polyline', labelled: false },
  KeyPointLabels: { tool: 'point', type: 'keypointlabels', labelled: true },
  KeyPoint: { tool: 'point', type: 'keypoint', labelled: false },
  BrushLabels: { tool: 'brush', type: 'brushlabels', labelled: true },
  Brush: { tool: 'brush', type: 'brush', labelled: false },
};

/** The result type each region-drawing control produces. */
export const CONTROL_RESULT_TYPE = /** @type {Record<string, string>} */ (
  Object.fromEntries(Object.entries(SHAPE_CONTROLS).map(([kind, shape]) => [kind, shape.type]))
);

/**
 * The tool that draws a control's regions, or null for controls that draw none.
 * @param {ControlTag} control
 * @returns {ShapeTool | 'skeleton' | null}
 */
export function toolOf(control) {
  if (control.skeleton) return 'skeleton';
  // A video's shapes are drawn on a frame as image shapes are.
  if (control.kind === 'VideoRectangle') return 'rect';
  if (control.kind === 'VideoPolygon') return 'polygon';
  if (control.kind === 'VideoPolyLine') return 'polyline';
  if (control.kind === 'VideoBrush') return 'brush';
  return SHAPE_CONTROLS[control.kind]?.tool ?? null;
}

/** The result type a region of each kind is written as when its control is unknown. */
const FALLBACK_TYPE = { rect: 'rectangle', polygon: 'polygon', ellipse: 'ellipse', polyline: 'polyline', point: 'keypoint', skeleton: 'keypointlabels', mask: 'brush', track: TRACK_TYPE, segment: 'labels' };

/** Size new points are drawn at, percent of the image width (Label Studio's `width`). */
export const POINT_SIZE = 0.5;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A random 10-character id, as Label Studio makes for regions. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let id = '';
  for (const byte of bytes) id += ID_ALPHABET[byte & 63];
  return id;
}

/**
 * A new region: `fields` over empty geometry and a new id.
 * @param {Pick<Region, 'kind' | 'control' | 'object' | 'labels' | 'labelControl'> & Partial<Region>} fields
 * @returns {Region}
 */
export function newRegion(fields) {
  return {
    id: newId(), x: 0, y: 0, width: 0, height: 0, rotation: 0, radiusX: 0, radiusY: 0,
    points: [], closed: true, occluded: false, joints: [], mask: null, items: [], ...fields,
  };
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
 * plus `labels` and per-region items sharing its id), the points of one
 * skeleton instance grouped by their `parentID` into one region, everything
 * else kept.
 * @param {ResultItem[]} items
 * @param {LabelConfig} config
 * @returns {Entry[]}
 */
export function readResult(items, config) {
  const controls = new Map(config.controls.map((c) => [c.name, c]));
  const sounds = new Set(config.objects.filter((o) => o.kind === 'Audio').map((o) => o.name));
  const attached = attachedItems(items, sounds);
  /** @type {Entry[]} */
  const entries = [];
  /** @type {Set<string>} */
  const done = new Set();
  /** Skeleton instances by parentID: where they go in `entries`, and their joints. @type {Map<string, {index: number, joints: Region[]}>} */
  const instances = new Map();
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const id = typeof item.id === 'string' ? item.id : null;
    if (id && done.has(id)) continue;
    if (Object.hasOwn(TRACK_SHAPES, item.type)) {
      if (id) done.add(id);
      entries.push(trackFromItem(item, config));
      continue;
    }
    if (isSegment(item, sounds)) {
      // A time segment of a sound: its labels item, then its per-region items (transcripts).
      if (id) done.add(id);
      const group = id ? [item, ...(attached.get(id) ?? [])] : [item];
      const region = segmentFromItems(group);
      if (id === region.id) written.set(region, group.map((i) => Object.freeze(i)));
      entries.push(region);
      continue;
    }
    if (REGION_TYPES[item.type]) {
      // The geometry item first, then the others with its id.
      const group = id ? [item, ...(attached.get(id) ?? [])] : [item];
      if (id) done.add(id);
      const region = regionFromItems(group);
      if (!region) {
        // A mask that does not decode: kept as it came, not edited.
        for (const kept of group) entries.push({ kind: 'item', id: id ?? newId(), item: Object.freeze(kept) });
        continue;
      }
      if (id === region.id) written.set(region, group.map((i) => Object.freeze(i)));
      const parent = skeletonParent(item, controls);
      if (!parent) {
        entries.push(region);
        continue;
      }
      let instance = instances.get(parent);
      if (!instance) {
        instance = { index: entries.length, joints: [] };
        instances.set(parent, instance);
        entries.push(region); // a placeholder for the instance, at its first joint
      }
      instance.joints.push(region);
      continue;
    }
    if (id && attached.has(id)) continue; // belongs to a region, taken with it
    entries.push({ kind: 'item', id: id ?? newId(), item: Object.freeze(item) });
  }
  for (const [id, { index, joints }] of instances) entries[index] = skeletonFromJoints(id, joints);
  return entries;
}

/**
 * Whether an item is a time segment of a sound: `labels` on an `Audio`.
 * @param {ResultItem} item @param {Set<string>} sounds the Audio objects' names
 */
function isSegment(item, sounds) {
  return item.type === 'labels' && sounds.has(item.to_name);
}

/**
 * Items that are not region geometry but share a region's id (labels,
 * per-region results), by that id. A sound's segment is its `labels` item.
 * @param {ResultItem[]} items @param {Set<string>} sounds the Audio objects' names
 * @returns {Map<string, ResultItem[]>}
 */
function attachedItems(items, sounds) {
  /** @type {Set<string>} */
  const regionIds = new Set();
  /** @type {Set<ResultItem>} */
  const geometryItems = new Set();
  for (const item of items) {
    if (item && typeof item.id === 'string' && (REGION_TYPES[item.type] || isSegment(item, sounds)) && !regionIds.has(item.id)) {
      regionIds.add(item.id);
      geometryItems.add(item);
    }
  }
  /** @type {Map<string, ResultItem[]>} */
  const attached = new Map();
  for (const item of items) {
    if (item && typeof item.id === 'string' && !REGION_TYPES[item.type] && !geometryItems.has(item) && regionIds.has(item.id)) {
      const group = attached.get(item.id);
      if (group) group.push(item);
      else attached.set(item.id, [item]);
    }
  }
  return attached;
}

/**
 * The skeleton instance a point belongs to: its `parentID`, when its control
 * has a skeleton. Other points (Label Studio's) stay single points.
 * @param {ResultItem} item @param {Map<string, ControlTag>} controls
 */
function skeletonParent(item, controls) {
  const parent = item.parentID;
  if (typeof parent !== 'string' || !parent || REGION_TYPES[item.type].kind !== 'point') return null;
  return controls.get(item.from_name)?.skeleton ? parent : null;
}

/**
 * A skeleton instance read from its joints; untouched, it writes back the
 * joints' items as they came.
 * @param {string} id @param {Region[]} joints
 */
function skeletonFromJoints(id, joints) {
  const region = newRegion({ kind: 'skeleton', id, control: joints[0].control, object: joints[0].object, labels: [], labelControl: null, joints });
  const items = joints.map((joint) => written.get(joint));
  if (items.every((i) => i !== undefined)) written.set(region, items.flat());
  return region;
}

/**
 * A video track; untouched, it writes back the item as it came. Its labels
 * (`value.labels`) are those of the video's `Labels` control.
 * @param {ResultItem} item @param {LabelConfig} config
 */
function trackFromItem(item, config) {
  const value = item.value ?? {};
  const labels = config.controls.find((c) => c.kind === 'Labels' && c.to_names.includes(item.to_name));
  const region = newRegion({
    kind: 'track',
    id: typeof item.id === 'string' ? item.id : newId(),
    control: item.from_name,
    object: item.to_name,
    labels: stringList(value.labels),
    labelControl: labels?.name ?? null,
    items: [item],
    track: readTrack(value, TRACK_SHAPES[item.type]),
  });
  if (region.id === item.id) written.set(region, [Object.freeze(item)]);
  return region;
}

/**
 * A time segment of a sound, from its `labels` item (times in seconds) and
 * the per-region items sharing its id. Untouched, it writes back as it came.
 * @param {ResultItem[]} group the labels item first
 * @returns {Region}
 */
function segmentFromItems(group) {
  const item = group[0];
  const value = item.value ?? {};
  const start = Math.max(0, finite(value.start));
  return newRegion({
    kind: 'segment',
    id: typeof item.id === 'string' ? item.id : newId(),
    control: item.from_name,
    object: item.to_name,
    labels: stringList(value.labels),
    labelControl: null,
    items: group,
    segment: { start, end: Math.max(start, finite(value.end)), channel: Math.max(0, Math.trunc(finite(value.channel))) },
  });
}

/**
 * @param {ResultItem[]} group geometry item first
 * @returns {Region | null} null for a mask that does not decode at its size
 */
function regionFromItems(group) {
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
  const isPoint = shape.kind === 'point';
  let mask = null;
  if (shape.kind === 'mask') {
    try {
      mask = maskFromValue(value, Number(item.original_width), Number(item.original_height));
    } catch {
      return null;
    }
  }
  return newRegion({
    kind: shape.kind,
    id: typeof item.id === 'string' ? item.id : newId(),
    control: item.from_name,
    object: item.to_name,
    labels,
    labelControl,
    x: finite(value.x),
    y: finite(value.y),
    // A point's width is the size it is drawn at; Label Studio's may be missing.
    width: isPoint && !(Number(value.width) > 0) ? POINT_SIZE : finite(value.width),
    height: finite(value.height),
    rotation: finite(value.rotation),
    radiusX: finite(value.radiusX),
    radiusY: finite(value.radiusY),
    points,
    closed: value.closed !== false,
    occluded: isPoint && value.visibility === 'occluded',
    mask,
    items: group,
  });
}

/**
 * The value keys of a region's geometry.
 * @param {Region} region
 * @returns {Record<string, unknown>}
 */
function geometry(region) {
  switch (region.kind) {
    case 'rect':
      return { x: region.x, y: region.y, width: region.width, height: region.height, rotation: region.rotation };
    case 'ellipse':
      return { x: region.x, y: region.y, radiusX: region.radiusX, radiusY: region.radiusY, rotation: region.rotation };
    case 'point':
      return { x: region.x, y: region.y, width: region.width };
    case 'polyline':
      return { points: region.points.map((p) => [p[0], p[1]]) };
    case 'mask':
      return region.mask ? maskValue(region.mask) : {};
    case 'segment':
      return { start: region.segment?.start ?? 0, end: region.segment?.end ?? 0, channel: region.segment?.channel ?? 0 };
    default:
      return { points: region.points.map((p) => [p[0], p[1]]), closed: true };
  }
}

/**
 * Write a region as result items: its geometry item, a `labels` item when
 * its labels come from a separate `Labels` control, and its per-region items
 * with the geometry brought up to date. Unknown keys of the items it was
 * read from are kept. A skeleton writes its joints.
 * @param {Region} region
 * @param {Map<string, [number, number]>} sizes natural size per image object name
 * @param {Map<string, ControlTag>} controls
 * @returns {ResultItem[]}
 */
export function writeRegion(region, sizes, controls) {
  const cached = written.get(region);
  if (cached) return cached;
  const out = region.kind === 'skeleton' ? writeSkeleton(region, sizes, controls)
    : region.kind === 'track' ? [writeTrack(region, sizes)]
      : region.kind === 'segment' ? writeSegment(region)
        : writeShape(region, sizes, controls);
  for (const item of out) Object.freeze(item);
  written.set(region, out);
  return out;
}

/**
 * @param {Region} region not a skeleton
 * @param {Map<string, [number, number]>} sizes @param {Map<string, ControlTag>} controls
 * @returns {ResultItem[]}
 */
function writeShape(region, sizes, controls) {
  // A mask's pixel grid is its size, whatever the image's.
  const size = region.mask ? [region.mask.width, region.mask.height] : sizes.get(region.object);
  const control = controls.get(region.control);
  const type = (control && CONTROL_RESULT_TYPE[control.kind]) ?? region.items[0]?.type ?? FALLBACK_TYPE[region.kind];
  const shape = REGION_TYPES[type];
  const base = region.items[0] ?? {};
  const geo = geometry(region);
  /** @type {Record<string, any>} */
  const value = { ...(base.type === type ? base.value : {}) };
  // An edited Label Studio mask is written as coco_rle, without its old rle.
  if (region.kind === 'mask') for (const key of MASK_KEYS) delete value[key];
  Object.assign(value, geo);
  for (const key of LABEL_KEYS) delete value[key];
  if (shape.labelsKey && !region.labelControl) value[shape.labelsKey] = [...region.labels];
  if (region.kind === 'point') setVisibility(value, region.occluded);
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
      value: { ...attachedValue(oldLabels?.value ?? {}, region, geo), labels: [...region.labels] },
    });
  }
  for (const item of region.items.slice(1)) {
    if (item.type === 'labels') continue;
    out.push({ ...item, id: region.id, to_name: region.object, ...sizeKeys, value: attachedValue(item.value, region, geo) });
  }
  return out;
}

/**
 * The value of a region's `labels` or per-region item: its own keys and the
 * region's shape, as Label Studio writes them; but not a mask, which may be
 * big and which the geometry item holds.
 * @param {Record<string, any>} value @param {Region} region @param {Record<string, unknown>} geo
 */
function attachedValue(value, region, geo) {
  if (region.kind !== 'mask') return { ...value, ...geo };
  const out = { ...value };
  for (const key of MASK_KEYS) delete out[key];
  return out;
}

/**
 * A sound's segment: its `labels` item (Label Studio's audio region: `start`,
 * `end` in seconds, `channel`, `labels`), then its per-region items (a
 * transcript's `textarea`, …) with the same times, as Label Studio writes
 * them. Other keys of the items it was read from are kept.
 * @param {Region} region a segment
 * @returns {ResultItem[]}
 */
function writeSegment(region) {
  const geo = geometry(region);
  const base = region.items[0] ?? {};
  /** @type {ResultItem[]} */
  const out = [{
    ...base, id: region.id, from_name: region.control, to_name: region.object, type: 'labels',
    value: { ...(base.value ?? {}), ...geo, labels: [...region.labels] },
  }];
  for (const item of region.items.slice(1)) out.push({ ...item, id: region.id, to_name: region.object, value: { ...item.value, ...geo } });
  return out;
}

/**
 * A track's item (`videorectangle`, …), keeping the other keys of the one it
 * was read from; a mask track has its video's size, its masks' grid.
 * @param {Region} region a track @param {Map<string, [number, number]>} sizes
 * @returns {ResultItem}
 */
function writeTrack(region, sizes) {
  const base = region.items[0] ?? {};
  const track = region.track ?? { shape: 'rect', sequence: [], framesCount: 0, duration: 0 };
  /** @type {ResultItem} */
  const item = { ...base, id: region.id, from_name: region.control, to_name: region.object, type: TRACK_TYPES[track.shape], value: trackValue(track, region.labels, base.value) };
  const size = sizes.get(region.object);
  if (track.shape === 'mask' && size) [item.original_width, item.original_height] = size;
  return item;
}

/**
 * Gloss's `visibility` of a point: `occluded`, or visible (an explicit
 * `visible` read from a result stays).
 * @param {Record<string, any>} value @param {boolean} occluded
 */
function setVisibility(value, occluded) {
  if (occluded) value.visibility = 'occluded';
  else if (value.visibility === 'occluded') delete value.visibility;
}

/**
 * A skeleton's joints, each a point whose result carries the instance's id
 * as its `parentID`.
 * @param {Region} region
 * @param {Map<string, [number, number]>} sizes @param {Map<string, ControlTag>} controls
 * @returns {ResultItem[]}
 */
function writeSkeleton(region, sizes, controls) {
  return region.joints.flatMap((joint) => {
    const [point, ...attachedToJoint] = writeRegion(joint, sizes, controls);
    return [point.parentID === region.id ? point : { ...point, parentID: region.id }, ...attachedToJoint];
  });
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
