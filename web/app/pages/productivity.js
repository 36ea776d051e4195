// Productivity: per annotator, tasks, active hours, tasks per hour, the
// median active time per task, rejection rate, accuracy against gold and
// agreement, with tasks per day as a chart and anti-fraud flags. In a
// project (`/projects/{id}/productivity`) a manager sees everyone ranked
// (the project's leaderboard) and anyone else their own row; the
// leaderboard (`/productivity`) adds up every project a manager manages.

import { get, ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { loadProject, projectHeader } from './common.js';
import { percent, svg, table } from './quality.js';

/**
 * @typedef {{kind: string, count: number, message: string}} FraudFlag
 * @typedef {{day: string, tasks: number, active_hours: number}} DayWork
 * @typedef {{username: string, display_name: string, tasks: number, timed_tasks: number, active_hours: number,
 *   tasks_per_hour: number | null, median_active_seconds: number | null, reviewed: number, rejected: number,
 *   rejection_rate: number | null, gold_answers: number, gold_accuracy: number | null, agreement: number | null,
 *   flags: FraudFlag[], by_day: DayWork[]}} AnnotatorProductivity
 */

const COLOURS = ['#2563eb', '#16a34a', '#b45309', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#be185d'];
const FLAG_NAMES = /** @type {Record<string, string>} */ ({ too_fast: 'Too fast', same_answers: 'Same answers', low_gold: 'Low gold accuracy' });

/** A number to `places` decimals, or a dash. @param {number | null} value @param {number} places */
function fixed(value, places) {
  return value === null ? '–' : value.toFixed(places);
}

/** `YYYY-MM-DD` of a date `days` before today (UTC). @param {number} days */
function dayBefore(days) {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params, user }) {
  const project = params.project ? await loadProject(params.project) : null;
  if (!project && user.role !== 'admin' && user.role !== 'manager') {
    replace(root, h('h1', null, 'Leaderboard'), h('p', { class: 'error' }, 'Only managers and admins see the leaderboard.'));
    return;
  }
  const from = h('input', { type: 'date', id: 'productivity-from', value: dayBefore(29) });
  const to = h('input', { type: 'date', id: 'productivity-to', value: dayBefore(0) });
  const result = h('div', { id: 'productivity' });
  const form = h('form', { class: 'row', id: 'productivity-window' }, 'From', from, 'to', to, h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  replace(root,
    project ? projectHeader(project, 'productivity') : h('h1', null, 'Leaderboard'),
    project ? h('h2', null, 'Productivity') : h('p', { class: 'muted' }, 'Everyone\'s work in the projects you manage, added up.'),
    form, result);
  await show();

  async function show() {
    const since = `${from.value}T00:00:00Z`;
    const until = new Date(Date.parse(`${to.value}T00:00:00Z`) + 86_400_000).toISOString();
    const query = `since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`;
    try {
      const report = await get(project ? `/projects/${project.id}/productivity?${query}` : `/productivity?${query}`);
      /** @type {AnnotatorProductivity[]} */
      const rows = report.annotators;
      replace(result,
        rows.length === 0 ? h('p', { class: 'muted', id: 'productivity-empty' }, 'No work in these days.') : null,
        rows.length === 0 ? null : peopleTable(rows),
        rows.length === 0 ? null : h('h3', null, 'Tasks per day'),
        rows.length === 0 ? null : dayChart(rows, 'tasks'),
        rows.length === 0 ? null : h('h3', null, 'Active hours per day'),
        rows.length === 0 ? null : dayChart(rows, 'active_hours'),
        report.truncated ? h('p', { class: 'error' }, 'The window holds more annotations than one report reads; narrow it.') : null,
        project ? h('p', { class: 'muted' }, `Flags: submits under ${report.min_task_seconds || '–'} s of active time, `
          + `${report.same_answer_streak || '–'} identical answers in a row, gold accuracy below ${percent(report.gold_flag_below)} `
          + 'after three gold answers (set in Settings).') : null);
    } catch (error) {
      replace(result, h('p', { class: 'error' }, error instanceof ApiError ? error.lines().join('\n') : String(error)));
    }
  }

  /** @param {AnnotatorProductivity[]} rows */
  function peopleTable(rows) {
    const header = ['Rank', 'Annotator', 'Tasks', 'Active hours', 'Tasks per hour', 'Median s per task',
      'Rejection rate', 'Gold accuracy', 'Agreement', 'Flags'];
    const cells = rows.map((row, index) => [index + 1, row.display_name ? `${row.display_name} (${row.username})` : row.username,
      row.tasks, fixed(row.active_hours, 2), fixed(row.tasks_per_hour, 1), fixed(row.median_active_seconds, 1),
      percent(row.rejection_rate), percent(row.gold_accuracy), percent(row.agreement),
      row.flags.map((flag) => `${FLAG_NAMES[flag.kind] ?? flag.kind}: ${flag.message}`).join('; ')]);
    const name = project ? `productivity-${project.id}.csv` : 'leaderboard.csv';
    return table('productivity-table', name, header, cells, (row, index) => row.map((value, column) => {
      if (column !== 9) return String(value ?? '–');
      const flags = rows[index].flags;
      return flags.length === 0 ? '–' : h('span', { class: 'flags' }, flags.map((flag) =>
        h('span', { class: 'badge flag', 'data-flag': flag.kind, title: flag.message }, FLAG_NAMES[flag.kind] ?? flag.kind)));
    }));
  }
}

/**
 * A line per annotator (the first eight) over the days with work.
 * @param {AnnotatorProductivity[]} rows @param {'tasks' | 'active_hours'} measure
 */
function dayChart(rows, measure) {
  const shown = rows.slice(0, COLOURS.length);
  const days = [...new Set(shown.flatMap((row) => row.by_day.map((day) => day.day)))].sort();
  const width = 640;
  const height = 180;
  const left = 40;
  const top = 10;
  const max = Math.max(1e-9, ...shown.flatMap((row) => row.by_day.map((day) => day[measure])));
  const x = (/** @type {number} */ index) => left + (days.length === 1 ? (width - left) / 2 : index * (width - left - 20) / (days.length - 1));
  const y = (/** @type {number} */ value) => top + height - (value / max) * height;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + top + 50}`, role: 'img', class: 'quality-chart',
    id: `chart-${measure}`, 'aria-label': measure === 'tasks' ? 'Tasks per day per annotator' : 'Active hours per day per annotator' });
  chart.append(svg('line', { x1: left, y1: top + height, x2: width, y2: top + height, class: 'chart-axis' }));
  chart.append(svg('text', { x: left - 6, y: top + 10, 'text-anchor': 'end', class: 'chart-label' }, measure === 'tasks' ? String(max) : max.toFixed(2)));
  days.forEach((day, index) => {
    if (days.length <= 10 || index % Math.ceil(days.length / 10) === 0) {
      chart.append(svg('text', { x: x(index), y: top + height + 16, 'text-anchor': 'middle', class: 'chart-label' }, day.slice(5)));
    }
  });
  shown.forEach((row, which) => {
    const values = new Map(row.by_day.map((day) => [day.day, day[measure]]));
    const points = days.map((day, index) => `${x(index)},${y(values.get(day) ?? 0)}`);
    const colour = COLOURS[which];
    if (points.length > 1) chart.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: colour, 'stroke-width': 2 }));
    days.forEach((day, index) => chart.append(svg('circle', { cx: x(index), cy: y(values.get(day) ?? 0), r: 3, fill: colour },
      svg('title', {}, `${row.username} ${day}: ${measure === 'tasks' ? values.get(day) ?? 0 : (values.get(day) ?? 0).toFixed(2)}`))));
    chart.append(svg('text', { x: left + which * 75, y: top + height + 40, fill: colour, class: 'chart-label' }, row.username.slice(0, 10)));
  });
  return chart;
}
