// The panels beside the image: label pickers (a skeleton's joints among
// them), choices, text areas, numbers, the region list (virtualized: only
// the rows in view exist, so 5,000 regions cost as little as 20) and the
// selected region's own attributes under it.

import { el, button, iconButton } from './dom.js';

/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').LabelDef} LabelDef */
/** @typedef {import('./types.js').Region} Region */
/** @typedef {import('./types.js').Entry} Entry */

/**
 * What the panels need from their workspace.
 * @typedef {{
 *   readOnly: boolean,
 *   entries: () => readonly Entry[],
 *   selection: Set<string>,
 *   hidden: Set<string>,
 *   locked: Set<string>,
 *   labelsOf: (control: ControlTag) => LabelDef[],
 *   hotkeyOf: (control: ControlTag, value: string) => string | null,
 *   colorOf: (region: Region) => string,
 *   colorOfLabel: (control: string, value: string) => string,
 *   activeLabel: (control: ControlTag) => string | null,
 *   pickLabel: (control: ControlTag, value: string) => void,
 *   choicesOf: (control: ControlTag) => string[] | null,
 *   toggleChoice: (control: ControlTag, value: string) => void,
 *   textOf: (control: ControlTag) => string | null,
 *   setText: (control: ControlTag, text: string) => void,
 *   prefillOf: (control: ControlTag) => string,
 *   numberOf: (control: ControlTag) => {number: number | null} | null,
 *   setNumber: (control: ControlTag, number: number | null) => void,
 *   ratingOf: (control: ControlTag) => {rating: number | null} | null,
 *   taxonomyOf: (control: ControlTag) => string[][] | null,
 *   toggleTaxonomy: (control: ControlTag, path: string[]) => void,
 *   setRating: (control: ControlTag, rating: number | null) => void,
 *   jointStatus: (control: ControlTag) => {next: string | null, done: Set<string>} | null,
 *   describeRegion: (region: Region) => string,
 *   attributeRegion: () => Region | null,
 *   select: (ids: string[]) => void,
 *   toggleHidden: (id: string) => void,
 *   toggleLocked: (id: string) => void,
 *   deleteRegions: (ids: string[]) => void,
 *   focusRegion: (id: string) => void,
 * }} PanelHost
 */

/** @typedef {{element: HTMLElement, update: () => void}} Panel */

/** Controls with more labels than this get a filter box. */
export const FILTER_THRESHOLD = 20;

/**
 * @param {string} text @param {string | null} hotkey
 */
function hotkeyHint(text, hotkey) {
  const children = [el('span', { class: 'gl-option-text' }, [text])];
  if (hotkey) children.push(el('kbd', { class: 'gl-hotkey' }, [hotkey]));
  return children;
}

/**
 * A filter box over a list of option buttons; Enter picks the first match.
 * @param {HTMLButtonElement[]} buttons @param {string[]} values
 * @param {(value: string) => void} pick
 */
function filterBox(buttons, values, pick) {
  const input = el('input', { type: 'search', class: 'gl-filter', placeholder: 'Filter labels  ( / )', 'aria-label': 'Filter labels' });
  const apply = () => {
    const query = input.value.trim().toLowerCase();
    buttons.forEach((b, i) => {
      b.hidden = query !== '' && !values[i].toLowerCase().includes(query);
    });
  };
  input.addEventListener('input', apply);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const index = buttons.findIndex((b) => !b.hidden);
      if (index >= 0) pick(values[index]);
      input.value = '';
      apply();
      input.blur();
      e.preventDefault();
    } else if (e.key === 'Escape') {
      input.value = '';
      apply();
      input.blur();
      e.preventDefault();
    }
  });
  return input;
}

/**
 * Label buttons of a `RectangleLabels`, `PolygonLabels`, `Labels`, ...
 * control. A skeleton's labels are its joints: the one placed next is
 * marked, and those placed or skipped.
 * @param {ControlTag} control @param {PanelHost} host
 * @returns {Panel & {filter: HTMLInputElement | null}}
 */
export function labelsPanel(control, host) {
  const labels = host.labelsOf(control);
  const values = labels.map((l) => l.value);
  const buttons = labels.map((label) => {
    const b = button('', label.value, () => host.pickLabel(control, label.value), 'gl-label');
    b.textContent = '';
    const swatch = el('span', { class: 'gl-swatch' });
    swatch.style.background = host.colorOfLabel(control.name, label.value);
    b.append(swatch, ...hotkeyHint(label.value, host.hotkeyOf(control, label.value)));
    return b;
  });
  const filter = labels.length > FILTER_THRESHOLD ? filterBox(buttons, values, (v) => host.pickLabel(control, v)) : null;
  const list = el('div', { class: 'gl-options' }, buttons);
  const title = control.skeleton ? el('div', { class: 'gl-panel-title' }, [`Skeleton “${control.skeleton.value}”: joints in order`]) : null;
  const element = el('div', { class: 'gl-panel gl-labels', 'data-control': control.name }, [title, filter, list]);
  const update = () => {
    const joints = control.skeleton ? host.jointStatus(control) : null;
    if (joints) {
      buttons.forEach((b, i) => {
        b.classList.toggle('gl-on', values[i] === joints.next);
        b.classList.toggle('gl-done', joints.done.has(values[i]));
      });
      return;
    }
    for (const b of buttons) b.classList.remove('gl-done');
    // The label of the selected region if there is one, else the one new regions get.
    const selected = host.entries().filter((e) => e.kind !== 'item' && host.selection.has(e.id));
    /** @type {Set<string>} */
    const on = new Set();
    const owned = selected.filter((r) => r.kind !== 'item' && (r.control === control.name || r.labelControl === control.name));
    if (owned.length) {
      for (const r of owned) if (r.kind !== 'item') r.labels.forEach((l) => on.add(l));
    } else {
      const active = host.activeLabel(control);
      if (active) on.add(active);
    }
    buttons.forEach((b, i) => b.classList.toggle('gl-on', on.has(values[i])));
  };
  update();
  return { element, update, filter };
}

/**
 * Choices of a `Choices` control, as checkboxes or radio buttons.
 * @param {ControlTag} control @param {PanelHost} host
 * @returns {Panel}
 */
export function choicesPanel(control, host) {
  const name = `gl-choice-${control.name}-${Math.random().toString(36).slice(2)}`;
  const type = control.choice === 'single-radio' ? 'radio' : 'checkbox';
  const options = host.labelsOf(control).map((choice) => {
    const input = el('input', { type, name, disabled: host.readOnly });
    // A click changes the annotation, whose state update() then shows
    // (the browser toggled the box already; update() sets it as it should be).
    input.addEventListener('click', () => host.toggleChoice(control, choice.value));
    input.addEventListener('mousedown', (e) => e.preventDefault());
    const label = el('label', { class: 'gl-choice' }, [input, ...hotkeyHint(choice.value, host.hotkeyOf(control, choice.value))]);
    return { value: choice.value, input, label };
  });
  const note = el('div', { class: 'gl-muted' }, ['Select a region to classify it.']);
  const element = el('div', { class: 'gl-panel gl-choices', 'data-control': control.name }, [note, ...options.map((o) => o.label)]);
  const update = () => {
    const chosen = host.choicesOf(control);
    note.hidden = chosen !== null;
    for (const o of options) {
      o.label.hidden = chosen === null;
      o.input.checked = Boolean(chosen?.includes(o.value));
    }
  };
  update();
  return { element, update };
}

/**
 * A `TextArea` control: one text per object (or per region).
 * @param {ControlTag} control @param {PanelHost} host
 * @returns {Panel}
 */
export function textAreaPanel(control, host) {
  const rows = Number(control.attributes.rows) || 3;
  const area = el('textarea', {
    class: 'gl-textarea', rows, placeholder: control.attributes.placeholder ?? '', readonly: host.readOnly,
    'aria-label': control.attributes.placeholder || control.name,
  });
  area.addEventListener('input', () => host.setText(control, area.value));
  return fieldPanel(control, 'gl-textarea-panel', 'Select a region to add text.', area, () => host.textOf(control), (text) => {
    const shown = text || host.prefillOf(control);
    if (area.value !== shown && document.activeElement !== area) area.value = shown;
  });
}

/**
 * A panel of one field, shown where the control's value has a place (a
 * per-region control's only while one region is selected), else a note.
 * @template T
 * @param {ControlTag} control @param {string} className @param {string} noteText
 * @param {HTMLElement} field
 * @param {() => T | null} valueOf the value, or null where it has no place
 * @param {(value: T) => void} show puts the value in the field
 * @returns {Panel}
 */
function fieldPanel(control, className, noteText, field, valueOf, show) {
  const note = el('div', { class: 'gl-muted' }, [noteText]);
  const element = el('div', { class: `gl-panel ${className}`, 'data-control': control.name }, [note, field]);
  const update = () => {
    const value = valueOf();
    note.hidden = value !== null;
    field.hidden = value === null;
    if (value !== null) show(value);
  };
  update();
  return { element, update };
}

/**
 * A `Number` control: one number per object (or per region), inside the
 * control's `min` and `max`, in its `step`s. Only a valid number is
 * written; while the field holds anything else, the result keeps the last one.
 * @param {ControlTag} control @param {PanelHost} host
 * @returns {Panel}
 */
export function numberPanel(control, host) {
  const { min, max, step } = control.attributes;
  const input = el('input', {
    type: 'number', class: 'gl-number', min, max, step: step ?? 'any', readonly: host.readOnly, 'aria-label': control.name,
  });
  input.addEventListener('input', () => {
    if (input.value === '' && !input.validity.badInput) host.setNumber(control, null);
    else if (input.checkValidity()) host.setNumber(control, input.valueAsNumber);
  });
  const panel = fieldPanel(control, 'gl-number-panel', 'Select a region to give it a number.', input, () => host.numberOf(control), ({ number }) => {
    // Half-typed input ("1.", "-", over the maximum) stays until the field is left.
    const typing = document.activeElement === input && !input.checkValidity();
    const shown = input.value === '' ? null : input.valueAsNumber;
    if (!typing && shown !== number) input.value = number === null ? '' : String(number);
  });
  input.addEventListener('blur', panel.update);
  return panel;
}

/**
 * A `Rating` control: 1 to `maxRating` (5 by default) stars per object (or
 * per region). A click on a star sets the rating; on the star already set,
 * clears it. The stars are buttons: Tab reaches them, Enter or Space sets.
 * @param {ControlTag} control @param {PanelHost} host
 * @returns {Panel}
 */
export function ratingPanel(control, host) {
  const most = Math.max(1, Math.floor(Number(control.attributes.maxRating)) || 5);
  const stars = Array.from({ length: most }, (_, i) => {
    const star = el('button', { type: 'button', class: 'gl-star', 'aria-label': `${i + 1} of ${most}`, 'aria-pressed': 'false', disabled: host.readOnly }, ['★']);
    star.addEventListener('click', () => {
      const current = host.ratingOf(control)?.rating ?? null;
      host.setRating(control, current === i + 1 ? null : i + 1);
    });
    return star;
  });
  const row = el('div', { class: 'gl-stars', role: 'group', 'aria-label': control.name }, stars);
  return fieldPanel(control, 'gl-rating-panel', 'Select a region to rate it.', row, () => host.ratingOf(control), ({ rating }) => {
    stars.forEach((star, i) => {
      const on = rating !== null && i < rating;
      star.classList.toggle('gl-on', on);
      star.setAttribute('aria-pressed', String(rating === i + 1));
    });
  });
}

/**
 * A `Taxonomy` control: its nested choices as a tree of checkboxes, each
 * picking its path from the top. Branches open and close; the search field
 * shows the choices whose name contains it, with the branches above them.
 * With `leafsOnly="true"` only choices without children can be picked.
 * @param {ControlTag} control @param {PanelHost} host
 * @returns {Panel}
 */
export function taxonomyPanel(control, host) {
  const leafsOnly = control.attributes.leafsOnly === 'true';
  const key = (/** @type {string[]} */ path) => JSON.stringify(path);
  /** @type {Map<string, {path: string[], input: HTMLInputElement, item: HTMLElement, children: HTMLElement}>} */
  const nodes = new Map();
  const top = el('ul', { class: 'gl-tree' });
  for (const choice of control.labels) {
    const parent = choice.path ?? [];
    const path = [...parent, choice.value];
    const hasChildren = control.labels.some((c) => key(c.path ?? []) === key(path));
    const input = el('input', { type: 'checkbox', disabled: host.readOnly || (leafsOnly && hasChildren) });
    input.addEventListener('click', () => host.toggleTaxonomy(control, path));
    const children = el('ul', { class: 'gl-tree' });
    const name = el('label', { class: 'gl-choice' }, [input, choice.value]);
    const item = el('li', { 'data-path': path.join(' / ') }, hasChildren
      ? [el('details', { open: true }, [el('summary', {}, [name]), children])]
      : [name]);
    nodes.set(key(path), { path, input, item, children });
    (nodes.get(key(parent))?.children ?? top).append(item);
  }
  const search = el('input', { type: 'search', class: 'gl-filter', placeholder: 'Search', 'aria-label': `Search ${control.name}` });
  search.addEventListener('input', () => {
    const wanted = search.value.trim().toLowerCase();
    for (const node of nodes.values()) {
      // Shown: a match, or an ancestor of one.
      node.item.hidden = Boolean(wanted) && ![...nodes.values()].some((other) =>
        other.path.length >= node.path.length
        && key(other.path.slice(0, node.path.length)) === key(node.path)
        && other.path[other.path.length - 1].toLowerCase().includes(wanted));
    }
  });
  const tree = el('div', { class: 'gl-taxonomy' }, [search, top]);
  return fieldPanel(control, 'gl-taxonomy-panel', 'Select a region to classify it.', tree, () => host.taxonomyOf(control), (picked) => {
    const chosen = new Set(picked.map(key));
    for (const [k, node] of nodes) node.input.checked = chosen.has(k);
  });
}

/**
 * The selected region's own controls (per-region choices, text and
 * numbers), shown under the region list while one region is selected.
 * @param {PanelHost} host
 * @param {{control: ControlTag, panel: Panel}[]} controls
 * @returns {Panel}
 */
export function regionAttributes(host, controls) {
  const title = el('div', { class: 'gl-panel-title' }, ['Region attributes']);
  const note = el('div', { class: 'gl-muted' });
  const fields = controls.map(({ control, panel }) =>
    el('div', { class: 'gl-attribute', 'data-control': control.name }, [el('div', { class: 'gl-attribute-name' }, [control.name]), panel.element]));
  const element = el('div', { class: 'gl-panel gl-attributes' }, [title, note, ...fields]);
  const update = () => {
    const region = host.attributeRegion();
    const selected = host.entries().filter((e) => e.kind !== 'item' && host.selection.has(e.id));
    title.textContent = region ? `Attributes: ${host.describeRegion(region)}` : 'Region attributes';
    note.textContent = region ? '' : selected.length === 1 ? 'A skeleton has no attributes of its own.' : 'Select one region to see its attributes.';
    note.hidden = region !== null;
    controls.forEach(({ control, panel }, i) => {
      fields[i].hidden = !region || !control.to_names.includes(region.object);
      panel.update();
    });
  };
  update();
  return { element, update };
}

const ROW_HEIGHT = 26;

/**
 * The region list: one row per region, rendered only where visible.
 * @param {PanelHost} host
 * @returns {Panel & {reveal: (id: string) => void}}
 */
export function regionList(host) {
  const title = el('div', { class: 'gl-panel-title' }, ['Regions']);
  const spacer = el('div', { class: 'gl-region-spacer' });
  const scroller = el('div', { class: 'gl-region-scroller' }, [spacer]);
  const element = el('div', { class: 'gl-panel gl-regions' }, [title, scroller]);
  /** @type {Region[]} */
  let regions = [];
  /** @type {readonly Entry[] | null} */
  let regionsFrom = null;
  /** Row elements by position in the pool, reused while scrolling. @type {HTMLElement[]} */
  const pool = [];

  /** @param {number} i */
  const makeRow = (i) => {
    const swatch = el('span', { class: 'gl-swatch' });
    const text = el('span', { class: 'gl-region-text' });
    const eye = iconButton('eye', 'Hide or show', () => host.toggleHidden(row.dataset.id ?? ''), 'gl-icon gl-eye');
    const lock = iconButton('lock', 'Lock or unlock', () => host.toggleLocked(row.dataset.id ?? ''), 'gl-icon gl-lock');
    const remove = button('✕', 'Delete', () => host.deleteRegions([row.dataset.id ?? '']), 'gl-icon gl-delete');
    remove.disabled = host.readOnly;
    const row = el('div', { class: 'gl-region-row', role: 'option' }, [swatch, text, eye, lock, remove]);
    row.addEventListener('click', (e) => {
      if (e.target instanceof Element && e.target.closest('button')) return;
      const id = row.dataset.id ?? '';
      host.select([id]);
      host.focusRegion(id);
    });
    pool[i] = row;
    scroller.append(row);
    return row;
  };

  const update = () => {
    const entries = host.entries();
    if (entries !== regionsFrom) {
      regionsFrom = entries;
      regions = /** @type {Region[]} */ (entries.filter((e) => e.kind !== 'item'));
      title.textContent = `Regions (${regions.length})`;
      spacer.style.height = `${regions.length * ROW_HEIGHT}px`;
    }
    const height = scroller.clientHeight || 300;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 2);
    const count = Math.min(regions.length - first, Math.ceil(height / ROW_HEIGHT) + 4);
    for (let i = 0; i < Math.max(count, pool.length); i++) {
      const row = pool[i] ?? makeRow(i);
      if (i >= count) {
        row.hidden = true;
        continue;
      }
      const index = first + i;
      const region = regions[index];
      row.hidden = false;
      row.style.top = `${index * ROW_HEIGHT}px`;
      row.dataset.id = region.id;
      row.classList.toggle('gl-selected', host.selection.has(region.id));
      row.classList.toggle('gl-hidden-region', host.hidden.has(region.id));
      row.classList.toggle('gl-locked-region', host.locked.has(region.id));
      const [swatch, text, eye, lock] = /** @type {HTMLElement[]} */ ([...row.children]);
      swatch.style.background = host.colorOf(region);
      text.textContent = `${index + 1}. ${host.describeRegion(region)}`;
      eye.setAttribute('aria-pressed', String(!host.hidden.has(region.id)));
      lock.setAttribute('aria-pressed', String(host.locked.has(region.id)));
    }
  };
  scroller.addEventListener('scroll', () => update(), { passive: true });

  /** Scroll the list so a region's row shows. @param {string} id */
  const reveal = (id) => {
    const index = regions.findIndex((r) => r.id === id);
    if (index < 0) return;
    const top = index * ROW_HEIGHT;
    if (top < scroller.scrollTop || top + ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight) {
      scroller.scrollTop = top - scroller.clientHeight / 2;
    }
  };
  return { element, update, reveal };
}

/**
 * The keyboard map, a list over the workspace; click or `?` or Escape closes it.
 * @param {[string, string][]} rows key, what it does
 */
export function keymapOverlay(rows) {
  const table = el('table', { class: 'gl-keymap-table' }, [
    el('tbody', {}, rows.map(([key, what]) => el('tr', {}, [el('td', {}, [el('kbd', {}, [key])]), el('td', {}, [what])]))),
  ]);
  const close = button('Close', 'Close (? or Escape)', () => overlay.remove(), 'gl-keymap-close');
  const overlay = el('div', { class: 'gl-keymap', role: 'dialog', 'aria-label': 'Keyboard shortcuts' }, [
    el('div', { class: 'gl-keymap-box' }, [el('div', { class: 'gl-panel-title' }, ['Keyboard shortcuts']), table, close]),
  ]);
  overlay.addEventListener('click', (e) => {
    if (e.target === overlay) overlay.remove();
  });
  return overlay;
}
