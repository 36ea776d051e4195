// Named-entity spans on a `Text` object: select text with the mouse and it
// becomes a span with the picked label of a `Labels` control on the text
// (pick the label first, or select first and then press the label's key).
// Selections snap to whole tokens; with Alt held they keep exact characters.
//
// Spans are Label Studio `labels` results: `start` and `end` count Unicode
// code points (an emoji or a combining accent is one), `text` is the
// covered text. They stay result items in the workspace's entries; this
// view draws them over the text (overlapping and nested spans stack: each
// level adds an underline) and lists them, and edits them through `commit`.
// The text is always set as text, never as markup.
//
// Relations (Label Studio's `relation` results: `from_id`, `to_id`,
// `direction` at the result's top level): click a span, press R, click the
// span it relates to. They are listed under the spans; deleting a span
// deletes its relations.

import { el } from './dom.js';
import { newId } from './model.js';

/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').LabelDef} LabelDef */
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
 * }} TextHost
 */

/** A span as drawn: its entry, code point offsets and label. @typedef {{id: string, start: number, end: number, label: string, control: string}} Span */

/** Word characters: letters, digits, combining marks, `_` (as the CoNLL export's tokenizer). */
const WORD = /[\p{L}\p{N}\p{M}_]/u;

/**
 * The text's code points, and the UTF-16 index where each starts (plus the length).
 * @param {string} text
 */
function codePoints(text) {
  const chars = Array.from(text);
  const utf16 = new Array(chars.length + 1);
  let at = 0;
  chars.forEach((c, i) => {
    utf16[i] = at;
    at += c.length;
  });
  utf16[chars.length] = at;
  return { chars, utf16 };
}

/**
 * `[start, end)` widened to whole tokens (a word, or one other character)
 * and trimmed of whitespace at both ends.
 * @param {string[]} chars @param {number} start @param {number} end
 * @returns {[number, number]}
 */
export function snapToTokens(chars, start, end) {
  while (start < end && /\s/u.test(chars[start])) start++;
  while (end > start && /\s/u.test(chars[end - 1])) end--;
  if (start >= end) return [start, start];
  if (WORD.test(chars[start])) while (start > 0 && WORD.test(chars[start - 1])) start--;
  if (WORD.test(chars[end - 1])) while (end < chars.length && WORD.test(chars[end])) end++;
  return [start, end];
}

/** One Text object's spans. */
export class TextView {
  /**
   * @param {ObjectTag} object @param {string} text @param {TextHost} host
   */
  constructor(object, text, host) {
    this.object = object;
    this.text = text;
    this.host = host;
    const { chars, utf16 } = codePoints(text);
    this.chars = chars;
    this.utf16 = utf16;
    /** The Labels controls on this text. */
    this.labelControls = host.controls.filter((c) => c.kind === 'Labels' && c.to_names.includes(object.name));
    /** The span picked by a click, for Delete. @type {string | null} */
    this.selected = null;
    /** The span a relation is being drawn from (R pressed), or null. @type {string | null} */
    this.relating = null;
    /** The entries drawn last, to draw again only when they change. @type {readonly Entry[] | null} */
    this.drawn = null;
    this.body = el('div', { class: 'gl-text gl-text-spans', 'data-object': object.name });
    this.list = el('ul', { class: 'gl-span-list', 'aria-label': 'Spans' });
    this.relations = el('ul', { class: 'gl-span-list gl-relation-list', 'aria-label': 'Relations' });
    this.hint = el('div', { class: 'gl-muted gl-text-hint' });
    this.element = el('div', { class: 'gl-text-view', tabindex: 0 }, [this.body, this.hint, this.list, this.relations]);
    this.body.addEventListener('mouseup', (e) => this.selectionMade(e.altKey));
    this.body.addEventListener('click', (e) => this.pick(e));
    this.element.addEventListener('keydown', (e) => {
      if ((e.key === 'Delete' || e.key === 'Backspace') && this.selected && !host.readOnly) {
        e.preventDefault();
        e.stopPropagation();
        this.remove(this.selected);
      } else if ((e.key === 'r' || e.key === 'R') && this.selected && !host.readOnly && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        e.stopPropagation();
        this.relating = this.selected;
        this.showHint();
      } else if (e.key === 'Escape' && this.relating) {
        e.stopPropagation();
        this.relating = null;
        this.showHint();
      }
    });
    this.update();
  }

  /** The spans of this text, from the entries. @returns {Span[]} */
  spans() {
    /** @type {Span[]} */
    const spans = [];
    for (const entry of this.host.entries()) {
      if (entry.kind !== 'item') continue;
      const item = entry.item;
      if (item.type !== 'labels' || item.to_name !== this.object.name) continue;
      const start = Number(item.value?.start);
      const end = Number(item.value?.end);
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.chars.length || start >= end) continue;
      const label = Array.isArray(item.value?.labels) ? String(item.value.labels[0] ?? '') : '';
      spans.push({ id: entry.id, start, end, label, control: item.from_name });
    }
    return spans;
  }

  /** The relations whose both ends are among `spans` (this text's). @param {Span[]} spans */
  relationItems(spans) {
    const ids = new Set(spans.map((s) => s.id));
    return this.host.entries().flatMap((entry) => {
      if (entry.kind !== 'item' || entry.item.type !== 'relation') return [];
      const { from_id: from, to_id: to } = entry.item;
      return ids.has(from) && ids.has(to) ? [{ id: entry.id, from: String(from), to: String(to) }] : [];
    });
  }

  showHint() {
    this.hint.textContent = this.relating ? 'Click the span this one relates to (Esc cancels)' : '';
  }

  /** Draws the text with its spans, and the list, when the entries changed. */
  update() {
    const entries = this.host.entries();
    if (entries === this.drawn) return;
    this.drawn = entries;
    const spans = this.spans();
    // Pieces of text between every span boundary.
    const cuts = new Set([0, this.chars.length]);
    for (const s of spans) cuts.add(s.start).add(s.end);
    const sorted = [...cuts].sort((a, b) => a - b);
    // A sweep over the cuts keeps the spans open at each piece (not a scan
    // of every span per piece: thousands of spans make millions of tests).
    const byStart = spans.slice().sort((a, b) => a.start - b.start);
    /** @type {Span[]} */
    let open = [];
    let next = 0;
    const pieces = [];
    for (let i = 0; i + 1 < sorted.length; i++) {
      const [from, to] = [sorted[i], sorted[i + 1]];
      open = open.filter((s) => s.end > from);
      while (next < byStart.length && byStart[next].start <= from) open.push(byStart[next++]);
      const covering = open.filter((s) => s.end >= to).sort((a, b) => (b.start - a.start) || (a.end - b.end));
      const piece = el('span', { 'data-start': from, 'data-end': to });
      piece.textContent = this.text.slice(this.utf16[from], this.utf16[to]);
      if (covering.length) {
        const inner = covering[0];
        piece.className = 'gl-mark';
        piece.style.backgroundColor = `color-mix(in srgb, ${this.host.colorOfLabel(inner.control, inner.label)} 22%, transparent)`;
        // Each level of nesting adds an underline in its label's colour.
        piece.style.boxShadow = covering.map((s, level) => `inset 0 -${2 * (level + 1)}px 0 ${this.host.colorOfLabel(s.control, s.label)}`).join(', ');
        piece.dataset.spans = covering.map((s) => s.id).join(' ');
        if (this.selected && covering.some((s) => s.id === this.selected)) piece.classList.add('gl-mark-selected');
      }
      pieces.push(piece);
    }
    this.body.replaceChildren(...pieces);
    const names = new Map(spans.map((s) => [s.id, `${s.label} «${this.chars.slice(s.start, s.end).join('')}»`]));
    this.relations.replaceChildren(...this.relationItems(spans).map((r) => {
      const remove = el('button', { type: 'button', class: 'gl-icon', title: 'Delete this relation', 'aria-label': 'Delete', disabled: this.host.readOnly }, ['×']);
      remove.addEventListener('click', () => this.host.commit(this.host.entries().filter((e) => e.id !== r.id)));
      return el('li', { class: 'gl-span-row', 'data-relation': r.id }, [`${names.get(r.from)} → ${names.get(r.to)}`, remove]);
    }));
    this.list.replaceChildren(...spans.sort((a, b) => a.start - b.start || b.end - a.end).map((s) => {
      const remove = el('button', { type: 'button', class: 'gl-icon', title: 'Delete this span', 'aria-label': 'Delete', disabled: this.host.readOnly }, ['×']);
      remove.addEventListener('click', () => this.remove(s.id));
      const text = this.chars.slice(s.start, s.end).join('');
      // Colours through the CSSOM: the page's policy refuses style attributes.
      const swatch = el('span', { class: 'gl-swatch' });
      swatch.style.background = this.host.colorOfLabel(s.control, s.label);
      return el('li', { class: s.id === this.selected ? 'gl-span-row gl-on' : 'gl-span-row', 'data-span': s.id }, [
        swatch, `${s.label} · `, el('q', {}, [text]), ` (${s.start}–${s.end})`, remove,
      ]);
    }));
  }

  /**
   * The code point offsets of the browser's selection within the text, or null.
   * @returns {[number, number] | null}
   */
  selectionOffsets() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    const at = (/** @type {Node} */ node, /** @type {number} */ offset) => {
      const piece = node.nodeType === Node.TEXT_NODE ? node.parentElement : /** @type {Element} */ (node);
      if (!piece || !this.body.contains(piece)) return null;
      if (piece === this.body) return offset === 0 ? 0 : this.chars.length;
      const start = Number(/** @type {HTMLElement} */ (piece).dataset.start);
      if (node.nodeType !== Node.TEXT_NODE) return offset === 0 ? start : Number(/** @type {HTMLElement} */ (piece).dataset.end);
      // UTF-16 units within the piece to code points.
      return start + Array.from((node.textContent ?? '').slice(0, offset)).length;
    };
    const start = at(range.startContainer, range.startOffset);
    const end = at(range.endContainer, range.endOffset);
    return start === null || end === null || start >= end ? null : [start, end];
  }

  /**
   * A selection ended: with a label picked, it becomes a span.
   * @param {boolean} exact keep the characters (Alt), rather than whole tokens
   */
  selectionMade(exact) {
    const control = this.labelControls.find((c) => this.host.activeLabel(c));
    if (!control) return;
    this.labelSelection(control, /** @type {string} */ (this.host.activeLabel(control)), exact);
  }

  /**
   * Make the current selection a span labelled `value`; false when there is none.
   * @param {ControlTag} control @param {string} value @param {boolean} [exact]
   */
  labelSelection(control, value, exact = false) {
    const offsets = this.selectionOffsets();
    if (!offsets || this.host.readOnly) return false;
    const [start, end] = exact ? offsets : snapToTokens(this.chars, offsets[0], offsets[1]);
    if (start >= end) return false;
    window.getSelection()?.removeAllRanges();
    const id = newId();
    /** @type {ResultItem} */
    const item = Object.freeze({
      id, from_name: control.name, to_name: this.object.name, type: 'labels',
      value: { start, end, text: this.chars.slice(start, end).join(''), labels: [value] },
    });
    this.selected = id;
    this.host.commit([...this.host.entries(), { kind: 'item', id, item }]);
    return true;
  }

  /**
   * A click on a span picks its innermost span (for Delete, R); while a
   * relation is being drawn, it ends the relation there.
   * @param {MouseEvent} e
   */
  pick(e) {
    const piece = /** @type {HTMLElement | null} */ (e.target instanceof HTMLElement ? e.target.closest('.gl-mark') : null);
    if (!window.getSelection()?.isCollapsed) return;
    const clicked = piece?.dataset.spans?.split(' ')[0] ?? null;
    if (this.relating && clicked && clicked !== this.relating) {
      this.relate(this.relating, clicked);
      return;
    }
    this.selected = clicked;
    this.drawn = null;
    this.update();
  }

  /** A relation from one span to another (Label Studio's `right` direction). @param {string} from @param {string} to */
  relate(from, to) {
    this.relating = null;
    this.showHint();
    const id = newId();
    // A relation names no control: its keys sit beside its type, as Label Studio writes them.
    const item = /** @type {ResultItem} */ (/** @type {unknown} */ (Object.freeze({ id, type: 'relation', from_id: from, to_id: to, direction: 'right' })));
    this.host.commit([...this.host.entries(), { kind: 'item', id, item }]);
  }

  /** Deletes a span and its relations. @param {string} id */
  remove(id) {
    if (this.selected === id) this.selected = null;
    this.host.commit(this.host.entries().filter((e) => e.id !== id && !(e.kind === 'item' && e.item.type === 'relation' && (e.item.from_id === id || e.item.to_id === id))));
  }
}
