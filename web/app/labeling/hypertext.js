// A `HyperText` object: the task's HTML, cleaned by the server (scripts,
// styles, event handlers, frames and images removed: `POST /api/v1/html`),
// with labelled spans of a `HyperTextLabels` control on it.
//
// Spans are Label Studio's `hypertextlabels` results: `start` and `end` are
// XPaths of text nodes of the HTML (`/p[1]/text()[1]`), `startOffset` and
// `endOffset` the DOM's offsets in them (UTF-16 code units), and
// `globalOffsets` the same over the whole text. The HTML is never changed to
// show them (the XPaths stay true): they are painted with the CSS Custom
// Highlight API, a highlight per label colour. Select text with a label
// picked (or select, then press the label's key) to make a span; the list
// under the HTML shows them, and × deletes one.

import { el } from './dom.js';
import { newId } from './model.js';

/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ResultItem} ResultItem */

/**
 * What the view needs from the workspace.
 * @typedef {{
 *   entries: () => readonly Entry[],
 *   commit: (next: Entry[]) => void,
 *   controls: ControlTag[],
 *   activeLabel: (control: ControlTag) => string | null,
 *   colorOfLabel: (control: string, value: string) => string,
 *   readOnly: boolean,
 *   sanitize: ((texts: string[]) => Promise<string[]>) | null,
 * }} HyperTextHost
 */

/** A span as drawn. @typedef {{id: string, range: Range, label: string, control: string, text: string}} Span */

/** Highlight names by colour, shared by the views of a page (each view adds its own ranges). @type {Map<string, string>} */
const highlightRules = new Map();

/** The ranges each view paints, by highlight name: a highlight holds them all. @type {Map<string, Map<object, Range[]>>} */
const paintedBy = new Map();

/**
 * The highlight name painting `color`, its rule added once to a constructed
 * style sheet (the page's policy refuses inline styles).
 * @param {string} color
 */
function highlightName(color) {
  let name = highlightRules.get(color);
  if (name) return name;
  name = `gl-ht-${highlightRules.size}`;
  highlightRules.set(color, name);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`::highlight(${name}) { background-color: color-mix(in srgb, ${color} 30%, transparent); }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  return name;
}

/**
 * The XPath of `node` below `root`, as Label Studio writes it: `/p[1]/text()[2]`.
 * @param {Node} root @param {Node} node
 */
export function xpathOf(root, node) {
  const steps = [];
  for (let at = node; at && at !== root; at = /** @type {Node} */ (at.parentNode)) {
    const name = at.nodeType === Node.TEXT_NODE ? 'text()' : at.nodeName.toLowerCase();
    let index = 1;
    for (let sibling = at.previousSibling; sibling; sibling = sibling.previousSibling) {
      const same = at.nodeType === Node.TEXT_NODE ? sibling.nodeType === Node.TEXT_NODE : sibling.nodeName === at.nodeName;
      if (same) index++;
    }
    steps.unshift(`${name}[${index}]`);
  }
  return `/${steps.join('/')}`;
}

/**
 * The node an XPath of `xpathOf` names below `root`, or null.
 * @param {Node} root @param {string} path
 * @returns {Node | null}
 */
export function nodeAt(root, path) {
  let at = root;
  for (const step of path.split('/').filter(Boolean)) {
    const match = /^([^[]+)\[(\d+)\]$/.exec(step) ?? /^([^[]+)$/.exec(step);
    if (!match) return null;
    const name = match[1].toLowerCase();
    let left = Number(match[2] ?? 1);
    /** @type {Node | null} */
    let found = null;
    for (const child of at.childNodes) {
      const same = name === 'text()' ? child.nodeType === Node.TEXT_NODE : child.nodeName.toLowerCase() === name;
      if (same && --left === 0) {
        found = child;
        break;
      }
    }
    if (!found) return null;
    at = found;
  }
  return at;
}

/** One HyperText object's HTML and spans. */
export class HyperTextView {
  /**
   * @param {ObjectTag} object @param {string} html the task's HTML, not yet cleaned @param {HyperTextHost} host
   */
  constructor(object, html, host) {
    this.object = object;
    this.host = host;
    /** The HyperTextLabels controls on this object. */
    this.labelControls = host.controls.filter((c) => c.kind === 'HyperTextLabels' && c.to_names.includes(object.name));
    this.root = el('div', { class: 'gl-text gl-hypertext', 'data-object': object.name });
    this.list = el('ul', { class: 'gl-span-list', 'aria-label': 'Spans' });
    this.element = el('div', { class: 'gl-text-view', tabindex: 0 }, [this.root, this.list]);
    /** @type {readonly Entry[] | null} */
    this.drawn = null;
    this.root.addEventListener('mouseup', () => {
      const control = this.labelControls.find((c) => this.host.activeLabel(c));
      if (control) this.labelSelection(control, /** @type {string} */ (this.host.activeLabel(control)));
    });
    // Without the server's cleaner (a preview), the HTML shows as text.
    this.ready = (host.sanitize ? host.sanitize([html]).then(([clean]) => clean) : Promise.resolve(null)).then(
      (clean) => {
        if (clean === null) this.root.textContent = html;
        else this.root.innerHTML = clean;
        this.drawn = null;
        this.update();
      },
      (err) => {
        this.root.textContent = `The HTML could not be shown: ${err instanceof Error ? err.message : err}`;
      },
    );
  }

  /** Code units of text before `node` (a text node), offset `offset` in it. @param {Node} node @param {number} offset */
  globalOffset(node, offset) {
    const walker = document.createTreeWalker(this.root, NodeFilter.SHOW_TEXT);
    let before = 0;
    for (let at = walker.nextNode(); at; at = walker.nextNode()) {
      if (at === node) return before + offset;
      before += (at.textContent ?? '').length;
    }
    return null;
  }

  /** The text node and offset at global offset `offset`. @param {number} offset @returns {[Node, number] | null} */
  pointAt(offset) {
    const walker = document.createTreeWalker(this.root, NodeFilter.SHOW_TEXT);
    let before = 0;
    for (let at = walker.nextNode(); at; at = walker.nextNode()) {
      const length = (at.textContent ?? '').length;
      if (offset <= before + length) return [at, offset - before];
      before += length;
    }
    return null;
  }

  /** The spans of this object, from the entries. @returns {Span[]} */
  spans() {
    /** @type {Span[]} */
    const spans = [];
    for (const entry of this.host.entries()) {
      if (entry.kind !== 'item' || entry.item.type !== 'hypertextlabels' || entry.item.to_name !== this.object.name) continue;
      const value = entry.item.value ?? {};
      let start = nodeAt(this.root, String(value.start ?? ''));
      let end = nodeAt(this.root, String(value.end ?? ''));
      let [startOffset, endOffset] = [Number(value.startOffset), Number(value.endOffset)];
      // The XPaths do not fit this HTML: the global offsets, if given.
      if ((!start || !end) && value.globalOffsets) {
        const a = this.pointAt(Number(value.globalOffsets.start));
        const b = this.pointAt(Number(value.globalOffsets.end));
        if (a && b) [start, startOffset, end, endOffset] = [a[0], a[1], b[0], b[1]];
      }
      if (!start || !end) continue;
      const range = document.createRange();
      try {
        range.setStart(start, startOffset);
        range.setEnd(end, endOffset);
      } catch {
        continue;
      }
      const label = Array.isArray(value.htmllabels) ? String(value.htmllabels[0] ?? '') : '';
      spans.push({ id: entry.id, range, label, control: entry.item.from_name, text: range.toString() });
    }
    return spans;
  }

  /** Paints the spans and lists them, when the entries changed. */
  update() {
    const entries = this.host.entries();
    if (entries === this.drawn) return;
    this.drawn = entries;
    const spans = this.spans();
    /** @type {Map<string, Range[]>} */
    const mine = new Map();
    for (const span of spans) {
      const name = highlightName(this.host.colorOfLabel(span.control, span.label));
      mine.set(name, [...(mine.get(name) ?? []), span.range]);
    }
    this.paint(mine);
    this.list.replaceChildren(...spans.map((s) => {
      const remove = el('button', { type: 'button', class: 'gl-icon', title: 'Delete this span', 'aria-label': 'Delete', disabled: this.host.readOnly }, ['×']);
      remove.addEventListener('click', () => this.host.commit(this.host.entries().filter((e) => e.id !== s.id)));
      const swatch = el('span', { class: 'gl-swatch' });
      swatch.style.background = this.host.colorOfLabel(s.control, s.label);
      return el('li', { class: 'gl-span-row', 'data-span': s.id }, [swatch, `${s.label} · `, el('q', {}, [s.text]), remove]);
    }));
  }

  /**
   * Makes the current selection (within the HTML, trimmed of white space at
   * its ends) a span labelled `value`; false when there is none.
   * @param {ControlTag} control @param {string} value
   */
  labelSelection(control, value) {
    const selection = window.getSelection();
    if (this.host.readOnly || !selection || selection.isCollapsed || selection.rangeCount === 0) return false;
    const range = selection.getRangeAt(0);
    if (!this.root.contains(range.startContainer) || !this.root.contains(range.endContainer)) return false;
    const textOf = (/** @type {Node} */ node, /** @type {number} */ offset, /** @type {boolean} */ atEnd) => {
      if (node.nodeType === Node.TEXT_NODE) return /** @type {[Node, number]} */ ([node, offset]);
      // An element boundary: the first text after it (at the end, the last before it).
      const point = document.createRange();
      point.setStart(node, offset);
      const walker = document.createTreeWalker(this.root, NodeFilter.SHOW_TEXT);
      /** @type {[Node, number] | null} */
      let last = null;
      for (let at = walker.nextNode(); at; at = walker.nextNode()) {
        const length = (at.textContent ?? '').length;
        if (!atEnd && point.comparePoint(at, 0) >= 0) return /** @type {[Node, number]} */ ([at, 0]);
        if (atEnd && point.comparePoint(at, length) <= 0) last = [at, length];
      }
      return last;
    };
    const a = textOf(range.startContainer, range.startOffset, false);
    const b = textOf(range.endContainer, range.endOffset, true);
    if (!a || !b) return false;
    let [start, startOffset] = a;
    let [end, endOffset] = b;
    // White space at the ends is not part of the span.
    const startText = start.textContent ?? '';
    while (startOffset < startText.length && /\s/.test(startText[startOffset]) && !(start === end && startOffset >= endOffset)) startOffset++;
    const endText = end.textContent ?? '';
    while (endOffset > 0 && /\s/.test(endText[endOffset - 1]) && !(start === end && endOffset <= startOffset)) endOffset--;
    const globalStart = this.globalOffset(start, startOffset);
    const globalEnd = this.globalOffset(end, endOffset);
    if (globalStart === null || globalEnd === null || globalStart >= globalEnd) return false;
    const exact = document.createRange();
    exact.setStart(start, startOffset);
    exact.setEnd(end, endOffset);
    selection.removeAllRanges();
    const id = newId();
    /** @type {ResultItem} */
    const item = Object.freeze({
      id, from_name: control.name, to_name: this.object.name, type: 'hypertextlabels',
      value: {
        start: xpathOf(this.root, start), end: xpathOf(this.root, end), startOffset, endOffset,
        globalOffsets: { start: globalStart, end: globalEnd }, text: exact.toString(), htmllabels: [value],
      },
    });
    this.host.commit([...this.host.entries(), { kind: 'item', id, item }]);
    return true;
  }

  /**
   * Sets this view's ranges of each highlight (those of other views stay).
   * @param {Map<string, Range[]>} mine
   */
  paint(mine) {
    if (typeof CSS === 'undefined' || !('highlights' in CSS)) return;
    for (const name of new Set([...paintedBy.keys(), ...mine.keys()])) {
      const views = paintedBy.get(name) ?? new Map();
      if (mine.has(name)) views.set(this, mine.get(name));
      else views.delete(this);
      paintedBy.set(name, views);
      CSS.highlights.set(name, new Highlight(...[...views.values()].flat()));
    }
  }

  destroy() {
    this.paint(new Map());
  }
}
