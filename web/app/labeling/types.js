// Shared JSDoc types of the labeling workspace. This module exports nothing
// at run time; other modules import its types with `import('./types.js')`.

/**
 * One `Label` or `Choice` of a control, as the server's schema crate sends it.
 * `path`: a Taxonomy choice's ancestors, outermost first (absent at the top level and elsewhere).
 * @typedef {{value: string, background: string | null, hotkey: string | null, alias: string | null, line?: number, column?: number, path?: string[]}} LabelDef
 */

/**
 * @typedef {'RectangleLabels' | 'PolygonLabels' | 'Labels' | 'Choices' | 'TextArea' | 'Rating' | 'Taxonomy' | 'Rectangle' | 'Polygon'
 *   | 'KeyPointLabels' | 'KeyPoint' | 'EllipseLabels' | 'Ellipse' | 'PolyLineLabels' | 'PolyLine'
 *   | 'BrushLabels' | 'Brush' | 'Number' | 'VideoRectangle' | 'VideoPolygon' | 'VideoPolyLine' | 'VideoKeyPointLabels' | 'VideoBrush'
 *   | 'TimelineLabels' | 'Pairwise' | 'Ranker' | 'ParagraphLabels' | 'HyperTextLabels'} ControlKind
 */

/**
 * The `<Skeleton>` of a `KeyPointLabels` control (a Gloss extension): the
 * control's labels are its joints, in order; `edges` join two of them by value.
 * @typedef {{value: string, edges: [string, string][], line?: number, column?: number}} Skeleton
 */

/**
 * @typedef {{
 *   kind: ControlKind,
 *   name: string,
 *   to_names: string[],
 *   labels: LabelDef[],
 *   labels_from: string | null,
 *   choice: 'single' | 'single-radio' | 'multiple' | null,
 *   per_region: boolean,
 *   required: boolean,
 *   skeleton?: Skeleton | null,
 *   buckets?: {name: string, title: string | null, default: boolean}[],
 *   attributes: Record<string, string>,
 *   line?: number,
 *   column?: number,
 * }} ControlTag
 */

/**
 * @typedef {{kind: 'Image' | 'Text' | 'Video' | 'Audio' | 'List' | 'Chat' | 'Paragraphs' | 'HyperText', name: string, value: string, attributes: Record<string, string>, line?: number, column?: number}} ObjectTag
 */

/**
 * @typedef {{node: 'view', attributes: Record<string, string>, children: LayoutNode[]}
 *   | {node: 'header', value: string}
 *   | {node: 'style', css: string}
 *   | {node: 'object', name: string}
 *   | {node: 'control', name: string}
 *   | {node: 'unsupported', tag: string, children: LayoutNode[]}} LayoutNode
 */

/**
 * @typedef {{objects: ObjectTag[], controls: ControlTag[], unsupported?: unknown[], layout: LayoutNode[], relations?: {labels: LabelDef[], multiple: boolean}}} LabelConfig
 */

/**
 * A Label Studio result item. Only the keys the workspace reads are typed;
 * every other key is kept as it came.
 * @typedef {{
 *   id?: string,
 *   from_name: string,
 *   to_name: string,
 *   type: string,
 *   value: Record<string, any>,
 *   original_width?: number,
 *   original_height?: number,
 *   image_rotation?: number,
 *   [key: string]: any,
 * }} ResultItem
 */

/**
 * A region on an image, immutable: every edit makes a new object, so the
 * undo history can keep whole states as arrays of references.
 * Coordinates are percent of the image's original size, as results carry them,
 * so untouched regions round-trip exactly.
 * @typedef {{
 *   kind: RegionKind,
 *   id: string,
 *   control: string,
 *   object: string,
 *   labels: string[],
 *   labelControl: string | null,
 *   x: number, y: number, width: number, height: number, rotation: number,
 *   radiusX: number, radiusY: number,
 *   points: [number, number][],
 *   closed: boolean,
 *   occluded: boolean,
 *   joints: Region[],
 *   mask: import('./mask.js').Mask | null,
 *   items: ResultItem[],
 *   track?: Track,
 *   segment?: {start: number, end: number, channel: number},
 * }} Region
 * `control` is the geometry control (`RectangleLabels`, `Rectangle`, ...);
 * `labelControl` a separate `Labels` control whose labels the region carries
 * (Label Studio's `Rectangle` + `Labels` pairing), else null.
 * Per kind: a `rect` is `x`, `y` (top-left corner, its rotation pivot),
 * `width`, `height`, `rotation`; an `ellipse` is `x`, `y` (centre), `radiusX`
 * (percent of the image width), `radiusY` (of its height), `rotation`;
 * `polygon` and `polyline` are `points`; a `point` is `x`, `y`, `width` (the
 * size it is drawn at) and `occluded`; a `skeleton` is one instance of a
 * skeleton, its `id` the `parentID` its `joints` (points, one label each) share;
 * a `mask` (a brush region, one instance) is its `mask`, in pixels of its grid.
 * `items` are the result items the region was read from (geometry item first),
 * kept so unknown keys and per-region results survive (a skeleton's are its joints').
 * A `track` is an object followed through a video (`videorectangle`,
 * `videopolygon`, `videopolyline`, `videokeypointlabels`): its shapes are the
 * keyframes of `track.sequence`, not the fields above.
 * A `segment` is a stretch of a sound (`Labels` on an `Audio`): `segment`
 * gives its `start` and `end` in seconds and its `channel`; `control` is the
 * Labels control, and `items` its `labels` item then its per-region items.
 */

/** @typedef {'rect' | 'polygon' | 'polyline' | 'ellipse' | 'point' | 'skeleton' | 'mask' | 'track' | 'segment'} RegionKind */

/**
 * One keyframe of a video track, as Label Studio's `sequence` items: `frame`
 * 1-based, the shape in percent of the video frame, `time` the frame's time
 * in seconds; `enabled: false` hides the object from this frame to the next
 * keyframe; `occluded` is Gloss's. The shape: a box track's `x`, `y`,
 * `width`, `height`, `rotation`; a polygon or polyline track's `points`; a
 * skeleton track's `joints`; a mask track's `format` and `counts`. Other keys are kept as they came.
 * @typedef {{
 *   frame: number, enabled: boolean, time: number, occluded?: boolean,
 *   points?: [number, number][], joints?: Joint[], [key: string]: any,
 * }} Keyframe
 */

/** A joint of a skeleton keyframe: a label of the VideoKeyPointLabels control, its place, `visibility: 'occluded'` when hidden. @typedef {{label: string, x: number, y: number, visibility?: string}} Joint */

/** What a track follows. @typedef {'rect' | 'polygon' | 'polyline' | 'skeleton' | 'mask'} TrackShape */

/**
 * A track's shape, keyframes (by frame, ascending) and the video's length they were made on.
 * @typedef {{shape: TrackShape, sequence: readonly Keyframe[], framesCount: number, duration: number}} Track
 */

/**
 * A non-region result: a whole-object classification or text, or an item
 * the workspace does not edit (kept as it came).
 * @typedef {{kind: 'item', id: string, item: ResultItem}} ItemEntry
 */

/** @typedef {Region | ItemEntry} Entry */

/**
 * Everything an annotation holds; one undo step is one State.
 * @typedef {{entries: Entry[]}} State
 */

export {};
