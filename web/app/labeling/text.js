// Named-entity spans on a `Text` object (or a `Paragraphs` object, with
// `ParagraphLabels`: its paragraphs shown as blocks with their authors, its
// spans `paragraphlabels` results: paragraph indexes and offsets in them): select text with the mouse and it
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
// deletes its relations. With a `<Relations>` in the config, each relation's
// row has its labels as toggles (one, or several with `choice="multiple"`),
// and its direction turns right → left → both.

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
 *   spanColor?: ((id: string) => string | null) | null,
 *   readOnly: boolean,
 *   relationLabels?: {labels: LabelDef[], multiple: boolean} | null,
 *   onSelect?: () => void,
 * }} TextHost
 */

/** A span as drawn: its entry, code point offsets and label. @typedef {{id: string, start: number, end: number, label: string, control: string}} Span */

/**
 * Code points a block of text holds at most before it is cut (at a space):
 * an edit lays out again only its block, not a whole long document, and
 * blocks out of view are not laid out at all.
 */
const BLOCK = 1000;

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

/**
 * Where the blocks of a text start: at each line, and in a line longer than
 * BLOCK code points after the last space before each BLOCK more; and at
 * each of `paragraphs` (where the paragraphs of a `Paragraphs` start).
 * @param {string[]} chars @param {number[]} paragraphs
 * @returns {number[]}
 */
function blockStarts(chars, paragraphs) {
  const starts = [0];
  let last = 0;
  const paragraphStarts = new Set(paragraphs);
  for (let i = 0; i < chars.length; i++) {
    if (paragraphStarts.has(i + 1) && i + 1 < chars.length) {
      starts.push(i + 1);
      last = i + 1;
    } else if (chars[i] === '\n' && i + 1 < chars.length) {
      starts.push(i + 1);
      last = i + 1;
    } else if (i - last >= BLOCK && /\s/u.test(chars[i])) {
      starts.push(i + 1);
      last = i + 1;
    }
  }
  return starts.filter((start, i) => start < chars.length || i === 0);
}

/** One Text object's spans. */
export class TextView {
  /**
   * @param {ObjectTag} object @param {string} text @param {TextHost} host
   * @param {{starts: number[], authors: (string | null)[]} | null} [paragraphs] a
   *   `Paragraphs` object: where each paragraph starts in `text` (its texts
   *   joined by line breaks) and who wrote it; its spans are `paragraphlabels`
   */
  constructor(object, text, host, paragraphs = null) {
    this.object = object;
    this.text = text;
    this.host = host;
    this.paragraphs = paragraphs;
    const { chars, utf16 } = codePoints(text);
    this.chars = chars;
    this.utf16 = utf16;
    /** The Labels (ParagraphLabels) controls on this text. */
    this.labelControls = host.controls.filter((c) => c.kind === (paragraphs ? 'ParagraphLabels' : 'Labels') && c.to_names.includes(object.name));
    /** The span picked by a click, for Delete. @type {string | null} */
    this.selected = null;
    /** The span a relation is being drawn from (R pressed), or null. @type {string | null} */
    this.relating = null;
    /** The entries drawn last, to draw again only when they change. @type {readonly Entry[] | null} */
    this.drawn = null;
    /** The spans drawn last, by id. @type {Map<string, Span> | null} */
    this.shown = null;
    /** The pieces of text in order, and where each starts (code points). @type {HTMLElement[]} */
    this.pieces = [];
    /** @type {number[]} */
    this.pieceStarts = [];
    /** The list's rows by span id, and the ids in list order. @type {Map<string, HTMLElement>} */
    this.rows = new Map();
    /** @type {string[]} */
    this.listOrder = [];
    this.body = el('div', { class: 'gl-text gl-text-spans', 'data-object': object.name });
    /** Where each block of text starts (code points), and the blocks. @type {number[]} */
    this.blockStarts = blockStarts(chars, paragraphs?.starts ?? []);
    /** @type {HTMLElement[]} */
    this.blocks = this.blockStarts.map((start) => {
      const block = el('div', { class: 'gl-text-block' });
      // A paragraph's first block shows its author, outside the text.
      const paragraph = paragraphs ? paragraphs.starts.indexOf(start) : -1;
      const author = paragraph >= 0 ? paragraphs?.authors[paragraph] : null;
      if (paragraph >= 0) block.classList.add('gl-paragraph');
      if (author) block.append(el('span', { class: 'gl-paragraph-author' }, [author]));
      return block;
    });
    this.body.append(...this.blocks);
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
      } else if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && !e.ctrlKey && !e.metaKey && !e.altKey) {
        // The keyboard selects too: ←/→ move over tokens, with Shift they
        // extend the selection; a label's key then makes it a span.
        e.preventDefault();
        e.stopPropagation();
        this.moveCaret(e.key === 'ArrowRight' ? 1 : -1, e.shiftKey);
      }
    });
    /** The keyboard's selection, by token: where it started and where it is. @type {{anchor: number, focus: number} | null} */
    this.caret = null;
    /** The text's tokens (as the CoNLL export's tokenizer cuts them), made when first needed. @type {[number, number][] | null} */
    this.tokenList = null;
    this.update();
  }

  /** The text's tokens: words, and every other character but white space. */
  tokens() {
    if (!this.tokenList) {
      /** @type {[number, number][]} */
      const tokens = [];
      for (let i = 0; i < this.chars.length; i++) {
        if (/\s/u.test(this.chars[i])) continue;
        let end = i + 1;
        if (WORD.test(this.chars[i])) while (end < this.chars.length && WORD.test(this.chars[end])) end++;
        tokens.push([i, end]);
        i = end - 1;
      }
      this.tokenList = tokens;
    }
    return this.tokenList;
  }

  /**
   * Moves the keyboard's selection one token (`by` ±1); with `extend` its
   * far end only. It is the browser's selection, so a label's key makes it
   * a span as a mouse selection would be.
   * @param {number} by @param {boolean} extend
   */
  moveCaret(by, extend) {
    const tokens = this.tokens();
    if (!tokens.length) return;
    const last = tokens.length - 1;
    if (!this.caret) this.caret = { anchor: by > 0 ? 0 : last, focus: by > 0 ? 0 : last };
    else {
      const focus = Math.min(last, Math.max(0, this.caret.focus + by));
      this.caret = { anchor: extend ? this.caret.anchor : focus, focus };
    }
    const first = Math.min(this.caret.anchor, this.caret.focus);
    const end = Math.max(this.caret.anchor, this.caret.focus);
    const from = this.domPoint(tokens[first][0]);
    const to = this.domPoint(tokens[end][1]);
    const selection = window.getSelection();
    if (!from || !to || !selection) return;
    const range = document.createRange();
    range.setStart(from[0], from[1]);
    range.setEnd(to[0], to[1]);
    selection.removeAllRanges();
    selection.addRange(range);
    /** @type {HTMLElement} */ (from[0].parentElement).scrollIntoView?.({ block: 'nearest' });
  }

  /**
   * The text node and UTF-16 offset of code point `offset`.
   * @param {number} offset
   * @returns {[Node, number] | null}
   */
  domPoint(offset) {
    // At a piece's end, the piece before (a boundary belongs to both).
    let index = this.pieceAt(offset);
    if (index > 0 && this.pieceStarts[index] === offset) index--;
    const piece = this.pieces[index];
    const node = piece?.firstChild;
    if (!node) return null;
    return [node, this.utf16[offset] - this.utf16[this.pieceStarts[index]]];
  }

  /** The spans of this text, from the entries. @returns {Span[]} */
  spans() {
    /** @type {Span[]} */
    const spans = [];
    for (const entry of this.host.entries()) {
      if (entry.kind !== 'item') continue;
      const item = entry.item;
      if (item.type !== (this.paragraphs ? 'paragraphlabels' : 'labels') || item.to_name !== this.object.name) continue;
      const [start, end] = this.paragraphs ? this.fromParagraphs(item.value) : [Number(item.value?.start), Number(item.value?.end)];
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.chars.length || start >= end) continue;
      const labels = this.paragraphs ? item.value?.paragraphlabels : item.value?.labels;
      const label = Array.isArray(labels) ? String(labels[0] ?? '') : '';
      spans.push({ id: entry.id, start, end, label, control: item.from_name });
    }
    return spans;
  }

  /**
   * A `paragraphlabels` value's code point offsets in the joined text.
   * @param {Record<string, any> | undefined} value
   * @returns {[number, number]}
   */
  fromParagraphs(value) {
    const starts = /** @type {{starts: number[]}} */ (this.paragraphs).starts;
    const at = (/** @type {unknown} */ index, /** @type {unknown} */ offset) => {
      const p = Number(index);
      return Number.isInteger(p) && p >= 0 && p < starts.length ? starts[p] + Number(offset) : NaN;
    };
    return [at(value?.start, value?.startOffset), at(value?.end, value?.endOffset)];
  }

  /**
   * Code points `[start, end)` of the joined text as Label Studio's
   * paragraph span: the paragraphs it starts and ends in, offsets in them.
   * @param {number} start @param {number} end
   */
  toParagraphs(start, end) {
    const starts = /** @type {{starts: number[]}} */ (this.paragraphs).starts;
    const paragraphOf = (/** @type {number} */ offset) => {
      let p = 0;
      while (p + 1 < starts.length && starts[p + 1] <= offset) p++;
      return p;
    };
    const first = paragraphOf(start);
    const last = paragraphOf(end - 1);
    return { start: first, end: last, startOffset: start - starts[first], endOffset: end - starts[last] };
  }

  /** The relations whose both ends are among `spans` (this text's). @param {Span[]} spans */
  relationItems(spans) {
    const ids = new Set(spans.map((s) => s.id));
    return this.host.entries().flatMap((entry) => {
      if (entry.kind !== 'item' || entry.item.type !== 'relation') return [];
      const { from_id: from, to_id: to } = entry.item;
      const labels = Array.isArray(entry.item.labels) ? entry.item.labels.map(String) : [];
      const direction = typeof entry.item.direction === 'string' ? entry.item.direction : 'right';
      return ids.has(from) && ids.has(to) ? [{ id: entry.id, from: String(from), to: String(to), labels, direction }] : [];
    });
  }

  /**
   * Changes a relation's item: its labels or its direction.
   * @param {string} id @param {{labels?: string[], direction?: string}} changes
   */
  changeRelation(id, changes) {
    this.host.commit(this.host.entries().map((e) => {
      if (e.id !== id || e.kind !== 'item') return e;
      /** @type {Record<string, unknown>} */
      const item = { ...e.item, ...changes };
      if (Array.isArray(item.labels) && !item.labels.length) delete item.labels;
      return { kind: 'item', id, item: /** @type {ResultItem} */ (Object.freeze(item)) };
    }));
  }

  /** A relation's row: its ends, direction, labels and delete button. @param {{id: string, from: string, to: string, labels: string[], direction: string}} r @param {(id: string) => string} name */
  relationRow(r, name) {
    const readOnly = this.host.readOnly;
    const remove = el('button', { type: 'button', class: 'gl-icon', title: 'Delete this relation', 'aria-label': 'Delete', disabled: readOnly }, ['×']);
    remove.addEventListener('click', () => this.host.commit(this.host.entries().filter((e) => e.id !== r.id)));
    const arrows = /** @type {Record<string, string>} */ ({ right: '→', left: '←', bi: '↔' });
    const turn = el('button', { type: 'button', class: 'gl-icon gl-relation-direction', title: 'Direction: right → left → both', 'aria-label': `Direction ${r.direction}`, disabled: readOnly }, [arrows[r.direction] ?? '→']);
    const next = /** @type {Record<string, string>} */ ({ right: 'left', left: 'bi', bi: 'right' });
    turn.addEventListener('click', () => this.changeRelation(r.id, { direction: next[r.direction] ?? 'right' }));
    const options = this.host.relationLabels;
    const chips = (options?.labels ?? []).map((label) => {
      const on = r.labels.includes(label.value);
      const chip = el('button', { type: 'button', class: on ? 'gl-chip gl-on' : 'gl-chip', 'aria-pressed': String(on), disabled: readOnly }, [label.value]);
      if (label.background) chip.style.borderColor = label.background;
      chip.addEventListener('click', () => {
        const labels = on ? r.labels.filter((l) => l !== label.value) : options?.multiple ? [...r.labels, label.value] : [label.value];
        this.changeRelation(r.id, { labels });
      });
      return chip;
    });
    // Labels a relation carries that the config does not list are still shown.
    const others = r.labels.filter((l) => !options?.labels.some((o) => o.value === l)).map((l) => el('span', { class: 'gl-chip gl-on' }, [l]));
    return el('li', { class: 'gl-span-row', 'data-relation': r.id }, [name(r.from), ' ', turn, ' ', name(r.to), ...chips, ...others, remove]);
  }

  showHint() {
    this.hint.textContent = this.relating ? 'Click the span this one relates to (Esc cancels)' : '';
  }

  /**
   * Draws the text with its spans, and the list, when the entries changed:
   * only the pieces of text and the list rows of the spans that changed,
   * when few did (an edit), so that a new span shows within a frame however
   * long the document; everything when many did (the first draw, an undo
   * of a big change).
   */
  update() {
    const entries = this.host.entries();
    if (entries === this.drawn) return;
    this.drawn = entries;
    const spans = this.spans();
    const now = new Map(spans.map((s) => [s.id, s]));
    const before = this.shown;
    /** Spans drawn before and not now, or now and not before, or changed. @type {Span[]} */
    const changed = [];
    if (before) {
      for (const [id, s] of now) {
        const old = before.get(id);
        if (!old) changed.push(s);
        else if (old.start !== s.start || old.end !== s.end || old.label !== s.label || old.control !== s.control) changed.push(old, s);
      }
      for (const [id, old] of before) if (!now.has(id)) changed.push(old);
    }
    this.shown = now;
    if (!before || changed.length > 200) {
      this.drawPieces(0, this.chars.length, spans, 0, this.pieces.length);
      this.list.replaceChildren();
      this.rows.clear();
      this.listOrder = [];
      for (const s of spans) this.placeRow(s);
    } else {
      for (const s of changed) this.redrawRange(s.start, s.end, spans);
      for (const s of changed) {
        this.rows.get(s.id)?.remove();
        this.rows.delete(s.id);
        const at = this.listOrder.indexOf(s.id);
        if (at >= 0) this.listOrder.splice(at, 1);
      }
      for (const s of changed) if (now.get(s.id) === s && !this.rows.has(s.id)) this.placeRow(s);
    }
    const name = (/** @type {string} */ id) => {
      const s = now.get(id);
      return s ? `${s.label} «${this.chars.slice(s.start, s.end).join('')}»` : id;
    };
    this.relations.replaceChildren(...this.relationItems(spans).map((r) => this.relationRow(r, name)));
  }

  /**
   * Draws again the pieces of text over `[from, to)`, widened to the
   * pieces already there, with `spans` (all of this text's).
   * @param {number} from @param {number} to @param {Span[]} spans
   */
  redrawRange(from, to, spans) {
    // The first piece that ends after `from`, and the first that starts at or after `to`.
    const first = this.pieceAt(from);
    let last = first;
    while (last < this.pieceStarts.length && this.pieceStarts[last] < Math.max(to, from + 1)) last++;
    const start = this.pieceStarts[first] ?? 0;
    const end = last < this.pieceStarts.length ? this.pieceStarts[last] : this.chars.length;
    this.drawPieces(start, end, spans.filter((s) => s.start < end && s.end > start), first, last);
  }

  /**
   * Replaces pieces `first..last` (which cover `[from, to)`) by the pieces of
   * `[from, to)` cut at every boundary of `spans` inside it.
   * @param {number} from @param {number} to @param {Span[]} spans
   * @param {number} first @param {number} last
   */
  drawPieces(from, to, spans, first, last) {
    const cuts = new Set([from, to]);
    for (const s of spans) {
      if (s.start > from && s.start < to) cuts.add(s.start);
      if (s.end > from && s.end < to) cuts.add(s.end);
    }
    // A piece lies in one block.
    for (const start of this.blockStarts) if (start > from && start < to) cuts.add(start);
    const sorted = [...cuts].sort((a, b) => a - b);
    // A sweep over the cuts keeps the spans open at each piece (not a scan
    // of every span per piece: thousands of spans make millions of tests).
    const byStart = spans.slice().sort((a, b) => a.start - b.start);
    /** @type {Span[]} */
    let open = [];
    let next = 0;
    /** @type {HTMLElement[]} */
    const pieces = [];
    /** @type {number[]} */
    const starts = [];
    for (let i = 0; i + 1 < sorted.length; i++) {
      const [a, b] = [sorted[i], sorted[i + 1]];
      open = open.filter((s) => s.end > a);
      while (next < byStart.length && byStart[next].start <= a) open.push(byStart[next++]);
      const covering = open.filter((s) => s.end >= b).sort((x, y) => (y.start - x.start) || (x.end - y.end));
      const piece = el('span', { 'data-start': a, 'data-end': b });
      piece.textContent = this.text.slice(this.utf16[a], this.utf16[b]);
      if (covering.length) {
        const inner = covering[0];
        piece.className = 'gl-mark';
        piece.style.backgroundColor = `color-mix(in srgb, ${this.colorOfSpan(inner)} 22%, transparent)`;
        // Each level of nesting adds an underline in its label's colour.
        piece.style.boxShadow = covering.map((s, level) => `inset 0 -${2 * (level + 1)}px 0 ${this.colorOfSpan(s)}`).join(', ');
        piece.dataset.spans = covering.map((s) => s.id).join(' ');
        if (this.selected && covering.some((s) => s.id === this.selected)) piece.classList.add('gl-mark-selected');
      }
      pieces.push(piece);
      starts.push(a);
    }
    // Each piece goes to its block: before the first piece kept after the
    // range when that is in the same block, else at the block's end.
    const after = this.pieces[last] ?? null;
    const afterBlock = last < this.pieceStarts.length ? this.blockAt(this.pieceStarts[last]) : -1;
    for (const old of this.pieces.slice(first, last)) old.remove();
    pieces.forEach((piece, i) => {
      const block = this.blockAt(starts[i]);
      this.blocks[block].insertBefore(piece, block === afterBlock ? after : null);
    });
    this.pieces.splice(first, last - first, ...pieces);
    this.pieceStarts.splice(first, last - first, ...starts);
  }

  /** Puts a span's row in the list, in order of start (the longer first). @param {Span} s */
  placeRow(s) {
    const remove = el('button', { type: 'button', class: 'gl-icon', title: 'Delete this span', 'aria-label': 'Delete', disabled: this.host.readOnly }, ['×']);
    remove.addEventListener('click', () => this.remove(s.id));
    const text = this.chars.slice(s.start, s.end).join('');
    // Colours through the CSSOM: the page's policy refuses style attributes.
    const swatch = el('span', { class: 'gl-swatch' });
    swatch.style.background = this.colorOfSpan(s);
    const row = el('li', { class: s.id === this.selected ? 'gl-span-row gl-on' : 'gl-span-row', 'data-span': s.id }, [
      swatch, `${s.label} · `, el('q', {}, [text]), ` (${s.start}–${s.end})`, remove,
    ]);
    const order = (/** @type {Span} */ a, /** @type {Span} */ b) => a.start - b.start || b.end - a.end;
    const shown = /** @type {Map<string, Span>} */ (this.shown);
    // Binary search for the first row that sorts after this span.
    let lo = 0;
    let hi = this.listOrder.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = shown.get(this.listOrder[mid]);
      if (other && order(other, s) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const before = this.rows.get(this.listOrder[lo]) ?? null;
    this.list.insertBefore(row, before);
    this.listOrder.splice(lo, 0, s.id);
    this.rows.set(s.id, row);
  }

  /**
   * Picks a span (for Delete, R), or none: its pieces and row show it.
   * @param {string | null} id
   */
  setSelected(id) {
    this.showSelected(this.selected, false);
    this.showSelected(id, true);
    const changed = this.selected !== id;
    this.selected = id;
    // Per-span controls (perRegion) show the picked span's values.
    if (changed) this.host.onSelect?.();
  }

  /** @param {string | null} id @param {boolean} on */
  showSelected(id, on) {
    const s = id ? this.shown?.get(id) : null;
    if (!s) return;
    this.rows.get(s.id)?.classList.toggle('gl-on', on);
    for (let i = this.pieceAt(s.start); i < this.pieces.length && this.pieceStarts[i] < s.end; i++) {
      const piece = this.pieces[i];
      if (piece.dataset.spans?.split(' ').includes(s.id)) piece.classList.toggle('gl-mark-selected', on);
    }
  }

  /** The index of the block holding code point `offset`. @param {number} offset */
  blockAt(offset) {
    let lo = 0;
    let hi = this.blockStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.blockStarts[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  /** The index of the piece holding code point `offset` (0 when there is none). @param {number} offset */
  pieceAt(offset) {
    let lo = 0;
    let hi = this.pieceStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.pieceStarts[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
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
      if (node.nodeType === Node.TEXT_NODE) {
        const piece = node.parentElement;
        if (!piece || !this.body.contains(piece) || piece.dataset.start === undefined) return null;
        // UTF-16 units within the piece to code points.
        return Number(piece.dataset.start) + Array.from((node.textContent ?? '').slice(0, offset)).length;
      }
      const element = /** @type {HTMLElement} */ (node);
      if (element !== this.body && !this.body.contains(element)) return null;
      if (element.dataset.start !== undefined) return Number(offset === 0 ? element.dataset.start : element.dataset.end);
      // The text or a block: the boundary before its child `offset`.
      // (skipping a paragraph's author, which is not part of the text)
      for (let child = /** @type {HTMLElement | null} */ (element.childNodes[offset] ?? null); child; child = /** @type {HTMLElement | null} */ (child.nextSibling)) {
        const piece = child.dataset?.start !== undefined ? child : child.querySelector?.('[data-start]');
        if (piece) return Number(/** @type {HTMLElement} */ (piece).dataset.start);
      }
      const pieces = element.querySelectorAll('[data-start]');
      const last = /** @type {HTMLElement | undefined} */ (pieces[pieces.length - 1]);
      return last ? Number(last.dataset.end) : 0;
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
    const text = this.chars.slice(start, end).join('');
    /** @type {ResultItem} */
    const item = Object.freeze({
      id, from_name: control.name, to_name: this.object.name, type: this.paragraphs ? 'paragraphlabels' : 'labels',
      value: this.paragraphs
        ? { ...this.toParagraphs(start, end), text, paragraphlabels: [value] }
        : { start, end, text, labels: [value] },
    });
    this.setSelected(null);
    this.selected = id;
    this.host.commit([...this.host.entries(), { kind: 'item', id, item }]);
    return true;
  }

  /** A span's colour: its label's, unless the workspace colours it (comparisons). @param {Span} span */
  colorOfSpan(span) {
    return this.host.spanColor?.(span.id) ?? this.host.colorOfLabel(span.control, span.label);
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
    this.setSelected(clicked);
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
    if (this.selected === id) this.setSelected(null);
    this.host.commit(this.host.entries().filter((e) => e.id !== id && !(e.kind === 'item' && e.item.type === 'relation' && (e.item.from_id === id || e.item.to_id === id))));
  }
}
