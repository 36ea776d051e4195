// The "Pay" card of a project's settings (managers): its rates with their
// dates, a form to add one (a change is a new rate from its date; rates
// are never edited), and deleting a rate no work was priced with.

import { del, get, post, ApiError } from '../api.js';
import { h, replace, toast } from '../dom.js';

/**
 * @typedef {{id: number, work: string, tier: string | null, mode: string, rate: string,
 *   currency: string, pieces: Record<string, string>, rejected_unpaid: boolean,
 *   bonus_percent: string | null, bonus_gold_threshold: number | null,
 *   effective_from: string, used: boolean}} PayRate
 */

/** An error as text, naming the field the server named. @param {unknown} error */
function problemText(error) {
  if (!(error instanceof ApiError)) return String(error);
  const field = error.details?.field;
  return field ? `${field}: ${error.message}` : error.lines().join('\n');
}

/** @param {{id: number}} project @returns {HTMLElement} */
export function payCard(project) {
  const list = h('div', { id: 'pay-rates' });
  const mode = h('select', { id: 'pay-mode' },
    h('option', { value: 'per_task' }, 'Per submitted task'),
    h('option', { value: 'hourly' }, 'Hourly (active time)'));
  const rate = h('input', { id: 'pay-rate', placeholder: '0.35', inputmode: 'decimal', required: true, size: 8 });
  const currency = h('input', { id: 'pay-currency', value: 'USD', maxlength: 3, size: 4, required: true });
  const work = h('select', { id: 'pay-work' },
    h('option', { value: 'annotate' }, 'Annotating'),
    h('option', { value: 'review' }, 'Reviewing'));
  const tier = h('select', { id: 'pay-tier' }, h('option', { value: '' }, 'Every tier'));
  const from = h('input', { id: 'pay-from', type: 'date' });
  const pieces = h('input', { id: 'pay-pieces', placeholder: 'Car=0.05, Person=0.10', size: 24 });
  const rejectedUnpaid = h('input', { id: 'pay-rejected-unpaid', type: 'checkbox', checked: true });
  const bonusPercent = h('input', { id: 'pay-bonus-percent', placeholder: '10', size: 4, inputmode: 'decimal' });
  const bonusThreshold = h('input', { id: 'pay-bonus-threshold', type: 'number', min: 0, max: 1, step: 0.01, placeholder: '0.9' });
  const message = h('p', { class: 'error', id: 'pay-message' });
  const form = h('form', { id: 'pay-form', class: 'stack' },
    h('div', { class: 'row' },
      h('label', null, 'Work ', work), h('label', null, 'Mode ', mode),
      h('label', null, 'Rate ', rate), h('label', null, 'Currency ', currency)),
    h('div', { class: 'row' },
      h('label', null, 'Tier ', tier), h('label', null, 'Effective from ', from),
      h('label', null, 'Piece rates ', pieces)),
    h('div', { class: 'row' },
      h('label', null, rejectedUnpaid, ' Rejected work is unpaid'),
      h('label', null, 'Bonus % ', bonusPercent), h('label', null, 'at gold accuracy ≥ ', bonusThreshold)),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'pay-add' }, 'Add rate')),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    /** @type {Record<string, string>} */
    const pieceRates = {};
    for (const part of pieces.value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const at = part.lastIndexOf('=');
      if (at <= 0) {
        replace(message, `Piece rates: write LABEL=AMOUNT (${part})`);
        return;
      }
      pieceRates[part.slice(0, at).trim()] = part.slice(at + 1).trim();
    }
    /** @type {Record<string, unknown>} */
    const body = {
      work: work.value, mode: mode.value, rate: rate.value.trim(), currency: currency.value.trim().toUpperCase(),
      pieces: pieceRates, rejected_unpaid: rejectedUnpaid.checked,
    };
    if (tier.value) body.tier = tier.value;
    if (from.value) body.effective_from = from.value;
    if (bonusPercent.value.trim() !== '') {
      body.bonus_percent = bonusPercent.value.trim();
      body.bonus_gold_threshold = Number(bonusThreshold.value);
    }
    try {
      await post(`/projects/${project.id}/pay-rates`, body);
      toast('Rate added.');
      rate.value = '';
      await show();
    } catch (error) {
      replace(message, problemText(error));
    }
  });

  async function show() {
    /** @type {{rates: PayRate[]}} */
    const { rates } = await get(`/projects/${project.id}/pay-rates`);
    if (rates.length === 0) {
      replace(list, h('p', { class: 'muted' }, 'No rates: work is recorded with its time, unpaid.'));
      return;
    }
    replace(list, h('table', { class: 'list' },
      h('thead', null, h('tr', null, ['From', 'Work', 'Tier', 'Mode', 'Rate', 'Pieces', 'Rejected', 'Bonus', ''].map((t) => h('th', null, t)))),
      h('tbody', null, rates.map((r) => h('tr', { 'data-rate': String(r.id) },
        h('td', null, r.effective_from),
        h('td', null, r.work),
        h('td', null, r.tier ?? 'every tier'),
        h('td', null, r.mode === 'hourly' ? 'hourly' : 'per task'),
        h('td', { class: 'rate' }, `${r.rate} ${r.currency}`),
        h('td', null, Object.entries(r.pieces).map(([label, price]) => `${label} ${price}`).join(', ')),
        h('td', null, r.rejected_unpaid ? 'unpaid' : 'paid'),
        h('td', null, r.bonus_percent ? `+${r.bonus_percent}% at ≥ ${r.bonus_gold_threshold}` : ''),
        h('td', null, r.used ? h('span', { class: 'muted small' }, 'in use')
          : h('button', { class: 'danger small', onclick: () => remove(r.id) }, 'Delete')),
      )))));
  }

  /** @param {number} id */
  async function remove(id) {
    try {
      await del(`/projects/${project.id}/pay-rates/${id}`);
      await show();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  }

  get('/tiers').then((/** @type {{tiers: string[]}} */ body) => {
    for (const name of body.tiers) tier.append(h('option', { value: name }, name));
  }).catch(() => {});
  show().catch((error) => replace(list, h('p', { class: 'error' }, String(error))));
  return h('div', { class: 'card', id: 'settings-pay' },
    h('h2', null, 'Pay'),
    h('p', { class: 'muted' }, 'Each piece of work is priced when it is done, with the rate effective on its date (the worker\'s), and the price is kept. A change is a new rate from its date.'),
    list, form);
}
