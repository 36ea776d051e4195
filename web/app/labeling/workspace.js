// The labeling workspace: renders a label config's layout for one task and
// edits its result (boxes, ellipses, polygons, polylines, points, skeletons,
// brush masks, choices, text, numbers) with undo and redo.
//
// Interface (the page builds around it):
//
//   const ws = await createWorkspace(host, {config, data, result, readOnly, onChange, extraKeys});
//   ws.getResult()      the result items now (frozen objects: copy before changing them)
//   ws.setResult(items) replace the result and forget the history (no onChange)
//   ws.undo(), ws.redo(), ws.canUndo(), ws.canRedo()
//   ws.keyHandler(e)    call from the page's keydown listener; true when the workspace used the key
//                       (it has then called e.preventDefault())
//   ws.waiting()        true while a chat waits for the model's reply (submit then would miss it)
//   ws.destroy()
//   ws.debug            views and editors, for tests and the benchmark only
//
// `renderMarkdown(texts)` (optional) gives the sanitized HTML of Markdown
// texts (the page asks the server); LLM prompts and responses are shown
// with it, or as plain text without it.
//
// `extraKeys` ([key, what it does][]) are the page's own keys, listed in the
// keyboard map (`?`) after the workspace's. `preloadImage(url)` decodes an
// image ahead (the next task's) into the cache createWorkspace reads from.
// The full key list is KEYMAP_HELP below and in the `?` overlay.

import { imageLevels, preloadImage } from './image-cache.js';
import { ImageEditor, renderStats } from './editor.js';
import { readResult, writeResult, writeRegion, History, changed, newId, toolOf, SHAPE_CONTROLS, CONTROL_RESULT_TYPE } from './model.js';
import { labelsPanel, choicesPanel, textAreaPanel, numberPanel, ratingPanel, taxonomyPanel, regionList, regionAttributes, keymapOverlay, FILTER_THRESHOLD } from './panels.js';
import { keyName, keyLabel, assignHotkeys } from './keymap.js';
import { el, button } from './dom.js';
import { clamp, regionBounds } from './geometry.js';
import { isMaskTool } from './brush.js';
import { loadVideos, VideoView, VIDEO_MOUSE_HELP } from './video.js';
import { TextView } from './text.js';
import { AudioView, AUDIO_HELP, formatTime } from './audio.js';
import { HyperTextView } from './hypertext.js';
import { LlmView, markdownTexts, isMarkdownText, isPerItem } from './llm.js';
import { ChatView, CHAT_HELP, isMessageControl } from './chat.js';

export { preloadImage, imageLevels, renderStats, keymapOverlay };

/** @typedef {import('./types.js').LabelConfig} LabelConfig */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').LabelDef} LabelDef */
/** @typedef {import('./types.js').LayoutNode} LayoutNode */
/** @typedef {import('./types.js').ResultItem} ResultItem */
/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ItemEntry} ItemEntry */
/** @typedef {import('./editor.js').Tool} Tool */

/**
 * @typedef {{
 *   getResult(): ResultItem[],
 *   setResult(result: ResultItem[]): void,
 *   undo(): void,
 *   redo(): void,
 *   canUndo(): boolean,
 *   canRedo(): boolean,
 *   destroy(): void,
 *   keyHandler(e: KeyboardEvent): boolean,
 *   waiting(): boolean,
 *   selectedIds: () => string[],
 *   debug: {editors: ImageEditor[], selection: Set<string>, tool: () => Tool, videos: VideoView[], sounds: AudioView[], chats: ChatView[]},
 * }} Workspace
 */

/**
 * @typedef {{
 *   config: LabelConfig,
 *   data: Record<string, unknown>,
 *   result: ResultItem[],
 *   readOnly?: boolean,
 *   regionColor?: (id: string) => string | null,
 *   onChange?: (result: ResultItem[]) => void,
 *   extraKeys?: [string, string][],
 *   renderMarkdown?: (texts: string[]) => Promise<string[]>,
 *   chat?: import('./chat.js').ChatBackend | null,
 *   sanitizeHtml?: (texts: string[]) => Promise<string[]>,
 * }} WorkspaceOptions
 */

/** The drawing tools: name, button text, key. */
const TOOLS = /** @type {[Tool, string, string][]} */ ([
  ['select', 'Select', 'v'],
  ['rect', 'Box', 'b'],
  ['polygon', 'Polygon', 'p'],
  ['ellipse', 'Ellipse', 'e'],
  ['polyline', 'Polyline', 'l'],
  ['point', 'Point', 'k'],
  ['skeleton', 'Skeleton', 's'],
  ['brush', 'Brush', 'm'],
  ['eraser', 'Eraser', 'x'],
  ['fill', 'Fill', 'g'],
]);

/** What each region kind is called in the region list. */
const KIND_NAMES = { rect: 'box', polygon: 'polygon', ellipse: 'ellipse', polyline: 'polyline', point: 'point', skeleton: 'skeleton', mask: 'mask', track: 'track', segment: 'segment' };

/** The result type of the controls that give a value: to the object, or with `perRegion` to the selected region. */
const VALUE_TYPES = /** @type {Record<string, string>} */ ({ Choices: 'choices', TextArea: 'textarea', Number: 'number', Rating: 'rating', Taxonomy: 'taxonomy' });

/** Colours for labels without a `background`, distinct on a light theme. */
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#469990', '#800000', '#808000', '#000075'];
const UNLABELLED = '#1f6feb';

/** Mouse gestures, listed in the keyboard map after the keys. */
const MOUSE_HELP = /** @type {[string, string][]} */ ([
  ['Wheel', 'Zoom at the cursor'],
  ['Middle drag / Space+drag', 'Pan'],
  ['Drag on empty image (select tool)', 'Pan'],
  ['Shift+click', 'Add a region to the selection'],
  ['Alt+click a vertex', 'Delete the vertex'],
  ['Click a midpoint / double-click an edge', 'Insert a vertex'],
  ['Double-click (polyline tool)', 'Finish the line'],
  ['Drag (box and ellipse tools)', 'Draw from corner to corner'],
  ['Click a joint / drag a skeleton edge', 'Pick and drag the joint / move the whole skeleton'],
  ['Shift while rotating', 'Snap to 15°'],
  ['Drag (brush tool)', 'Paint into the selected mask, or a new one (Esc first for a new one)'],
  ['Shift+drag (brush tool) / drag (eraser)', 'Erase from the selected mask, or the one under the cursor'],
  ['Click (fill tool) / Shift+click', 'Fill the hole under the cursor in the mask / clear the painted patch'],
]);

/** Brush diameters, image pixels. */
const BRUSH_SIZES = { min: 1, max: 400, initial: 10 };

/** Copied regions, shared by the workspaces of this page; also kept in localStorage. */
/** @type {ResultItem[] | null} */
let clipboard = null;
const CLIPBOARD_KEY = 'gloss.clipboard';

/**
 * Render `options.config` for one task into `host` and let the user edit its result.
 * @param {HTMLElement} host element to render into (it fills it)
 * @param {WorkspaceOptions} options
 * @returns {Promise<Workspace>} after the images loaded and the first frame is drawn
 */
export async function createWorkspace(host, options) {
  const { config, data } = options;
  const readOnly = Boolean(options.readOnly);
  const controls = new Map(config.controls.map((c) => [c.name, c]));
  const objects = new Map(config.objects.map((o) => [o.name, o]));

  // ---- images ----------------------------------------------------------------
  /** @type {Map<string, HTMLImageElement>} */
  const images = new Map();
  /** @type {Map<string, string>} */
  const imageErrors = new Map();
  const videosLoaded = loadVideos(config.objects, data);
  await Promise.all(
    config.objects.filter((o) => o.kind === 'Image').map(async (object) => {
      const url = data[object.value];
      if (typeof url !== 'string' || !url) {
        imageErrors.set(object.name, `No image in the task's "${object.value}" field.`);
        return;
      }
      try {
        images.set(object.name, await preloadImage(url));
      } catch {
        imageErrors.set(object.name, `The image could not be loaded: ${url}`);
      }
    }),
  );
  const { players, errors: videoErrors } = await videosLoaded;
  // Markdown of LLM prompts and responses, rendered by the server in one request.
  /** @type {Map<string, string>} */
  const markdownHtml = new Map();
  const markdownSources = markdownTexts(config, data);
  if (markdownSources.length && options.renderMarkdown) {
    try {
      const rendered = await options.renderMarkdown(markdownSources);
      markdownSources.forEach((text, i) => {
        if (typeof rendered[i] === 'string') markdownHtml.set(text, rendered[i]);
      });
    } catch {
      // Shown as plain text instead.
    }
  }
  /** @type {VideoView[]} */
  const videoViews = [];
  /** Natural size per image (and video) object, for percent conversions and original_width/height. @type {Map<string, [number, number]>} */
  const sizes = new Map([
    ...[...images].map(([name, image]) => /** @type {[string, [number, number]]} */ ([name, [image.naturalWidth, image.naturalHeight]])),
    ...[...players].map(([name, player]) => /** @type {[string, [number, number]]} */ ([name, [player.width, player.height]])),
  ]);

  // ---- labels, colours, hotkeys ------------------------------------------------
  /** @param {ControlTag} control @returns {LabelDef[]} */
  const labelsOf = (control) => {
    if (control.labels.length || !control.labels_from) return control.labels;
    // Options from task data: a list of strings or of {value} objects.
    const raw = data[control.labels_from];
    if (!Array.isArray(raw)) return [];
    return raw
      .map((v) => (typeof v === 'string' ? v : v && typeof v === 'object' && typeof v.value === 'string' ? v.value : null))
      .filter((v) => v !== null)
      .map((value) => ({ value: /** @type {string} */ (value), background: null, hotkey: null, alias: null }));
  };
  /** @type {Map<string, string>} control \0 label → colour */
  const labelColors = new Map();
  for (const control of config.controls) {
    labelsOf(control).forEach((label, index) => {
      const color = label.background || PALETTE[index % PALETTE.length];
      labelColors.set(`${control.name}\u0000${label.value}`, color);
      if (label.alias) labelColors.set(`${control.name}\u0000${label.alias}`, color);
    });
  }
  /** @param {string} controlName @param {string} value */
  const colorOfLabel = (controlName, value) => labelColors.get(`${controlName}\u0000${value}`) ?? UNLABELLED;
  /** A skeleton instance's colour, the same wherever it is drawn: its edges, its row in the list. @param {string} id */
  const instanceColor = (id) => {
    let hash = 0;
    for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
    return PALETTE[hash % PALETTE.length];
  };
  /** @param {Region} region */
  const colorOf = (region) => {
    // A comparison colours regions by how they agree, not by label.
    const override = options.regionColor?.(region.id);
    if (override) return override;
    if (region.kind === 'skeleton') return instanceColor(region.id);
    return region.labels.length ? colorOfLabel(region.labelControl ?? region.control, region.labels[0]) : UNLABELLED;
  };

  const imageObjects = config.objects.filter((o) => o.kind === 'Image' && images.has(o.name));
  /** The brush, eraser and fill paint with the brush controls. @param {Exclude<Tool, 'select'>} tool */
  const toolControls = (tool) => config.controls.filter((c) => toolOf(c) === (isMaskTool(tool) ? 'brush' : tool));
  /** The drawing tools this config has controls for. @type {Set<Tool>} */
  const toolsPresent = new Set(TOOLS.map(([name]) => name).filter((name) => name === 'select' || (imageObjects.length + players.size > 0 && toolControls(name).length > 0)));
  // Skeleton joints are placed in order, not picked by key, so they take no digits.
  // A chat's per-message choices are picked under each reply, not by key.
  const chatObjects = new Set(config.objects.filter((o) => o.kind === 'Chat').map((o) => o.name));
  /**
   * Whether a `<Chat>` is a conversation the annotator holds with the
   * project's model (red teaming): controls label its messages, or the tag
   * says `editable="true"` or names an `llm`, as Label Studio's does.
   * @param {ObjectTag} object
   */
  const isLiveChat = (object) => config.controls.some((c) => isMessageControl(c, new Set([object.name])))
    || object.attributes.editable === 'true' || Boolean(object.attributes.llm);
  const optionControls = config.controls.filter((c) =>
    (c.kind === 'Labels' || c.kind === 'ParagraphLabels' || c.kind === 'HyperTextLabels' || c.kind === 'Choices' || c.kind === 'TimelineLabels' || (SHAPE_CONTROLS[c.kind]?.labelled && !c.skeleton)) && !isMessageControl(c, chatObjects));

  /** Workspace keys; a config hotkey on the same key wins. @type {{key: string, label?: string, what: string, run: (e: KeyboardEvent) => boolean}[]} */
  const commands = [];
  const hotkeys = assignHotkeys(optionControls, labelsOf, new Set());
  /** @type {Map<string, string>} control \0 value → key name */
  const hotkeyOfOption = new Map([...hotkeys].map(([key, o]) => [`${o.control.name}\u0000${o.value}`, key]));

  // ---- state -------------------------------------------------------------------
  const history = new History(Object.freeze(readResult(structuredClone(options.result ?? []), config)));
  /** @type {Set<string>} */
  const selection = new Set();
  /** @type {Set<string>} */
  const hidden = new Set();
  /** @type {Set<string>} */
  const locked = new Set();
  /** The first drawing tool the config has. @type {Tool} */
  let tool = TOOLS.find(([name]) => name !== 'select' && toolsPresent.has(name))?.[0] ?? 'select';
  /** Label picked per control, for new regions. @type {Map<string, string>} */
  const activeLabels = new Map();
  /** The labels control picked last decides which tool control draws. @type {ControlTag | null} */
  let lastPicked = null;
  let spaceHeld = false;
  let brushSize = BRUSH_SIZES.initial;
  /** How opaque masks are drawn (the selected one a little more). */
  let maskOpacity = 0.5;
  let spacePanned = false;
  /** @type {ImageEditor | null} */
  let activeEditor = null;
  /** @type {ResultItem[] | null} */
  let resultCache = null;
  /** @type {readonly Entry[] | null} */
  let resultCacheFor = null;

  const entries = () => history.current;

  const getResult = () => {
    if (resultCacheFor !== history.current || !resultCache) {
      resultCache = writeResult(history.current, sizes, controls);
      resultCacheFor = history.current;
    }
    return resultCache.slice();
  };

  /** @type {ImageEditor[]} */
  const editors = [];
  /** @type {{element: HTMLElement, update: () => void, filter?: HTMLInputElement | null}[]} */
  const panels = [];
  /** The Text objects with spans. @type {TextView[]} */
  const textViews = [];
  /** The Audio objects. @type {AudioView[]} */
  const audioViews = [];
  /** The HyperText objects. @type {HyperTextView[]} */
  const hyperTextViews = [];
  /** The Chat objects (red teaming). @type {ChatView[]} */
  const chatViews = [];
  const chatNames = new Set(config.objects.filter((o) => o.kind === 'Chat').map((o) => o.name));

  const refresh = () => {
    for (const editor of editors) editor.invalidate();
    for (const panel of panels) panel.update();
    undoButton.disabled = !history.canUndo() || readOnly;
    redoButton.disabled = !history.canRedo() || readOnly;
  };

  /** Drop selected, hidden and locked ids that no longer exist. */
  const pruneIds = () => {
    if (!selection.size && !hidden.size && !locked.size) return;
    const ids = new Set(history.current.map((e) => e.id));
    for (const set of [selection, hidden, locked]) for (const id of set) if (!ids.has(id)) set.delete(id);
  };

  const changedResult = () => {
    pruneIds();
    refresh();
    options.onChange?.(getResult());
  };

  /** Record an edit as one undo step. @param {Entry[]} next @param {string | null} [mergeKey] */
  const commit = (next, mergeKey = null) => {
    if (readOnly) return;
    history.push(Object.freeze(next), mergeKey);
    changedResult();
  };

  // LLM prompts, responses, pairwise choices, rankings and per-response ratings.
  const llm = new LlmView(config, data, { entries, commit, readOnly, html: markdownHtml });

  /** @param {string[]} ids */
  const select = (ids) => {
    selection.clear();
    for (const id of ids) selection.add(id);
    for (const editor of editors) editor.selectedVertex = null;
    refresh();
    if (ids.length === 1) list.reveal(ids[0]);
  };

  const selectedRegions = () => /** @type {Region[]} */ (history.current.filter((e) => e.kind !== 'item' && selection.has(e.id)));

  /** @param {Tool} next */
  const setTool = (next) => {
    if (!toolsPresent.has(next)) return false;
    for (const editor of editors) editor.cancelDrawing();
    tool = next;
    for (const [name, b] of toolButtons) b.classList.toggle('gl-on', name === tool);
    return true;
  };

  // ---- labels and classifications ----------------------------------------------
  /** @param {ControlTag} control */
  const activeLabel = (control) => activeLabels.get(control.name) ?? null;

  /** Whether a region's labels come from `control`. @param {Region} region @param {ControlTag} control */
  const labelledBy = (region, control) =>
    control.kind === 'Labels'
      ? region.labelControl === control.name ||
        (!region.labelControl && control.to_names.includes(region.object) && !SHAPE_CONTROLS[controls.get(region.control)?.kind ?? '']?.labelled)
      : region.control === control.name;

  /** @param {ControlTag} control @param {string} value */
  const pickLabel = (control, value) => {
    if (control.kind === 'Choices') {
      toggleChoice(control, value);
      return;
    }
    // Text selected first, then its label's key: the selection becomes a span.
    if (((control.kind === 'Labels' || control.kind === 'ParagraphLabels') && textViews.some((v) => v.labelControls.includes(control) && v.labelSelection(control, value)))
      || (control.kind === 'HyperTextLabels' && hyperTextViews.some((v) => v.labelControls.includes(control) && v.labelSelection(control, value)))) {
      activeLabels.set(control.name, value);
      refresh();
      return;
    }
    if (control.skeleton) {
      pickJoint(value);
      return;
    }
    activeLabels.set(control.name, value);
    if (control.kind === 'TimelineLabels') {
      for (const view of videoViews) if (control.to_names.includes(view.object.name)) view.pressTimelineLabel(control, value);
      refresh();
      return;
    }
    lastPicked = control;
    if (isMaskTool(tool) && (toolOf(control) === 'brush' || control.kind === 'Labels') && !readOnly) {
      // While painting, a label is what the next stroke paints: a selected
      // mask of another label is left, and the stroke starts a new one.
      if (selectedRegions().some((r) => r.kind === 'mask' && !r.labels.includes(value))) select([]);
      setTool('brush');
      refresh();
      return;
    }
    const targets = selectedRegions().filter((r) => labelledBy(r, control) && !locked.has(r.id));
    if (targets.length && !readOnly) {
      const multiple = control.choice === 'multiple';
      const next = history.current.map((e) => {
        if (e.kind === 'item' || !targets.includes(e)) return e;
        let labels = [value];
        if (multiple) {
          labels = e.labels.includes(value) ? e.labels.filter((l) => l !== value) : [...e.labels, value];
          if (!labels.length) labels = e.labels; // never leave a labelled region without a label
        }
        return changed(e, { labels, labelControl: control.kind === 'Labels' ? control.name : e.labelControl });
      });
      commit(next);
      return;
    }
    const drawsWith = toolOf(control);
    if (drawsWith) setTool(drawsWith);
    refresh();
  };

  /**
   * A click on a skeleton's joint in the panel: that joint is placed next,
   * in the instance being placed or in a new one.
   * @param {string} value
   */
  const pickJoint = (value) => {
    if (readOnly) return;
    const drafting = editors.find((e) => e.skeletonDraft);
    if (drafting) drafting.chooseJoint(value);
    else if (setTool('skeleton') && editor()?.startSkeleton()) editor()?.chooseJoint(value);
  };

  /** @param {string} object @param {Exclude<Tool, 'select'>} tool */
  const drawControl = (object, tool) => {
    const candidates = toolControls(tool).filter((c) => c.to_names.includes(object));
    return (lastPicked && candidates.find((c) => c === lastPicked)) ?? candidates[0] ?? null;
  };

  /** @param {ControlTag} control */
  const newLabels = (control) => {
    if (SHAPE_CONTROLS[control.kind]?.labelled) {
      const first = labelsOf(control)[0]?.value;
      const label = activeLabel(control) ?? first;
      return { labels: label ? [label] : [], labelControl: null };
    }
    // A bare Rectangle, Polygon, ... takes the label picked on a Labels control of the same image.
    const labels = config.controls.find((c) => c.kind === 'Labels' && activeLabels.has(c.name) && control.to_names.some((n) => c.to_names.includes(n)));
    const label = labels ? activeLabel(labels) : null;
    return labels && label ? { labels: [label], labelControl: labels.name } : { labels: [], labelControl: null };
  };

  /**
   * The region per-region controls give values to: the one selected region.
   * A skeleton instance has none: no result carries its id, so no item can share it.
   */
  const attributeRegion = () => {
    const regions = selectedRegions();
    return regions.length === 1 && regions[0].kind !== 'skeleton' ? regions[0] : null;
  };

  /**
   * The span picked in a text view on one of the control's objects, if any:
   * per-region controls give it values (Label Studio's per-span results).
   * @param {ControlTag} control
   * @returns {ResultItem | null}
   */
  const pickedSpan = (control) => {
    for (const view of textViews) {
      if (!view.selected || !control.to_names.includes(view.object.name)) continue;
      const entry = history.current.find((e) => e.kind === 'item' && e.id === view.selected && (e.item.type === 'labels' || e.item.type === 'paragraphlabels'));
      if (entry && entry.kind === 'item') return entry.item;
    }
    return null;
  };

  /**
   * Where a Choices, TextArea or Number control keeps its item: on the
   * selected region for per-region controls, else on the object.
   * @param {ControlTag} control
   * @returns {{item: ResultItem | null, region: Region | null, span?: ResultItem} | null} null: no place (per-region, no single region or span selected)
   */
  const controlItem = (control) => {
    const type = VALUE_TYPES[control.kind];
    if (control.per_region) {
      const region = attributeRegion();
      if (region) return { region, item: region.items.slice(1).find((i) => i.from_name === control.name) ?? null };
      // A text span picked in a text view: its per-region results share its id.
      const span = pickedSpan(control);
      if (!span) return null;
      const entry = history.current.find((e) => e.kind === 'item' && e.id === span.id && e.item.from_name === control.name);
      return { region: null, span, item: entry && entry.kind === 'item' ? entry.item : null };
    }
    const entry = history.current.find((e) => e.kind === 'item' && e.item.from_name === control.name && e.item.type === type);
    return { region: null, item: entry && entry.kind === 'item' ? entry.item : null };
  };

  /**
   * Set (or with null, remove) the value of a Choices, TextArea or Number control.
   * @param {ControlTag} control @param {Record<string, unknown> | null} value
   * @param {string | null} mergeKey
   */
  const setControlValue = (control, value, mergeKey) => {
    const place = controlItem(control);
    if (!place || readOnly) return;
    const type = VALUE_TYPES[control.kind];
    const { region, item, span } = place;
    if (span) {
      // A per-span result: the span's id and place, as Label Studio writes it.
      const id = /** @type {string} */ (span.id);
      const next = history.current.filter((e) => !(e.kind === 'item' && e.id === id && e.item.from_name === control.name));
      if (value) {
        const { labels: _labels, paragraphlabels: _paragraphs, ...where } = span.value ?? {};
        /** @type {ResultItem} */
        const written = Object.freeze({
          ...(item ?? { id, from_name: control.name, to_name: span.to_name, type }),
          value: { ...where, ...(item?.value ?? {}), ...value },
        });
        next.push({ kind: 'item', id, item: written });
      }
      commit(next, mergeKey);
      return;
    }
    if (region) {
      if (locked.has(region.id)) return;
      const base = region.items.length ? region.items : [/** @type {ResultItem} */ ({})];
      const others = base.filter((i, index) => index === 0 || i.from_name !== control.name);
      const items = value
        ? [...others, { ...(item ?? { id: region.id, from_name: control.name, to_name: region.object, type }), value: { ...(item?.value ?? {}), ...value } }]
        : others;
      commit(history.current.map((e) => (e === region ? changed(region, { items }) : e)), mergeKey);
      return;
    }
    const index = history.current.findIndex((e) => e.kind === 'item' && e.item === item);
    const next = history.current.slice();
    if (!value) {
      if (index >= 0) next.splice(index, 1);
    } else {
      const id = item?.id ?? newId();
      const written = Object.freeze({
        ...(item ?? { id, from_name: control.name, to_name: control.to_names[0] ?? '', type }),
        value: { ...(item?.value ?? {}), ...value },
      });
      /** @type {ItemEntry} */
      const entry = { kind: 'item', id, item: written };
      if (index >= 0) next[index] = entry;
      else next.push(entry);
    }
    commit(next, mergeKey);
  };

  /** @param {ControlTag} control */
  const choicesOf = (control) => {
    const place = controlItem(control);
    if (!place) return null;
    const chosen = place.item?.value?.choices;
    return Array.isArray(chosen) ? chosen.filter((c) => typeof c === 'string') : [];
  };

  /** @param {ControlTag} control @param {string} value */
  const toggleChoice = (control, value) => {
    const chosen = choicesOf(control);
    if (chosen === null) return;
    let next;
    if (control.choice === 'multiple') next = chosen.includes(value) ? chosen.filter((c) => c !== value) : [...chosen, value];
    else if (control.choice === 'single-radio') next = [value];
    else next = chosen.includes(value) ? [] : [value];
    setControlValue(control, next.length ? { choices: next } : null, null);
  };

  /** @param {ControlTag} control */
  const textOf = (control) => {
    const place = controlItem(control);
    if (!place) return null;
    const text = place.item?.value?.text;
    return Array.isArray(text) ? text.join('\n') : typeof text === 'string' ? text : '';
  };

  /** @param {ControlTag} control @param {string} text */
  const setText = (control, text) => {
    const place = controlItem(control);
    setControlValue(control, text ? { text: [text] } : null, `text:${control.name}:${place?.region?.id ?? place?.span?.id ?? ''}`);
  };

  /**
   * A Number control's value: null when it has no place (per-region, no
   * single region selected), else the number or null when none is set.
   * @param {ControlTag} control
   * @returns {{number: number | null} | null}
   */
  const numberOf = (control) => {
    const place = controlItem(control);
    if (!place) return null;
    const number = place.item?.value?.number;
    return { number: typeof number === 'number' && Number.isFinite(number) ? number : null };
  };

  /** Typing digits is one undo step. @param {ControlTag} control @param {number | null} number */
  const setNumber = (control, number) => {
    const place = controlItem(control);
    setControlValue(control, number === null ? null : { number }, `number:${control.name}:${place?.region?.id ?? place?.span?.id ?? ''}`);
  };

  /**
   * A Rating control's value: null when it has no place, else the rating
   * or null when none is set.
   * @param {ControlTag} control
   * @returns {{rating: number | null} | null}
   */
  const ratingOf = (control) => {
    const place = controlItem(control);
    if (!place) return null;
    const rating = place.item?.value?.rating;
    return { rating: typeof rating === 'number' && Number.isFinite(rating) ? rating : null };
  };

  /** @param {ControlTag} control @param {number | null} rating */
  const setRating = (control, rating) => setControlValue(control, rating === null ? null : { rating }, null);

  /**
   * A Taxonomy control's picked paths: null when it has no place.
   * @param {ControlTag} control
   * @returns {string[][] | null}
   */
  const taxonomyOf = (control) => {
    const place = controlItem(control);
    if (!place) return null;
    const paths = place.item?.value?.taxonomy;
    return Array.isArray(paths) ? paths.filter((p) => Array.isArray(p) && p.every((s) => typeof s === 'string')) : [];
  };

  /** Pick a path, or unpick it. @param {ControlTag} control @param {string[]} path */
  const toggleTaxonomy = (control, path) => {
    const picked = taxonomyOf(control);
    if (picked === null) return;
    const key = JSON.stringify(path);
    const next = picked.some((p) => JSON.stringify(p) === key) ? picked.filter((p) => JSON.stringify(p) !== key) : [...picked, path];
    setControlValue(control, next.length ? { taxonomy: next } : null, null);
  };

  /** A region as the list and the attributes panel name it. @param {Region} region */
  const describeRegion = (region) => {
    if (region.kind === 'track') return `${region.labels.join(', ') || '(no label)'} · track (${region.track?.sequence.length ?? 0} keyframes)`;
    if (region.kind === 'segment') return `${region.labels.join(', ') || '(no label)'} · ${formatTime(region.segment?.start ?? 0)}–${formatTime(region.segment?.end ?? 0)}`;
    if (region.kind !== 'skeleton') return `${region.labels.join(', ') || '(no label)'} · ${KIND_NAMES[region.kind]}`;
    const control = controls.get(region.control);
    const total = control ? labelsOf(control).length : region.joints.length;
    return `${control?.skeleton?.value ?? 'skeleton'} · ${region.joints.length}/${total} joints`;
  };

  /**
   * Where placing a skeleton is at, for its control's panel: the joint to
   * place next and those placed or skipped; or, for a selected instance,
   * the joints it has. Null when neither.
   * @param {ControlTag} control
   * @returns {{next: string | null, done: Set<string>} | null}
   */
  const jointStatus = (control) => {
    const draft = editors.map((e) => e.skeletonDraft).find((d) => d && d.control === control);
    if (draft) return { next: draft.done ? null : draft.joints[draft.next], done: draft.resolved() };
    const regions = selectedRegions();
    if (regions.length !== 1 || regions[0].kind !== 'skeleton' || regions[0].control !== control.name) return null;
    return { next: null, done: new Set(regions[0].joints.map((j) => j.labels[0])) };
  };

  // ---- region commands ------------------------------------------------------------
  /** @param {string[]} ids */
  const deleteRegions = (ids) => {
    const doomed = new Set(ids.filter((id) => !locked.has(id)));
    if (!doomed.size || readOnly) return false;
    commit(history.current.filter((e) => e.kind === 'item' || !doomed.has(e.id)));
    return true;
  };

  /** @param {string} id */
  const toggleHidden = (id) => {
    if (hidden.has(id)) hidden.delete(id);
    else hidden.add(id);
    refresh();
  };
  /** @param {string} id */
  const toggleLocked = (id) => {
    if (locked.has(id)) locked.delete(id);
    else locked.add(id);
    refresh();
  };

  /** Bring a region into view if it is off screen. @param {string} id */
  const focusRegion = (id) => {
    const region = history.current.find((e) => e.id === id && e.kind !== 'item');
    if (!region || region.kind === 'item') return;
    if (region.kind === 'track') return videoViews.find((v) => v.object.name === region.object)?.focusTrack(region);
    if (region.kind === 'segment') return audioViews.find((v) => v.object.name === region.object)?.focusSegment(region);
    const editor = editors.find((e) => e.object.name === region.object);
    if (!editor) return;
    const [x0, y0, x1, y1] = regionBounds(region, editor.imageWidth, editor.imageHeight);
    const [sx0, sy0] = editor.view.toScreen(x0, y0);
    const [sx1, sy1] = editor.view.toScreen(x1, y1);
    if (sx1 < 0 || sy1 < 0 || sx0 > editor.cssWidth || sy0 > editor.cssHeight) {
      editor.view.offsetX += editor.cssWidth / 2 - (sx0 + sx1) / 2;
      editor.view.offsetY += editor.cssHeight / 2 - (sy0 + sy1) / 2;
      editor.userMovedView = true;
      editor.invalidate(true);
    }
  };

  const copy = () => {
    const regions = selectedRegions();
    if (!regions.length) return false;
    clipboard = regions.flatMap((r) => writeRegion(r, sizes, controls));
    try {
      localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(clipboard));
    } catch {
      // Storage may be full or disabled; the in-page clipboard still works.
    }
    return true;
  };

  const paste = () => {
    if (readOnly) return false;
    let items = clipboard;
    if (!items) {
      try {
        const stored = localStorage.getItem(CLIPBOARD_KEY);
        items = stored ? JSON.parse(stored) : null;
      } catch {
        items = null;
      }
    }
    if (!Array.isArray(items) || !items.length) return false;
    const pasted = readResult(structuredClone(items), config)
      .map((entry) => (entry.kind === 'item' ? null : adoptRegion(entry)))
      .filter((r) => r !== null);
    if (!pasted.length) return false;
    commit([...history.current, ...pasted]);
    select(pasted.map((r) => r.id));
    return true;
  };

  /**
   * A copied region fitted to this workspace: a new id, a control of this
   * config that draws its type, labels this control allows, coordinates in range.
   * @param {Region} region
   * @returns {Region | null}
   */
  const adoptRegion = (region) => {
    const control = adoptingControl(region);
    if (!control) return null;
    const object = control.to_names.includes(region.object) && images.has(region.object)
      ? region.object
      : control.to_names.find((n) => images.has(n));
    if (!object) return null;
    if (region.kind === 'skeleton') return adoptSkeleton(region, control, object);
    // A mask is pixels of its image: it fits another image of the same size only.
    const size = sizes.get(object);
    if (region.mask && (region.mask.width !== size?.[0] || region.mask.height !== size?.[1])) return null;
    let labels = region.labels;
    let labelControl = region.labelControl && controls.has(region.labelControl) ? region.labelControl : null;
    const labelSource = controls.get(labelControl ?? control.name);
    if (labelSource && (labelSource.kind === 'Labels' || SHAPE_CONTROLS[labelSource.kind]?.labelled)) {
      const allowed = labelsOf(labelSource);
      const ok = labelSource.labels_from !== null || labels.every((l) => allowed.some((a) => a.value === l || a.alias === l));
      if (!ok || !labels.length) labels = [...newLabels(control).labels];
    } else if (!labelControl) {
      labels = [];
    }
    if (!labels.length && SHAPE_CONTROLS[control.kind]?.labelled) return null;
    return copiedRegion(region, { control: control.name, object, labels, labelControl });
  };

  /**
   * The control of this config a copied region goes to: its own, if this
   * config has it for the same result type, else the first that draws that type.
   * @param {Region} region
   */
  const adoptingControl = (region) => {
    const type = region.kind === 'skeleton' ? 'keypointlabels' : region.items[0]?.type;
    const fits = (/** @type {ControlTag | undefined} */ c) =>
      Boolean(c && CONTROL_RESULT_TYPE[c.kind] === type && (region.kind !== 'skeleton' || c.skeleton));
    const own = controls.get(region.control);
    return fits(own) ? own : config.controls.find(fits);
  };

  /**
   * A copied skeleton instance, with the joints this control has.
   * @param {Region} region @param {ControlTag} control @param {string} object
   * @returns {Region | null}
   */
  const adoptSkeleton = (region, control, object) => {
    const allowed = new Set(labelsOf(control).map((l) => l.value));
    const joints = region.joints
      .filter((joint) => allowed.has(joint.labels[0]))
      .map((joint) => copiedRegion(joint, { control: control.name, object, labels: joint.labels, labelControl: null }));
    return joints.length ? { ...region, id: newId(), control: control.name, object, joints } : null;
  };

  /**
   * A copy of a region under a new id with `fields`, its coordinates in range.
   * Its items keep their extra keys, but not per-region items of controls
   * this config lacks, nor a parentID from the task they were copied from.
   * @param {Region} region @param {Pick<Region, 'control' | 'object' | 'labels' | 'labelControl'>} fields
   * @returns {Region}
   */
  const copiedRegion = (region, fields) => {
    const id = newId();
    const fit = (/** @type {number} */ v) => clamp(v, 0, 100);
    return {
      ...region,
      ...fields,
      id,
      x: fit(region.x),
      y: fit(region.y),
      width: region.rotation ? fit(region.width) : Math.min(fit(region.width), 100 - fit(region.x)),
      height: region.rotation ? fit(region.height) : Math.min(fit(region.height), 100 - fit(region.y)),
      radiusX: fit(region.radiusX),
      radiusY: fit(region.radiusY),
      points: region.points.map(([x, y]) => [fit(x), fit(y)]),
      items: region.items
        .filter((item, index) => index === 0 || controls.has(item.from_name))
        .map(({ parentID, ...item }) => ({ ...item, id })),
    };
  };

  const undo = () => {
    if (!history.canUndo() || readOnly) return;
    history.undo();
    changedResult();
  };
  const redo = () => {
    if (!history.canRedo() || readOnly) return;
    history.redo();
    changedResult();
  };

  // ---- brush size and mask opacity ---------------------------------------------------
  const sizeInput = el('input', { type: 'range', min: BRUSH_SIZES.min, max: BRUSH_SIZES.max, step: 1, value: brushSize, 'aria-label': 'Brush size' });
  const sizeText = el('span', { class: 'gl-slider-value' }, [`${brushSize}`]);
  /** @param {number} size diameter, image pixels */
  const setBrushSize = (size) => {
    brushSize = clamp(Math.round(size), BRUSH_SIZES.min, BRUSH_SIZES.max);
    sizeInput.value = String(brushSize);
    sizeText.textContent = `${brushSize}`;
    for (const editor of editors) editor.invalidate();
  };
  sizeInput.addEventListener('input', () => setBrushSize(Number(sizeInput.value)));
  /** `[` and `]`: a fifth smaller or bigger, at least a pixel. @param {number} sign */
  const stepBrushSize = (sign) => setBrushSize(brushSize + sign * Math.max(1, Math.round(brushSize / 5)));

  /** The brush size (when masks may be painted) and mask opacity sliders of the toolbar. */
  const maskSliders = () => {
    const opacity = el('input', { type: 'range', min: 10, max: 100, step: 5, value: maskOpacity * 100, 'aria-label': 'Mask opacity' });
    opacity.addEventListener('input', () => {
      maskOpacity = Number(opacity.value) / 100;
      for (const editor of editors) editor.invalidate();
    });
    const size = el('label', { class: 'gl-slider', title: 'Brush size in image pixels ([ and ])' }, ['⌀', sizeInput, sizeText]);
    return [readOnly ? null : size, el('label', { class: 'gl-slider', title: 'Mask opacity' }, ['▨', opacity])].filter((e) => e !== null);
  };

  // ---- DOM -----------------------------------------------------------------------
  host.classList.add('gl-workspace');
  while (host.firstChild) host.removeChild(host.firstChild);

  /** @type {Map<Tool, HTMLButtonElement>} */
  const toolButtons = new Map();
  const toolbar = el('div', { class: 'gl-toolbar', role: 'toolbar' });
  const undoButton = button('↶', 'Undo (Ctrl+Z)', undo, 'gl-icon');
  const redoButton = button('↷', 'Redo (Ctrl+Shift+Z)', redo, 'gl-icon');
  const editorHost = {
    readOnly,
    entries,
    selection,
    hidden,
    locked,
    tool: () => tool,
    colorOf,
    control: (/** @type {string} */ name) => controls.get(name),
    drawControl,
    newLabels,
    jointLabels: (/** @type {ControlTag} */ control) => labelsOf(control).map((l) => l.value),
    canRotate: (/** @type {Region} */ region) => controls.get(region.control)?.attributes.canRotate !== 'false',
    commit,
    select,
    activate: (/** @type {ImageEditor} */ editor) => {
      activeEditor = editor;
    },
    // The skeleton's panel shows which joint comes next.
    draftChanged: () => {
      for (const panel of panels) panel.update();
    },
    spaceHeld: () => spaceHeld,
    brushSize: () => brushSize,
    maskOpacity: () => maskOpacity,
  };
  const panelHost = {
    readOnly,
    entries,
    selection,
    hidden,
    locked,
    labelsOf,
    hotkeyOf: (/** @type {ControlTag} */ control, /** @type {string} */ value) => {
      const key = hotkeyOfOption.get(`${control.name}\u0000${value}`);
      return key ? keyLabel(key) : null;
    },
    colorOf,
    colorOfLabel,
    activeLabel,
    // A TimelineLabels button picks the label a drag on the timeline marks; its key marks from the frame shown.
    pickLabel: (/** @type {ControlTag} */ control, /** @type {string} */ value) => {
      if (control.kind !== 'TimelineLabels') return pickLabel(control, value);
      activeLabels.set(control.name, value);
      refresh();
    },
    choicesOf,
    toggleChoice,
    textOf,
    setText,
    // A TextArea prefilled from task data (`value="$key"`, e.g. a response to rewrite) shows it until written.
    prefillOf: (/** @type {ControlTag} */ control) => {
      const key = control.attributes.value?.startsWith('$') ? control.attributes.value.slice(1) : null;
      const value = key ? data[key] : undefined;
      return typeof value === 'string' && !controlItem(control)?.item ? value : '';
    },
    numberOf,
    setNumber,
    ratingOf,
    setRating,
    taxonomyOf,
    toggleTaxonomy,
    jointStatus,
    describeRegion,
    attributeRegion,
    select,
    toggleHidden,
    toggleLocked,
    deleteRegions,
    focusRegion,
  };

  const main = el('div', { class: 'gl-main' });
  const side = el('div', { class: 'gl-side' });
  const body = el('div', { class: 'gl-body' }, [main, side]);
  host.append(toolbar, body);

  /** @type {Set<string>} objects and controls placed by the layout */
  const placed = new Set();

  /** @param {ObjectTag} object */
  const objectElement = (object) => {
    placed.add(`o:${object.name}`);
    // A chat the annotator talks in has its own view (below); otherwise it
    // shows the task's conversation, as LLM feedback's prompt.
    if (object.kind === 'Chat' && !isLiveChat(object)) return llm.chatElement(object);
    if (object.kind === 'List') {
      const view = llm.listElement(object);
      panels.push(view);
      return view.element;
    }
    if (object.kind === 'Text' && isMarkdownText(object, config)) return llm.markdownText(object);
    if (object.kind === 'Text') {
      const value = data[object.value];
      const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
      // Labels on the text: spans are drawn and edited in a text view.
      if (config.controls.some((c) => c.kind === 'Labels' && c.to_names.includes(object.name))) {
        const view = new TextView(object, text, { entries, commit, controls: config.controls, activeLabel, colorOfLabel, spanColor: options.regionColor ?? null, readOnly, relationLabels: config.relations ?? null, onSelect: () => refresh() });
        textViews.push(view);
        panels.push({ element: view.element, update: () => view.update() });
        return view.element;
      }
      return el('div', { class: 'gl-text', 'data-object': object.name }, [text]);
    }
    if (object.kind === 'Paragraphs') {
      // The paragraphs' texts one after another, a line break between, as one text.
      const value = data[object.value];
      const textKey = object.attributes.textKey ?? 'text';
      const nameKey = object.attributes.nameKey ?? 'author';
      const paragraphs = Array.isArray(value) ? value : [];
      const texts = paragraphs.map((p) => (p && typeof p === 'object' && typeof p[textKey] === 'string' ? p[textKey] : ''));
      const authors = paragraphs.map((p) => (p && typeof p === 'object' && p[nameKey] !== undefined && p[nameKey] !== null ? String(p[nameKey]) : null));
      const starts = [];
      let at = 0;
      for (const text of texts) {
        starts.push(at);
        at += Array.from(text).length + 1;
      }
      const view = new TextView(object, texts.join('\n'), { entries, commit, controls: config.controls, activeLabel, colorOfLabel, spanColor: options.regionColor ?? null, readOnly, relationLabels: config.relations ?? null, onSelect: () => refresh() }, { starts, authors });
      textViews.push(view);
      panels.push({ element: view.element, update: () => view.update() });
      return view.element;
    }
    if (object.kind === 'HyperText') {
      const html = data[object.value];
      const view = new HyperTextView(object, typeof html === 'string' ? html : '', {
        entries, commit, controls: config.controls, activeLabel, colorOfLabel, readOnly, sanitize: options.sanitizeHtml ?? null,
      });
      hyperTextViews.push(view);
      panels.push({ element: view.element, update: () => view.update() });
      return view.element;
    }
    if (object.kind === 'Video') return videoElement(object);
    if (object.kind === 'Chat') {
      const view = new ChatView(object, data, { entries, commit, controls: config.controls, host: panelHost, readOnly, backend: options.chat ?? null });
      chatViews.push(view);
      panels.push({ element: view.element, update: () => view.update() });
      return view.element;
    }
    if (object.kind === 'Audio') {
      const url = data[object.value];
      if (typeof url !== 'string' || !url) return el('div', { class: 'gl-error' }, [`No sound: the task has no "${object.value}".`]);
      const view = new AudioView(object, url, {
        entries, commit, controls: config.controls, labelsOf, activeLabel, colorOfLabel, readOnly,
        regionColor: options.regionColor ?? null,
        select, isSelected: (id) => selection.has(id),
      });
      audioViews.push(view);
      panels.push({ element: view.element, update: () => view.update() });
      return view.element;
    }
    const image = images.get(object.name);
    if (!image) return el('div', { class: 'gl-error' }, [imageErrors.get(object.name) ?? 'No image.']);
    const editor = new ImageEditor(object, image, editorHost);
    editors.push(editor);
    return editor.element;
  };

  /** @param {ObjectTag} object */
  const videoElement = (object) => {
    const player = players.get(object.name);
    if (!player) return el('div', { class: 'gl-error' }, [videoErrors.get(object.name) ?? 'No video.']);
    const view = new VideoView(object, player, { editorHost, commit, controls: config.controls, labelsOf, colorOfLabel, activeLabel });
    videoViews.push(view);
    editors.push(view.editor);
    return view.element;
  };

  /**
   * The panel of a control; null for the bare shape controls (Rectangle,
   * Polygon, ...: tools only) and those the workspace does not edit (Brush).
   * @param {ControlTag} control
   * @returns {{element: HTMLElement, update: () => void, filter?: HTMLInputElement | null} | null}
   */
  const controlPanel = (control) => {
    if (control.kind === 'Labels' || control.kind === 'ParagraphLabels' || control.kind === 'HyperTextLabels' || control.kind === 'TimelineLabels' || SHAPE_CONTROLS[control.kind]?.labelled) return labelsPanel(control, panelHost);
    if (control.kind === 'Choices') return choicesPanel(control, panelHost);
    if (control.kind === 'TextArea') return textAreaPanel(control, panelHost);
    if (control.kind === 'Number') return numberPanel(control, panelHost);
    if (control.kind === 'Rating') return ratingPanel(control, panelHost);
    if (control.kind === 'Taxonomy') return taxonomyPanel(control, panelHost);
    if (control.kind === 'Pairwise') return llm.pairwisePanel(control);
    return null;
  };

  const soundNames = new Set(config.objects.filter((o) => o.kind === 'Audio').map((o) => o.name));
  /** A per-region TextArea on sounds only: the segments' transcripts, typed in the sound's segment list. @param {ControlTag} control */
  const isTranscript = (control) => control.kind === 'TextArea' && control.per_region && control.to_names.length > 0 && control.to_names.every((n) => soundNames.has(n));

  /** Per-region controls show under the region list, with the selected region. @param {ControlTag} control */
  const isAttribute = (control) =>
    control.per_region && Boolean(VALUE_TYPES[control.kind]) && (imageObjects.length > 0 || soundNames.size > 0) && !isTranscript(control) && !isMessageControl(control, chatNames);

  /** @param {ControlTag} control */
  const controlElement = (control) => {
    placed.add(`c:${control.name}`);
    // A List's per-item controls show on each of its items; a chat's
    // per-message controls under each reply, in the chat.
    if (isPerItem(control) && control.to_names.some((n) => objects.get(n)?.kind === 'List')) return null;
    const panel = isAttribute(control) || isTranscript(control) || isMessageControl(control, chatNames) ? null : controlPanel(control);
    if (!panel) return null;
    panels.push(panel);
    return panel.element;
  };

  /** @param {LayoutNode[]} nodes @param {HTMLElement} parent */
  const renderNodes = (nodes, parent) => {
    for (const node of nodes) {
      if (node.node === 'view') {
        const view = el('div', { class: 'gl-view' });
        // Only a flex row is taken from the style attribute; the rest needs CSS the CSP forbids inline.
        if (/display\s*:\s*flex/i.test(node.attributes.style ?? '')) view.classList.add('gl-flex');
        renderNodes(node.children, view);
        parent.append(view);
      } else if (node.node === 'header') {
        const key = node.value.startsWith('$') ? node.value.slice(1) : null;
        const value = key !== null ? data[key] : node.value;
        parent.append(el('div', { class: 'gl-header' }, [value === undefined || value === null ? '' : String(value)]));
      } else if (node.node === 'object') {
        const object = objects.get(node.name);
        if (object) parent.append(objectElement(object));
      } else if (node.node === 'control') {
        const control = controls.get(node.name);
        const element = control ? controlElement(control) : null;
        if (element) parent.append(element);
      } else if (node.node === 'unsupported') {
        const box = el('div', { class: 'gl-unsupported' }, [el('div', { class: 'gl-muted' }, [`<${node.tag}> is not supported yet.`])]);
        renderNodes(node.children, box);
        parent.append(box);
      }
    }
  };
  renderNodes(config.layout ?? [], main);
  // Anything the layout did not place still shows.
  for (const object of config.objects) if (!placed.has(`o:${object.name}`)) main.append(objectElement(object));
  for (const control of config.controls) {
    if (placed.has(`c:${control.name}`)) continue;
    const element = controlElement(control);
    if (element) main.append(element);
  }

  const list = regionList(panelHost);
  if (editors.length || audioViews.length) {
    side.append(list.element);
    panels.push(list);
    const attributes = config.controls.filter(isAttribute).flatMap((control) => {
      const panel = controlPanel(control);
      return panel ? [{ control, panel }] : [];
    });
    if (attributes.length) {
      const section = regionAttributes(panelHost, attributes);
      side.append(section.element);
      panels.push(section);
    }
  } else {
    body.classList.add('gl-no-side');
  }

  // Toolbar: tools, zoom, image adjustments, history, help.
  if (editors.length) {
    for (const [name, text, key] of TOOLS) {
      if (!toolsPresent.has(name) || readOnly && name !== 'select') continue;
      const b = button(text, `${text} tool (${key.toUpperCase()})`, () => setTool(name), 'gl-tool');
      b.dataset.tool = name;
      toolButtons.set(name, b);
      toolbar.append(b);
    }
    if (readOnly) tool = 'select';
    for (const [name, b] of toolButtons) b.classList.toggle('gl-on', name === tool);
    if (toolsPresent.has('brush')) toolbar.append(...maskSliders());
    const zoomOut = button('−', 'Zoom out (-)', () => (activeEditor ?? editors[0]).zoom(1 / 1.25, editors[0].cssWidth / 2, editors[0].cssHeight / 2), 'gl-icon');
    const fit = button('Fit', 'Fit the image (F)', () => (activeEditor ?? editors[0]).fit());
    const zoomIn = button('+', 'Zoom in (+)', () => (activeEditor ?? editors[0]).zoom(1.25, editors[0].cssWidth / 2, editors[0].cssHeight / 2), 'gl-icon');
    toolbar.append(el('span', { class: 'gl-sep' }), zoomOut, fit, zoomIn, el('span', { class: 'gl-sep' }));

    const brightness = el('input', { type: 'range', min: 0, max: 200, step: 5, value: 100, 'aria-label': 'Brightness' });
    const contrast = el('input', { type: 'range', min: 0, max: 200, step: 5, value: 100, 'aria-label': 'Contrast' });
    // A CSS filter on the image canvas: the compositor applies it, no redraw needed.
    const applyFilter = () => {
      const filter = brightness.value === '100' && contrast.value === '100' ? '' : `brightness(${brightness.value}%) contrast(${contrast.value}%)`;
      for (const editor of editors) editor.imageCanvas.style.filter = filter;
    };
    brightness.addEventListener('input', applyFilter);
    contrast.addEventListener('input', applyFilter);
    const reset = button('Reset', 'Reset brightness and contrast', () => {
      brightness.value = '100';
      contrast.value = '100';
      applyFilter();
    });
    toolbar.append(
      el('label', { class: 'gl-slider' }, ['☀', brightness]),
      el('label', { class: 'gl-slider' }, ['◐', contrast]),
      reset,
      el('span', { class: 'gl-sep' }),
    );
  }
  if (!readOnly) toolbar.append(undoButton, redoButton);
  let overlay = /** @type {HTMLElement | null} */ (null);
  const toggleKeymap = () => {
    if (overlay && overlay.isConnected) {
      overlay.remove();
      overlay = null;
      return;
    }
    /** @type {[string, string][]} */
    // Keys without a text of their own are named in the row of the first of their group.
    const rows = commands.filter((c) => !hotkeys.has(c.key) && c.what).map((c) => [c.label ?? keyLabel(c.key), c.what]);
    for (const [key, option] of hotkeys) rows.push([keyLabel(key), `${option.control.kind === 'Choices' ? 'Choice' : 'Label'} “${option.value}” (${option.control.name})`]);
    rows.push(...(editors.length || (!audioViews.length && !chatViews.length) ? MOUSE_HELP : []), ...(videoViews.length ? VIDEO_MOUSE_HELP : []), ...(audioViews.length ? AUDIO_HELP : []), ...(chatViews.length ? CHAT_HELP : []), ...(options.extraKeys ?? []));
    overlay = keymapOverlay(rows);
    host.append(overlay);
  };
  toolbar.append(button('?', 'Keyboard shortcuts (?)', toggleKeymap, 'gl-icon gl-help'));

  // ---- keys ------------------------------------------------------------------------
  const editor = () => activeEditor ?? editors[0] ?? null;
  /** The editor drawing something, else the one holding the selection, else the one under the pointer. */
  const editorAtWork = () =>
    editors.find((e) => e.pathDraft || e.skeletonDraft) ?? editors.find((e) => e.editableSelection()) ?? editor();
  /** @param {string} key @param {string} what @param {(e: KeyboardEvent) => boolean} run @param {string} [label] */
  const command = (key, what, run, label) => commands.push({ key, what, run, label });
  if (editors.length) {
    for (const [name, text, key] of TOOLS) if (toolsPresent.has(name)) command(key, `${text} tool`, () => setTool(name));
  }
  command('ctrl+z', 'Undo', () => (undo(), true));
  command('ctrl+shift+z', 'Redo', () => (redo(), true));
  command('ctrl+y', 'Redo', () => (redo(), true));
  if (editors.length) {
    command('ctrl+c', 'Copy the selected regions', () => copy());
    command('ctrl+v', 'Paste regions (also from the previous task)', () => paste());
    const remove = () =>
      Boolean(editorAtWork()?.deleteSelectedVertex()) || videoViews.some((v) => v.deleteSelectedSegment()) || deleteRegions([...selection]);
    command('delete', 'Delete the selected region (or the picked vertex or joint)', remove);
    command('backspace', 'Delete the selected region (or the picked vertex or joint)', remove);
    command('enter', 'Finish the polygon, polyline or skeleton being drawn', () => Boolean(editorAtWork()?.finishDrawing()));
    if (toolsPresent.has('skeleton')) {
      command('n', 'Skeleton: the next joint is absent (not in the image)', () => Boolean(editorAtWork()?.skipJoint()));
      command('o', 'Skeleton: the picked joint visible → occluded → absent', () => Boolean(editorAtWork()?.cycleVisibility()));
    }
    command('escape', 'Cancel drawing, else clear the selection', () => {
      if (overlay?.isConnected) return (toggleKeymap(), true);
      if (editors.some((e) => e.cancelDrawing())) return true;
      if (!selection.size) return false;
      select([]);
      return true;
    });
    const zoomKey = (/** @type {number} */ factor) => () => (editor()?.zoom(factor), true);
    command('+', 'Zoom in at the cursor', zoomKey(1.25));
    command('=', 'Zoom in at the cursor', zoomKey(1.25));
    command('-', 'Zoom out at the cursor', zoomKey(1 / 1.25));
    command('f', 'Fit the image to the screen', () => (editor()?.fit(), true));
    if (toolsPresent.has('brush') && !readOnly) {
      command('[', 'Smaller brush', () => (stepBrushSize(-1), true));
      command(']', 'Bigger brush', () => (stepBrushSize(1), true));
    }
    /** @param {number} dx @param {number} dy */
    const nudge = (dx, dy) => () => (selection.size ? Boolean(editor()?.nudge(dx, dy)) : false);
    // On a video the arrows step through the frames (its commands, below).
    if (!videoViews.length) {
      command('arrowleft', 'Move the selection 1 px (Shift: 10 px)', nudge(-1, 0), 'Arrows');
      command('arrowright', '', nudge(1, 0));
      command('arrowup', '', nudge(0, -1));
      command('arrowdown', '', nudge(0, 1));
      command('shift+arrowleft', '', nudge(-10, 0));
      command('shift+arrowright', '', nudge(10, 0));
      command('shift+arrowup', '', nudge(0, -10));
      command('shift+arrowdown', '', nudge(0, 10));
    }
    command('space', videoViews.length ? 'Tap: play or pause the video; hold and drag: pan' : 'Hold and drag to pan', (e) => {
      if (!e.repeat) spacePanned = false;
      spaceHeld = true;
      return true;
    });
    const taken = new Set(commands.map((c) => c.key));
    for (const view of videoViews) for (const [key, what, run, label] of view.commands(taken)) command(key, what, run, label);
  }
  if (audioViews.length) {
    const taken = new Set(commands.map((c) => c.key));
    for (const [key, what, run] of audioViews[0].commands()) if (!taken.has(key)) command(key, what, run);
    if (!taken.has('delete')) {
      command('delete', 'Delete the selected segments', () => deleteRegions([...selection]));
      command('backspace', 'Delete the selected segments', () => deleteRegions([...selection]));
    }
    if (!taken.has('escape')) command('escape', 'Clear the selection', () => (selection.size ? (select([]), true) : false));
  }
  if (panels.some((p) => p.filter)) {
    command('/', `Search labels (controls with over ${FILTER_THRESHOLD} labels)`, () => {
      const filter = panels.find((p) => p.filter)?.filter;
      filter?.focus();
      return Boolean(filter);
    });
  }
  {
    const taken = new Set(commands.map((c) => c.key));
    for (const [key, what, run, label] of llm.commands()) if (!taken.has(key)) command(key, what, run, label);
  }
  command('?', 'Show or hide this list', () => (toggleKeymap(), true));
  /** @type {Map<string, (e: KeyboardEvent) => boolean>} */
  const commandByKey = new Map(commands.map((c) => [c.key, c.run]));

  /** @param {KeyboardEvent} e */
  const keyHandler = (e) => {
    const target = /** @type {HTMLElement | null} */ (e.target instanceof HTMLElement ? e.target : null);
    const typing = target && (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' ||
      (target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type)));
    if (target && typing) {
      // Typing belongs to the field; Escape leaves it.
      if (e.key === 'Escape' && host.contains(target)) {
        target.blur();
        e.preventDefault();
        return true;
      }
      return false;
    }
    const name = keyName(e);
    let used = false;
    const option = hotkeys.get(name);
    if (option) {
      if (!readOnly) pickLabel(option.control, option.value);
      used = true;
    } else {
      const run = commandByKey.get(name);
      if (run) used = run(e);
    }
    if (used) e.preventDefault();
    return used;
  };
  /** @param {KeyboardEvent} e */
  const keyUp = (e) => {
    if (e.key !== ' ' || !spaceHeld) return;
    spaceHeld = false;
    // Space pressed and released without a drag plays or pauses the video.
    if (!spacePanned) videoViews[0]?.togglePlay();
  };
  // A press while Space is held makes it a pan, not a tap.
  const pointerWhileSpace = () => {
    if (spaceHeld) spacePanned = true;
  };
  host.addEventListener('pointerdown', pointerWhileSpace, { capture: true });
  const blur = () => {
    spaceHeld = false;
  };
  window.addEventListener('keyup', keyUp);
  window.addEventListener('blur', blur);

  // ---- first frame -----------------------------------------------------------------
  refresh();
  for (const e of editors) {
    e.resize();
    e.render();
  }
  // Smaller copies of big images, after the first frame is on screen.
  const levelsTimer = setTimeout(() => editors.forEach((e) => void e.buildLevels()), 50);

  return {
    getResult,
    setResult(result) {
      history.reset(Object.freeze(readResult(structuredClone(result ?? []), config)));
      pruneIds();
      refresh();
    },
    undo,
    redo,
    canUndo: () => history.canUndo(),
    canRedo: () => history.canRedo(),
    destroy() {
      clearTimeout(levelsTimer);
      window.removeEventListener('keyup', keyUp);
      window.removeEventListener('blur', blur);
      host.removeEventListener('pointerdown', pointerWhileSpace, { capture: true });
      for (const v of videoViews) v.destroy();
      for (const v of hyperTextViews) v.destroy();
      for (const v of chatViews) v.destroy();
      for (const e of editors) e.destroy();
      while (host.firstChild) host.removeChild(host.firstChild);
      host.classList.remove('gl-workspace');
    },
    keyHandler,
    waiting: () => chatViews.some((v) => v.waiting),
    // Regions selected on images and videos, and spans picked in texts.
    selectedIds: () => [...selection, ...textViews.map((v) => v.selected).filter((id) => typeof id === 'string')],
    debug: { editors, selection, tool: () => tool, videos: videoViews, sounds: audioViews, chats: chatViews },
  };
}
