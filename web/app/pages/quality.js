// The quality dashboard (reviewers and managers): how reliable the labels
// are, which labels, annotators and tasks are the problem. Charts are SVG
// drawn here; every table downloads as CSV. The report is computed by the
// server on each request, and the page asks again every 5 seconds while
// "Live" is on, so a submit shows within 5 s.

import { get, ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { fileSafe, loadProject, progressBar, projectHeader } from './common.js';

const SVG = 'http://www.w3.org/2000/svg';
const LIVE_MS = 5000;

/**
 * @typedef {{label: string, agreement: number | null, uses: number}} LabelAgreement
 * @typedef {{a: string, b: string, tasks: number, agreement: number | null, kappa: number | null}} PairAgreement
 * @typedef {{control: string, kind: string, agreement: number | null, alpha: number | null,
 *   labels: LabelAgreement[], pairs: PairAgreement[], confusion: {labels: string[], counts: number[][]} | null}} ControlQuality
 * @typedef {{username: string, annotations: number, agreement_with_consensus: number | null, gold_answers: number,
 *   gold_accuracy: number | null, gold_by_label: LabelAgreement[], gold_by_day: {day: string, answers: number, accuracy: number | null}[], reviewed: number, rejected: number, rejection_rate: number | null,
 *   hours: number, per_hour: number | null}} AnnotatorQuality
 * @typedef {{day: string, annotations: number, agreement: number | null, gold_answers: number, gold_accuracy: number | null}} DayQuality
 * @typedef {{annotations: number, tasks: number, overlapping_tasks: number, controls: ControlQuality[],
 *   annotators: AnnotatorQuality[], over_time: DayQuality[],
 *   tasks_to_check: {task_id: number, agreement: number, annotators: string[]}[], computed_at: string}} QualityReport
 */

/**
 * An SVG element.
 * @param {string} tag @param {Record<string, string | number>} attributes @param {...(Node | string)} children
 */
export function svg(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child);
  return element;
}

/** A share as a percentage, or a dash. @param {number | null | undefined} value */
export function percent(value) {
  return value === null || value === undefined ? '–' : `${(100 * value).toFixed(1)} %`;
}

/** A coefficient (alpha, kappa, tau) to three places, or a dash. @param {number | null | undefined} value */
function coefficient(value) {
  return value === null || value === undefined ? '–' : value.toFixed(3);
}

/**
 * CSV text of rows, quoted where needed (RFC 4180).
 * @param {string[]} header @param {(string | number | null)[][]} rows
 */
export function csv(header, rows) {
  const cell = (/** @type {string | number | null} */ value) => {
    const text = value === null ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/**
 * A table with a CSV download of the same rows.
 * @param {string} id @param {string} fileName @param {string[]} header
 * @param {(string | number | null)[][]} rows @param {(row: (string | number | null)[], index: number) => (Node | string)[]} [cells]
 */
export function table(id, fileName, header, rows, cells) {
  const download = csvButton(id, fileName, header, rows);
  return h('div', { class: 'quality-table' },
    h('table', { id },
      h('thead', null, h('tr', null, header.map((name) => h('th', null, name)))),
      h('tbody', null, rows.map((row, index) => h('tr', null,
        (cells ? cells(row, index) : row.map((value) => value ?? '–')).map((value) => h('td', null, value)))))),
    download);
}

/**
 * A button that downloads rows as a CSV file.
 * @param {string} id @param {string} fileName @param {string[]} header @param {(string | number | null)[][]} rows
 */
function csvButton(id, fileName, header, rows) {
  const download = h('button', { type: 'button', class: 'small', 'data-csv': id }, 'CSV');
  download.addEventListener('click', () => {
    const url = URL.createObjectURL(new Blob([csv(header, rows)], { type: 'text/csv' }));
    const link = h('a', { href: url, download: fileName });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  return download;
}

/**
 * Horizontal bars of values from 0 to 1 (negative values drawn as 0).
 * @param {string} label @param {{name: string, value: number | null}[]} bars
 */
function barChart(label, bars) {
  const row = 22;
  const width = 420;
  const left = 140;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${bars.length * row + 4}`, role: 'img', 'aria-label': label, class: 'quality-chart' });
  bars.forEach((bar, index) => {
    const y = index * row + 2;
    const share = Math.max(0, Math.min(1, bar.value ?? 0));
    chart.append(
      svg('text', { x: left - 6, y: y + 14, 'text-anchor': 'end', class: 'chart-label' }, bar.name),
      svg('rect', { x: left, y, width: width - left - 60, height: row - 6, class: 'chart-track' }),
      svg('rect', { x: left, y, width: (width - left - 60) * share, height: row - 6, class: 'chart-bar' }),
      svg('text', { x: width - 54, y: y + 14, class: 'chart-value' }, percent(bar.value)),
    );
  });
  return chart;
}

/**
 * Agreement per day as a line over bars of annotations per day, and the
 * accuracy against gold per day as a dashed line.
 * @param {DayQuality[]} days
 */
function timeChart(days) {
  const width = 560;
  const height = 160;
  const left = 50;
  const step = days.length > 1 ? (width - left - 40) / (days.length - 1) : 0;
  const most = Math.max(1, ...days.map((d) => d.annotations));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 30}`, role: 'img', 'aria-label': 'Agreement, accuracy against gold and annotations per day', class: 'quality-chart', id: 'chart-over-time' });
  chart.append(svg('line', { x1: left - 20, y1: height, x2: width - 20, y2: height, class: 'chart-axis' }));
  /** @type {string[]} */
  const points = [];
  /** @type {string[]} */
  const goldPoints = [];
  days.forEach((day, index) => {
    const x = left + index * step;
    const barHeight = (height - 10) * (day.annotations / most) * 0.5;
    chart.append(svg('rect', { x: x - 6, y: height - barHeight, width: 12, height: barHeight, class: 'chart-count' },
      svg('title', {}, `${day.day}: ${day.annotations} annotations, agreement ${percent(day.agreement)}, accuracy against gold ${percent(day.gold_accuracy)}`)));
    if (day.gold_accuracy !== null) {
      const y = height - (height - 10) * Math.max(0, Math.min(1, day.gold_accuracy));
      goldPoints.push(`${x},${y}`);
      chart.append(svg('circle', { cx: x, cy: y, r: 3, class: 'chart-point-gold' }));
    }
    if (day.agreement !== null) {
      const y = height - (height - 10) * Math.max(0, Math.min(1, day.agreement));
      points.push(`${x},${y}`);
      chart.append(svg('circle', { cx: x, cy: y, r: 3, class: 'chart-point' }));
    }
    if (index === 0 || index === days.length - 1) {
      chart.append(svg('text', { x, y: height + 18, 'text-anchor': 'middle', class: 'chart-label' }, day.day));
    }
  });
  if (points.length > 1) chart.append(svg('polyline', { points: points.join(' '), class: 'chart-line' }));
  if (goldPoints.length > 1) chart.append(svg('polyline', { points: goldPoints.join(' '), class: 'chart-line-gold' }));
  return chart;
}

/**
 * The confusion matrix as a table of cells shaded by count.
 * @param {string} control @param {{labels: string[], counts: number[][]}} confusion
 */
function confusionTable(control, confusion) {
  const most = Math.max(1, ...confusion.counts.flat());
  const cells = confusion.counts.map((row, i) => h('tr', null, h('th', null, confusion.labels[i]),
    row.map((count) => {
      const cell = h('td', { class: 'confusion-cell' }, String(count));
      // CSSOM, not a style attribute: the page's CSP allows this.
      cell.style.setProperty('--shade', String(count / most));
      return cell;
    })));
  return h('table', { class: 'confusion', id: `confusion-${control}` },
    h('thead', null, h('tr', null, h('th', null, ''), confusion.labels.map((label) => h('th', null, label)))),
    h('tbody', null, cells));
}

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params }) {
  const project = await loadProject(params.project);
  const since = h('input', { type: 'date', id: 'quality-since', 'aria-label': 'From' });
  const until = h('input', { type: 'date', id: 'quality-until', 'aria-label': 'Until' });
  const live = h('input', { type: 'checkbox', id: 'quality-live', checked: true });
  const status = h('span', { class: 'muted', id: 'quality-status', 'aria-live': 'polite' });
  const body = h('div', { id: 'quality-body' });
  replace(root,
    projectHeader(project, 'quality'),
    h('div', { class: 'card row' },
      h('label', { class: 'inline' }, 'From ', since),
      h('label', { class: 'inline' }, 'until ', until),
      h('label', { class: 'inline' }, live, 'Live (every 5 s)'),
      h('button', { type: 'button', id: 'quality-refresh', onclick: () => load() }, 'Refresh'),
      status),
    body);

  let timer = 0;
  let stopped = false;
  const name = fileSafe(project.name);

  async function load() {
    clearTimeout(timer);
    const query = new URLSearchParams();
    if (since.value) query.set('since', `${since.value}T00:00:00Z`);
    // "Until" includes its whole day.
    if (until.value) query.set('until', new Date(Date.parse(`${until.value}T00:00:00Z`) + 86_400_000).toISOString());
    try {
      const [report, counts] = await Promise.all([
        /** @type {Promise<QualityReport>} */ (get(`/projects/${project.id}/quality?${query}`)),
        get(`/projects/${project.id}/task-counts`),
      ]);
      if (stopped) return;
      show(report, counts);
      replace(status, `Updated ${new Date(report.computed_at).toLocaleTimeString()}`);
    } catch (error) {
      replace(status, error instanceof ApiError ? error.message : String(error));
    }
    if (live.checked && !stopped) timer = window.setTimeout(load, LIVE_MS);
  }
  since.addEventListener('change', load);
  until.addEventListener('change', load);
  live.addEventListener('change', () => (live.checked ? load() : clearTimeout(timer)));

  /** @param {QualityReport} report @param {any} counts */
  function show(report, counts) {
    const controls = report.controls.map((control) => h('section', { class: 'card quality-control', 'data-control': control.control },
      h('h2', null, `${control.control} `, h('span', { class: 'muted' }, `(${control.kind})`)),
      h('p', { class: 'quality-figures' },
        h('span', null, 'Agreement ', h('strong', { class: 'figure', 'data-figure': 'agreement' }, control.kind === 'ranking' ? coefficient(control.agreement) : percent(control.agreement))),
        control.alpha !== null ? h('span', null, ' · Krippendorff\'s α ', h('strong', { class: 'figure', 'data-figure': 'alpha' }, coefficient(control.alpha))) : null),
      control.labels.length && control.kind !== 'ranking'
        ? [h('h3', null, 'Agreement per label'), barChart(`Agreement per label of ${control.control}`, control.labels.map((l) => ({ name: l.label, value: l.agreement }))),
          table(`labels-${control.control}`, `${name}-${control.control}-labels.csv`, ['label', 'agreement', 'uses'],
            control.labels.map((l) => [l.label, l.agreement, l.uses]),
            (row) => [String(row[0]), percent(/** @type {number | null} */ (row[1])), String(row[2])])]
        : null,
      control.confusion ? [h('h3', null, 'Between annotators (how often one label meets another on a task)'),
        h('div', { class: 'quality-table' }, confusionTable(control.control, control.confusion),
          csvButton(`confusion-${control.control}`, `${name}-${control.control}-confusion.csv`, ['label', ...control.confusion.labels],
            control.confusion.counts.map((row, i) => [control.confusion?.labels[i] ?? '', ...row])))] : null,
      control.pairs.length
        ? [h('h3', null, 'Pairs of annotators'), table(`pairs-${control.control}`, `${name}-${control.control}-pairs.csv`, ['annotator', 'annotator', 'tasks', 'agreement', 'kappa'],
          control.pairs.map((p) => [p.a, p.b, p.tasks, p.agreement, p.kappa]),
          (row) => [String(row[0]), String(row[1]), String(row[2]), percent(/** @type {number | null} */ (row[3])), coefficient(/** @type {number | null} */ (row[4]))])]
        : null,
    ));
    const annotators = report.annotators;
    /** @type {(string | number | null)[][]} */
    const goldByClass = annotators.flatMap((a) => a.gold_by_label.map((l) => [a.username, l.label, l.uses, l.agreement]));
    const goldByDay = annotators.flatMap((a) => a.gold_by_day.map((d) => [a.username, d.day, d.answers, d.accuracy]));
    replace(body,
      h('div', { class: 'card' },
        h('h2', null, 'Progress'),
        progressBar(counts),
        h('p', { class: 'muted', id: 'quality-summary' },
          `${report.annotations} annotations on ${report.tasks} tasks; ${report.overlapping_tasks} tasks have two annotators or more.`)),
      report.over_time.length ? h('div', { class: 'card' }, h('h2', null, 'Over time'), timeChart(report.over_time),
        h('p', { class: 'muted' }, 'Line: agreement; dashed line: accuracy against gold; bars: annotations.'),
        table('over-time', `${name}-over-time.csv`, ['day', 'annotations', 'agreement', 'gold answers', 'accuracy vs gold'],
          report.over_time.map((d) => [d.day, d.annotations, d.agreement, d.gold_answers, d.gold_accuracy]),
          (row) => [String(row[0]), String(row[1]), percent(/** @type {number | null} */ (row[2])), String(row[3]), percent(/** @type {number | null} */ (row[4]))])) : null,
      controls,
      h('div', { class: 'card' }, h('h2', null, 'Annotators'),
        annotators.length ? barChart('Agreement with the consensus per annotator', annotators.map((a) => ({ name: a.username, value: a.agreement_with_consensus }))) : null,
        table('annotators', `${name}-annotators.csv`,
          ['annotator', 'annotations', 'agreement with consensus', 'gold answers', 'accuracy vs gold', 'reviewed', 'rejected', 'rejection rate', 'hours', 'per hour'],
          annotators.map((a) => [a.username, a.annotations, a.agreement_with_consensus, a.gold_answers, a.gold_accuracy, a.reviewed, a.rejected, a.rejection_rate, Math.round(a.hours * 100) / 100, a.per_hour === null ? null : Math.round(a.per_hour * 10) / 10]),
          (row) => row.map((value, i) => ([2, 4, 7].includes(i) ? percent(/** @type {number | null} */ (value)) : String(value ?? '–')))),
        goldByClass.length ? [h('h3', null, 'Accuracy on gold, per gold class'),
          table('gold-by-class', `${name}-gold-by-class.csv`, ['annotator', 'gold class', 'answers', 'accuracy'], goldByClass,
            (row) => [String(row[0]), String(row[1]), String(row[2]), percent(/** @type {number | null} */ (row[3]))])] : null,
        goldByDay.length ? [h('h3', null, 'Accuracy on gold, per day'),
          table('gold-by-day', `${name}-gold-by-day.csv`, ['annotator', 'day', 'answers', 'accuracy'], goldByDay,
            (row) => [String(row[0]), String(row[1]), String(row[2]), percent(/** @type {number | null} */ (row[3]))])] : null),
      report.tasks_to_check.length ? h('div', { class: 'card' }, h('h2', null, 'Tasks to check (least agreement)'),
        table('tasks-to-check', `${name}-tasks-to-check.csv`, ['task', 'agreement', 'annotators'],
          report.tasks_to_check.map((t) => [t.task_id, t.agreement, t.annotators.join(' ')]),
          (row) => [h('a', { href: `/projects/${project.id}/tasks/${row[0]}` }, `#${row[0]}`), percent(/** @type {number} */ (row[1])), String(row[2])])) : null,
    );
  }

  function onVisibility() {
    if (document.visibilityState === 'visible' && live.checked) load();
    else clearTimeout(timer);
  }
  document.addEventListener('visibilitychange', onVisibility);
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
