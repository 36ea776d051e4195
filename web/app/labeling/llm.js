// LLM feedback in the workspace: a prompt or chat history, model responses
// rendered from Markdown, and the controls that judge them.
//
// - `Chat` objects show their messages (`{role, content}`), `List` objects
//   their items (`{id, title, body}`) as cards, and `Text` objects with
//   `markdown="true"` their text; Markdown comes as HTML the server rendered
//   and sanitized (POST /api/v1/markdown, through the page's
//   `renderMarkdown`); without it the text is shown as plain text.
// - `Pairwise` (Label Studio's, with Gloss's tie and strength): A is better
//   (A), B is better (B), tie (T, with `allowTie`), strength Alt+1…N.
// - `Ranker` on a `List`: the cards are the ranking, best first. Drag a card,
//   or focus it (click, Tab, ↑/↓) and move it with Alt+↑/Alt+↓; "Keep this
//   order" (O) ranks the list as shown. With `<Bucket>`s each card has a
//   button per bucket instead.
// - `perItem` controls on the `List` (Label Studio's `perItem`): Rating,
//   Choices and TextArea results per card, with the card's `item_index`.
//   Alt+1…9 rates the focused card on the first such Rating. A `TextArea`
//   prefilled from the list (`value="$responses"`) rewrites the card's
//   response: E opens it on the focused card.
//
// All of it is result items in the workspace's entries, edited through
// `commit`, so undo, drafts and submit treat them like any other result.

import { el, button } from './dom.js';
import { newId } from './model.js';
import { keyLabel } from './keymap.js';

/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ItemEntry} ItemEntry */
/** @typedef {import('./types.js').ResultItem} ResultItem */
/** @typedef {import('./types.js').LabelConfig} LabelConfig */

/**
 * What the view needs from the workspace.
 * @typedef {{
 *   entries: () => readonly Entry[],
 *   commit: (next: Entry[], mergeKey?: string | null) => void,
 *   readOnly: boolean,
 *   html: Map<string, string>,
 * }} LlmHost
 */

/** A List item as shown. @typedef {{id: string, title: string, body: string}} ListItem */

/** A List shown, with what judges its items. @typedef {{object: ObjectTag, items: ListItem[], ranker: ControlTag | null, bucketed: boolean, perItem: ControlTag[]}} ListEntry */

/** A command: key, what it does, run, label. @typedef {[string, string, (e: KeyboardEvent) => boolean, string?]} Command */

/**
 * The texts of a task that are shown as Markdown, for one request to the renderer.
 * @param {LabelConfig} config @param {Record<string, unknown>} data
 * @returns {string[]}
 */
export function markdownTexts(config, data) {
  /** @type {Set<string>} */
  const texts = new Set();
  for (const object of config.objects) {
    if (object.kind === 'Chat') for (const m of chatMessages(data[object.value])) texts.add(m.content);
    else if (object.kind === 'List') for (const item of listItems(data[object.value])) texts.add(item.body);
    else if (object.kind === 'Text' && isMarkdownText(object, config)) texts.add(textOf(data[object.value]));
  }
  texts.delete('');
  return [...texts];
}

/** Whether a Text object is shown as Markdown: `markdown="true"` and no Labels marking spans on it. @param {ObjectTag} object @param {LabelConfig} config */
export function isMarkdownText(object, config) {
  return object.attributes.markdown === 'true' && !config.controls.some((c) => c.kind === 'Labels' && c.to_names.includes(object.name));
}

/** @param {unknown} value */
function textOf(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A chat history: a list of `{role, content}` messages, or one string (a user message).
 * @param {unknown} value
 * @returns {{role: string, content: string}[]}
 */
export function chatMessages(value) {
  if (typeof value === 'string') return [{ role: 'user', content: value }];
  if (!Array.isArray(value)) return [];
  return value.map((m) => {
    const message = /** @type {Record<string, unknown>} */ (m && typeof m === 'object' ? m : { content: m });
    return { role: typeof message.role === 'string' ? message.role : 'user', content: textOf(message.content ?? message.text) };
  });
}

/**
 * A List's items as Label Studio's `List` takes them (`{id, title, body}`), or
 * strings (their 0-based index is their id, as the exports read them).
 * @param {unknown} value
 * @returns {ListItem[]}
 */
export function listItems(value) {
  if (!Array.isArray(value)) return [];
  return value.map((raw, index) => {
    if (raw && typeof raw === 'object') {
      const item = /** @type {Record<string, unknown>} */ (raw);
      const id = typeof item.id === 'string' || typeof item.id === 'number' ? String(item.id) : String(index);
      return { id, title: textOf(item.title), body: textOf(item.body ?? item.text) };
    }
    return { id: String(index), title: '', body: textOf(raw) };
  });
}

/** Whether a control gives one result per item of a List. @param {ControlTag} control */
export const isPerItem = (control) => control.attributes.perItem === 'true';

/** The response a TextArea rewrites: its `value="$key"` names the data key of the object it annotates. @param {ControlTag} control @param {ObjectTag} object */
const rewrites = (control, object) => control.kind === 'TextArea' && control.attributes.value === `$${object.value}`;

export class LlmView {
  /**
   * @param {LabelConfig} config @param {Record<string, unknown>} data @param {LlmHost} host
   */
  constructor(config, data, host) {
    this.config = config;
    this.data = data;
    this.host = host;
    /** Redraws, one per element shown. @type {(() => void)[]} */
    this.updates = [];
    /** The cards of each List, in the order shown. @type {Map<string, {cards: HTMLElement[], items: ListItem[]}>} */
    this.lists = new Map();
    /** The card with the keyboard focus's item, by list. @type {{list: string, id: string} | null} */
    this.focused = null;
    /** Rewrite boxes open, by `list\0id\0control`. @type {Set<string>} */
    this.open = new Set();
    /** @type {ListEntry[]} */
    this.listObjects = [];
    /** @type {{control: ControlTag, pick: (selected: string) => void, strengthen: (n: number) => boolean, strengths: number, allowTie: boolean} | null} */
    this.pairwise = null;
  }

  // ---- results -----------------------------------------------------------------
  /** @param {ControlTag} control @param {number | null} index */
  itemOf(control, index) {
    const entry = this.host.entries().find((e) => e.kind === 'item' && e.item.from_name === control.name && (index === null ? e.item.item_index === undefined : e.item.item_index === index));
    return entry && entry.kind === 'item' ? entry.item : null;
  }

  /**
   * Set (or with null, remove) a control's result: on its object, or with
   * `index` on one item of a List.
   * @param {ControlTag} control @param {string} toName @param {Record<string, unknown> | null} value
   * @param {number | null} index @param {string | null} [mergeKey]
   */
  setValue(control, toName, value, index, mergeKey = null) {
    if (this.host.readOnly) return;
    const current = this.itemOf(control, index);
    const next = this.host.entries().filter((e) => !(e.kind === 'item' && e.item === current));
    if (value) {
      const id = current?.id ?? newId();
      /** @type {ResultItem} */
      const item = { ...(current ?? { id, from_name: control.name, to_name: toName, type: control.kind.toLowerCase() }), value };
      if (index !== null) item.item_index = index;
      const at = this.host.entries().findIndex((e) => e.kind === 'item' && e.item === current);
      /** @type {ItemEntry} */
      const entry = { kind: 'item', id, item: Object.freeze(item) };
      if (at >= 0) next.splice(at, 0, entry);
      else next.push(entry);
    }
    this.host.commit(next, mergeKey);
  }

  update() {
    for (const update of this.updates) update();
  }

  // ---- Markdown ------------------------------------------------------------------
  /** The text as the server's sanitized HTML, else as plain text. @param {string} text */
  markdown(text) {
    const html = this.host.html.get(text);
    const node = el('div', { class: html === undefined ? 'gl-md gl-md-plain' : 'gl-md' });
    // Sanitized by the server (ammonia's allow-list); the page's CSP runs no inline script either way.
    if (html !== undefined) node.innerHTML = html;
    else node.textContent = text;
    return node;
  }

  /** @param {ObjectTag} object */
  chatElement(object) {
    const messages = chatMessages(this.data[object.value]);
    return el('div', { class: 'gl-chat', 'data-object': object.name }, messages.map((m) =>
      el('div', { class: `gl-message gl-role-${/^[a-z]+$/.test(m.role) ? m.role : 'other'}` }, [el('div', { class: 'gl-role' }, [m.role]), this.markdown(m.content)])));
  }

  /** @param {ObjectTag} object */
  markdownText(object) {
    const node = this.markdown(textOf(this.data[object.value]));
    return el('div', { class: 'gl-text gl-md-text', 'data-object': object.name }, [node]);
  }

  // ---- Pairwise ----------------------------------------------------------------------
  /** @param {ControlTag} control */
  pairwisePanel(control) {
    const [left, right] = control.to_names;
    const strengths = Math.min(10, Math.floor(Number(control.attributes.strength)) || 0);
    const valueOf = () => /** @type {{selected?: string, strength?: number} | null} */ (this.itemOf(control, null)?.value ?? null);
    /** @param {string} selected */
    const pick = (selected) => {
      const current = valueOf();
      if (current?.selected === selected) return this.setValue(control, left, null, null);
      /** @type {Record<string, unknown>} */
      const value = { ...(current ?? {}), selected };
      if (selected === 'tie') delete value.strength;
      this.setValue(control, left, value, null);
    };
    /** @param {number} strength */
    const strengthen = (strength) => {
      const current = valueOf();
      if (!current || current.selected === 'tie') return false;
      /** @type {Record<string, unknown>} */
      const value = { ...current, strength };
      if (current.strength === strength) delete value.strength;
      this.setValue(control, left, value, null);
      return true;
    };
    const sides = [
      ['left', 'A is better', 'a'],
      ...(control.attributes.allowTie === 'true' ? [['tie', 'Tie', 't']] : []),
      ['right', 'B is better', 'b'],
    ];
    const buttons = sides.map(([selected, text, key]) => {
      const b = button(text, `${text} (${keyLabel(key)})`, () => pick(selected), 'gl-pick');
      b.dataset.selected = selected;
      b.append(' ', el('kbd', { class: 'gl-hotkey' }, [keyLabel(key)]));
      return b;
    });
    const strengthButtons = Array.from({ length: strengths }, (_, i) => {
      const b = button(String(i + 1), `Strength ${i + 1} of ${strengths} (Alt+${i + 1})`, () => strengthen(i + 1), 'gl-strength');
      b.dataset.strength = String(i + 1);
      return b;
    });
    const strengthRow = strengths
      ? el('div', { class: 'gl-strengths', role: 'group', 'aria-label': 'Strength' }, [el('span', { class: 'gl-muted' }, ['How much better: ']), ...strengthButtons, el('kbd', { class: 'gl-hotkey' }, [`Alt+1…${strengths}`])])
      : null;
    const element = el('div', { class: 'gl-panel gl-pairwise', 'data-control': control.name }, [
      el('div', { class: 'gl-pairwise-buttons', role: 'group', 'aria-label': control.name }, buttons),
      strengthRow,
    ]);
    const update = () => {
      const value = valueOf();
      for (const b of buttons) {
        b.classList.toggle('gl-on', value?.selected === b.dataset.selected);
        b.disabled = this.host.readOnly;
      }
      for (const b of strengthButtons) {
        b.classList.toggle('gl-on', value?.strength === Number(b.dataset.strength));
        b.disabled = this.host.readOnly || !value || value.selected === 'tie';
      }
      // The two objects are marked A and B where they are shown, and the preferred one stands out.
      for (const [name, side, letter] of [[left, 'left', 'A'], [right, 'right', 'B']]) {
        const shown = document.querySelector(`[data-object="${CSS.escape(name ?? '')}"]`);
        if (shown instanceof HTMLElement) shown.dataset.side = letter;
        shown?.classList.toggle('gl-preferred', value?.selected === side);
        shown?.classList.toggle('gl-tied', value?.selected === 'tie');
      }
    };
    this.updates.push(update);
    this.pairwise = { control, pick, strengthen, strengths, allowTie: control.attributes.allowTie === 'true' };
    return { element, update };
  }

  // ---- List and Ranker -------------------------------------------------------------------
  /** @param {string} list */
  rankersOf(list) {
    return this.config.controls.filter((c) => c.kind === 'Ranker' && c.to_names.includes(list));
  }

  /** The ids in ranked order (the result's, then any it lacks; else as the task lists them). @param {ControlTag} ranker @param {ListItem[]} items */
  order(ranker, items) {
    const ids = items.map((i) => i.id);
    const ranked = this.itemOf(ranker, null)?.value?.ranker?.[ranker.name];
    if (!Array.isArray(ranked)) return ids;
    const known = ranked.filter((id) => ids.includes(id));
    return [...known, ...ids.filter((id) => !known.includes(id))];
  }

  /** @param {ControlTag} ranker @param {ObjectTag} object @param {string[]} ids */
  setOrder(ranker, object, ids) {
    this.setValue(ranker, object.name, { ranker: { [ranker.name]: ids } }, null);
  }

  /** @param {ControlTag} ranker @param {ObjectTag} object @param {ListItem[]} items @param {string} id @param {string} bucket */
  toBucket(ranker, object, items, id, bucket) {
    const current = /** @type {Record<string, string[]>} */ (this.itemOf(ranker, null)?.value?.ranker ?? {});
    const buckets = ranker.buckets ?? [];
    const fallback = buckets.find((b) => b.default)?.name ?? '_';
    const ids = items.map((i) => i.id);
    /** @type {Record<string, string[]>} */
    const next = {};
    for (const b of buckets) next[b.name] = (current[b.name] ?? []).filter((x) => x !== id && ids.includes(x));
    // A second press on its bucket takes it out again, back to the list (or the default bucket).
    if (!current[bucket]?.includes(id)) next[bucket].push(id);
    const placed = new Set(Object.values(next).flat());
    next[fallback] = [...(next[fallback] ?? []), ...ids.filter((x) => !placed.has(x))];
    this.setValue(ranker, object.name, { ranker: next }, null);
  }

  /**
   * A List: its items as cards, ranked by its Ranker, with its per-item controls.
   * @param {ObjectTag} object
   */
  listElement(object) {
    const items = listItems(this.data[object.value]);
    const ranker = this.rankersOf(object.name)[0] ?? null;
    const bucketed = Boolean(ranker?.buckets?.length);
    const perItem = this.config.controls.filter((c) => isPerItem(c) && c.to_names.includes(object.name));
    const list = el('ol', { class: 'gl-list', 'data-object': object.name, 'aria-label': object.attributes.title || object.name });
    const title = object.attributes.title ? el('div', { class: 'gl-header' }, [object.attributes.title]) : null;
    /** @type {Map<string, {card: HTMLElement, update: () => void}>} */
    const cards = new Map();
    items.forEach((item, index) => cards.set(item.id, this.card(object, item, index, ranker, bucketed, perItem, items)));
    /** @type {string | null} */
    let dragged = null;
    list.addEventListener('dragstart', (e) => {
      const card = /** @type {HTMLElement | null} */ (e.target instanceof HTMLElement ? e.target.closest('.gl-card') : null);
      if (!card || !ranker || bucketed || this.host.readOnly) return;
      dragged = card.dataset.id ?? null;
      e.dataTransfer?.setData('text/plain', dragged ?? '');
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      card.classList.add('gl-dragging');
    });
    list.addEventListener('dragover', (e) => {
      if (dragged !== null) e.preventDefault();
    });
    list.addEventListener('drop', (e) => {
      if (dragged === null || !ranker) return;
      e.preventDefault();
      const ids = this.order(ranker, items).filter((id) => id !== dragged);
      // Before the first card whose middle is below the drop point.
      const below = [...list.children].find((c) => {
        const r = c.getBoundingClientRect();
        return c instanceof HTMLElement && c.dataset.id !== dragged && e.clientY < r.top + r.height / 2;
      });
      const beforeId = below instanceof HTMLElement ? below.dataset.id ?? null : null;
      const at = beforeId === null ? ids.length : ids.indexOf(beforeId);
      ids.splice(at, 0, dragged);
      this.setOrder(ranker, object, ids);
      this.focused = { list: object.name, id: dragged };
    });
    list.addEventListener('dragend', () => {
      dragged = null;
      for (const { card } of cards.values()) card.classList.remove('gl-dragging');
    });
    const keep = ranker && !bucketed ? button('Keep this order', 'Rank the responses as shown (O)', () => this.setOrder(ranker, object, this.order(ranker, items)), 'gl-keep-order') : null;
    const firstCriterion = perItem.find((c) => c.kind === 'Rating');
    const keys = [
      ranker ? (bucketed ? 'Put each response in a bucket.' : 'Best first: drag a response, or focus it (click, ↑/↓) and press Alt+↑ / Alt+↓.') : 'Focus a response with ↑/↓.',
      firstCriterion ? ` Alt+1…9 rates the focused one on “${firstCriterion.attributes.title || firstCriterion.name}”.` : '',
      perItem.some((c) => rewrites(c, object)) ? ' E rewrites it.' : '',
    ].join('');
    const hint = ranker || perItem.length ? el('div', { class: 'gl-muted gl-rank-hint' }, [keys, ' ', keep]) : null;
    const element = el('div', { class: 'gl-panel gl-responses' }, [title, hint, list]);
    const update = () => {
      const ids = ranker && !bucketed ? this.order(ranker, items) : items.map((i) => i.id);
      const shown = ids.map((id) => cards.get(id)?.card).filter((c) => c !== undefined);
      const same = shown.length === list.children.length && shown.every((c, i) => list.children[i] === c);
      if (!same) {
        const active = document.activeElement;
        list.replaceChildren(...shown);
        if (active instanceof HTMLElement && list.contains(active)) active.focus();
      }
      for (const { update } of cards.values()) update();
      if (keep) keep.classList.toggle('gl-on', Boolean(ranker && this.itemOf(ranker, null)));
      if (keep) keep.disabled = this.host.readOnly;
      this.lists.set(object.name, { cards: /** @type {HTMLElement[]} */ (shown), items });
    };
    this.updates.push(update);
    this.listObjects.push({ object, items, ranker, bucketed, perItem });
    return { element, update };
  }

  /**
   * One response's card.
   * @param {ObjectTag} object @param {ListItem} item @param {number} index @param {ControlTag | null} ranker
   * @param {boolean} bucketed @param {ControlTag[]} perItem @param {ListItem[]} items
   */
  card(object, item, index, ranker, bucketed, perItem, items) {
    const place = el('span', { class: 'gl-rank' });
    const title = el('span', { class: 'gl-card-title' }, [item.title || `Response ${index + 1}`]);
    const up = ranker && !bucketed ? button('↑', 'Move up (Alt+↑)', () => this.move(object.name, item.id, -1), 'gl-icon') : null;
    const down = ranker && !bucketed ? button('↓', 'Move down (Alt+↓)', () => this.move(object.name, item.id, 1), 'gl-icon') : null;
    const head = el('div', { class: 'gl-card-head' }, [place, title, el('span', { class: 'gl-muted' }, [item.id]), el('span', { class: 'gl-grow' }), up, down]);
    /** @type {(() => void)[]} */
    const updates = [];
    /** @type {(HTMLElement | null)[]} */
    const parts = [];
    const bucketButtons = bucketed && ranker
      ? (ranker.buckets ?? []).map((b) => {
        const bb = button(b.title || b.name, `Put in ${b.title || b.name}`, () => this.toBucket(ranker, object, items, item.id, b.name), 'gl-bucket');
        bb.dataset.bucket = b.name;
        return bb;
      })
      : [];
    if (bucketButtons.length) {
      parts.push(el('div', { class: 'gl-buckets' }, bucketButtons));
      updates.push(() => {
        const value = /** @type {Record<string, string[]>} */ (ranker ? this.itemOf(ranker, null)?.value?.ranker ?? {} : {});
        for (const bb of bucketButtons) bb.classList.toggle('gl-on', Boolean(value[bb.dataset.bucket ?? '']?.includes(item.id)));
      });
    }
    for (const control of perItem) {
      if (control.kind === 'Rating') {
        const most = Math.max(1, Math.floor(Number(control.attributes.maxRating)) || 5);
        const stars = Array.from({ length: most }, (_, i) => {
          const star = el('button', { type: 'button', class: 'gl-star', 'aria-label': `${control.name} ${i + 1} of ${most}`, 'aria-pressed': 'false', disabled: this.host.readOnly }, ['★']);
          star.addEventListener('click', () => this.rate(control, object, index, i + 1));
          return star;
        });
        parts.push(el('div', { class: 'gl-criterion', 'data-control': control.name }, [el('span', { class: 'gl-criterion-name' }, [control.attributes.title || control.name]), el('div', { class: 'gl-stars' }, stars)]));
        updates.push(() => {
          const rating = this.itemOf(control, index)?.value?.rating ?? null;
          stars.forEach((star, i) => {
            star.classList.toggle('gl-on', rating !== null && i < rating);
            star.setAttribute('aria-pressed', String(rating === i + 1));
          });
        });
      } else if (control.kind === 'Choices') {
        const options = control.labels.map((label) => {
          const b = button(label.value, label.value, () => {
            const chosen = /** @type {string[]} */ (this.itemOf(control, index)?.value?.choices ?? []);
            const multiple = control.choice === 'multiple';
            const next = chosen.includes(label.value) ? chosen.filter((c) => c !== label.value) : multiple ? [...chosen, label.value] : [label.value];
            this.setValue(control, object.name, next.length ? { choices: next } : null, index);
          }, 'gl-choice');
          b.dataset.value = label.value;
          return b;
        });
        parts.push(el('div', { class: 'gl-criterion', 'data-control': control.name }, [el('span', { class: 'gl-criterion-name' }, [control.name]), el('div', { class: 'gl-options' }, options)]));
        updates.push(() => {
          const chosen = this.itemOf(control, index)?.value?.choices ?? [];
          for (const b of options) b.classList.toggle('gl-on', chosen.includes(b.dataset.value));
        });
      } else if (control.kind === 'TextArea') {
        const prefill = rewrites(control, object) ? item.body : '';
        const area = el('textarea', { class: 'gl-textarea', rows: Number(control.attributes.rows) || 6, readonly: this.host.readOnly, 'aria-label': `${control.name}: ${item.title || item.id}`, placeholder: control.attributes.placeholder ?? '' });
        const key = `${object.name}\u0000${item.id}\u0000${control.name}`;
        const toggle = prefill
          ? button('Rewrite', 'Rewrite this response into a better one (E)', () => {
            if (this.open.has(key)) this.open.delete(key);
            else this.open.add(key);
            this.update();
            if (this.open.has(key)) area.focus();
          }, 'gl-rewrite-toggle')
          : null;
        area.addEventListener('input', () => {
          const text = area.value;
          const value = text && text !== prefill ? { text: [text] } : null;
          this.setValue(control, object.name, value, index, `text:${control.name}:${index}`);
        });
        const box = el('div', { class: 'gl-criterion gl-card-text', 'data-control': control.name }, [toggle ?? el('span', { class: 'gl-criterion-name' }, [control.name]), area]);
        parts.push(box);
        updates.push(() => {
          const written = this.itemOf(control, index)?.value?.text;
          const text = Array.isArray(written) ? written.join('\n') : null;
          if (document.activeElement !== area) area.value = text ?? prefill;
          const edited = text !== null;
          if (toggle) {
            toggle.classList.toggle('gl-on', edited);
            toggle.textContent = edited ? 'Rewritten' : 'Rewrite';
            area.hidden = !(edited || this.open.has(key));
          }
        });
      }
    }
    const card = el('li', { class: 'gl-card', tabindex: 0, 'data-id': item.id, draggable: ranker && !bucketed && !this.host.readOnly ? 'true' : null },
      [head, this.markdown(item.body), ...parts]);
    card.addEventListener('focus', () => {
      this.focused = { list: object.name, id: item.id };
    });
    const update = () => {
      const ids = ranker && !bucketed ? this.order(ranker, items) : [];
      const rank = ids.indexOf(item.id);
      place.textContent = rank >= 0 ? `#${rank + 1}` : '';
      card.classList.toggle('gl-ranked', Boolean(ranker && this.itemOf(ranker, null)));
      if (up) up.disabled = this.host.readOnly || rank <= 0;
      if (down) down.disabled = this.host.readOnly || rank === ids.length - 1;
      for (const u of updates) u();
    };
    return { card, update };
  }

  /** @param {ControlTag} control @param {ObjectTag} object @param {number} index @param {number} rating */
  rate(control, object, index, rating) {
    const current = this.itemOf(control, index)?.value?.rating ?? null;
    this.setValue(control, object.name, current === rating ? null : { rating }, index);
  }

  /** Move a card up (-1) or down (+1) the ranking. @param {string} listName @param {string} id @param {number} by */
  move(listName, id, by) {
    const entry = this.listObjects.find((l) => l.object.name === listName);
    if (!entry || !entry.ranker || entry.bucketed || this.host.readOnly) return false;
    const ids = this.order(entry.ranker, entry.items);
    const from = ids.indexOf(id);
    const to = from + by;
    if (from < 0 || to < 0 || to >= ids.length) return true;
    ids.splice(from, 1);
    ids.splice(to, 0, id);
    this.setOrder(entry.ranker, entry.object, ids);
    this.focusCard(listName, id);
    return true;
  }

  /** @param {string} listName @param {string} id */
  focusCard(listName, id) {
    this.focused = { list: listName, id };
    const card = this.lists.get(listName)?.cards.find((c) => c.dataset.id === id);
    card?.focus();
  }

  /** The focused card, if the keyboard focus is on one. */
  focusedCard() {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || !active.classList.contains('gl-card')) return null;
    const listName = active.closest('.gl-list')?.getAttribute('data-object') ?? '';
    const entry = this.listObjects.find((l) => l.object.name === listName);
    const id = active.dataset.id ?? '';
    return entry ? { entry, id, index: entry.items.findIndex((i) => i.id === id) } : null;
  }

  /**
   * The keys of the view, for the workspace's command list (and its `?` map).
   * @returns {Command[]}
   */
  commands() {
    /** @type {Command[]} */
    const found = [];
    const pairwise = this.pairwise;
    if (pairwise) {
      found.push(['a', 'Pairwise: the left response (A) is better', () => (pairwise.pick('left'), true)]);
      found.push(['b', 'Pairwise: the right response (B) is better', () => (pairwise.pick('right'), true)]);
      if (pairwise.allowTie) found.push(['t', 'Pairwise: a tie', () => (pairwise.pick('tie'), true)]);
    }
    const lists = this.listObjects;
    const ranked = lists.some((l) => l.ranker && !l.bucketed);
    const rated = lists.some((l) => l.perItem.some((c) => c.kind === 'Rating'));
    for (let n = 1; n <= 9; n++) {
      if (!rated && !(pairwise && n <= pairwise.strengths)) break;
      found.push([`alt+${n}`, n === 1 ? `Rate the focused response 1…9 on its first criterion${pairwise?.strengths ? '; or the pairwise strength' : ''}` : '', () => {
        const focused = this.focusedCard();
        const criterion = focused?.entry.perItem.find((c) => c.kind === 'Rating');
        if (focused && criterion) {
          const most = Math.max(1, Math.floor(Number(criterion.attributes.maxRating)) || 5);
          if (n <= most) this.rate(criterion, focused.entry.object, focused.index, n);
          return true;
        }
        return Boolean(pairwise && n <= pairwise.strengths && pairwise.strengthen(n));
      }, n === 1 ? 'Alt+1…9' : undefined]);
    }
    if (lists.length) {
      /** @param {number} by */
      const step = (by) => () => {
        const focused = this.focusedCard();
        const listName = focused?.entry.object.name ?? lists[0].object.name;
        const cards = this.lists.get(listName)?.cards ?? [];
        if (!cards.length) return false;
        const at = focused ? cards.findIndex((c) => c.dataset.id === focused.id) : -1;
        const next = cards[Math.max(0, Math.min(cards.length - 1, at < 0 ? 0 : at + by))];
        next.focus();
        return true;
      };
      found.push(['arrowdown', 'Focus the next response (↑: the previous)', step(1), '↑ / ↓']);
      found.push(['arrowup', '', step(-1)]);
    }
    if (ranked) {
      /** @param {number} by */
      const move = (by) => () => {
        const focused = this.focusedCard();
        return focused ? this.move(focused.entry.object.name, focused.id, by) : false;
      };
      found.push(['alt+arrowup', 'Move the focused response up the ranking (Alt+↓: down)', move(-1), 'Alt+↑ / Alt+↓']);
      found.push(['alt+arrowdown', '', move(1)]);
      found.push(['o', 'Keep this order: rank the responses as shown', () => {
        const entry = lists.find((l) => l.ranker && !l.bucketed);
        if (!entry?.ranker) return false;
        this.setOrder(entry.ranker, entry.object, this.order(entry.ranker, entry.items));
        return true;
      }]);
    }
    if (lists.some((l) => l.perItem.some((c) => rewrites(c, l.object)))) {
      found.push(['e', 'Rewrite the focused response', () => {
        const focused = this.focusedCard();
        const toggle = focused ? this.lists.get(focused.entry.object.name)?.cards.find((c) => c.dataset.id === focused.id)?.querySelector('.gl-rewrite-toggle') : null;
        if (!(toggle instanceof HTMLElement)) return false;
        toggle.click();
        return true;
      }]);
    }
    return found;
  }
}
