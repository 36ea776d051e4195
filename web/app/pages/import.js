// Import: drop images (many at once) or task files. Everything dropped
// together is one import, which writes every task or none; the report lists
// each rejected row with its file, row, field and reason.

import { get, upload, ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { loadProject, projectHeader } from './common.js';

const FORMATS = ['auto', 'json', 'jsonl', 'csv', 'tsv', 'coco', 'label-studio', 'conll2003', 'spacy', 'preference-jsonl', 'ranking-jsonl', 'chat-jsonl'];

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params }) {
  const project = await loadProject(params.project);
  // A video project reads zips as videos (see the import's dataset kinds).
  const showsVideo = /<video[\s>/]/i.test(project.label_config);
  const input = h('input', { type: 'file', multiple: true, id: 'import-files', 'aria-label': 'Files to import' });
  const format = h('select', { id: 'import-format', 'aria-label': 'Format of task files' }, FORMATS.map((name) => h('option', { value: name }, name)));
  const zone = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', null, showsVideo
      ? 'Drop videos (MP4, WebM), a task file (JSON, JSONL, CSV, TSV, Label Studio export) or a zip of videos: MOT sequences, CVAT for video, or folders of frames (each folder one video) here'
      : 'Drop images, a task file (JSON, JSONL, CSV, TSV, COCO, Label Studio export) or a dataset zip (YOLO, Pascal VOC, CVAT) here'),
    h('p', null, 'or ', input),
  );
  const uploads = h('div', { class: 'uploads', id: 'uploads' });
  const report = h('div', { id: 'import-report' });
  let stopped = false;

  replace(root,
    projectHeader(project, 'import'),
    h('p', { class: 'muted' }, `${showsVideo ? 'Videos and image sequences' : 'Images'} become one task each. Files dropped together are imported together: if any row is rejected, nothing is written and the report says why.`),
    h('div', { class: 'row' }, h('span', null, 'Task file format'), format),
    zone,
    uploads,
    report,
  );

  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length) start(files);
  });
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) start(files);
  });

  /** @param {File[]} files */
  async function start(files) {
    replace(report);
    const overall = h('progress', { max: 1, value: 0, id: 'overall-progress' });
    const overallText = h('span', null, 'Uploading…');
    const rows = files.map((file) => {
      const bar = h('progress', { max: 1, value: 0 });
      const state = h('span', { class: 'muted' }, sizeText(file.size));
      return { file, bar, state, row: h('div', { class: 'upload-row' }, h('span', null, file.name), state, bar) };
    });
    replace(uploads, h('div', { class: 'upload-row' }, h('strong', null, `${files.length} file${files.length === 1 ? '' : 's'}`), overallText, overall), rows.map((r) => r.row));

    const form = new FormData();
    form.append('format', format.value);
    for (const file of files) form.append('file', file, file.name);
    const totalBytes = files.reduce((sum, file) => sum + file.size, 0) || 1;
    try {
      /** @type {any} */
      let job = await upload(`/projects/${project.id}/imports`, form, (sent, total) => {
        // The parts go in order, so the bytes sent so far tell how far each file is.
        const scale = total ? totalBytes / total : 1;
        let left = sent * scale;
        for (const r of rows) {
          const done = Math.min(1, r.file.size ? Math.max(0, left) / r.file.size : left >= 0 ? 1 : 0);
          r.bar.value = done;
          left -= r.file.size;
        }
        overall.value = total ? sent / total : 0;
      });
      for (const r of rows) {
        r.bar.value = 1;
        replace(r.state, 'uploaded');
      }
      overall.value = 1;
      replace(overallText, 'Importing…');
      while (job.state === 'running' && !stopped) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        job = await get(`/imports/${job.id}`);
        replace(overallText, `Importing… ${job.rows_read} rows read`);
      }
      showReport(job);
      replace(overallText, job.state === 'completed' ? 'Done' : 'Nothing imported');
    } catch (error) {
      replace(overallText, 'Failed');
      replace(report, h('div', { class: 'report' }, h('p', { class: 'error' }, error instanceof ApiError ? error.lines().join('\n') : String(error)), h('p', null, 'Nothing was imported.')));
    }
  }

  /** @param {any} job */
  function showReport(job) {
    if (job.state === 'completed') {
      replace(report, h('div', { class: 'report', id: 'import-done' },
        h('p', { class: 'ok' }, `Imported ${job.tasks_created} task${job.tasks_created === 1 ? '' : 's'}, ${job.annotations_created} annotations, ${job.predictions_created} predictions.`),
        h('p', null, h('a', { href: `/projects/${project.id}/data` }, 'See the data'), ' · ', h('a', { href: `/projects/${project.id}/label` }, 'Start labeling'))));
      return;
    }
    replace(report, h('div', { class: 'report', id: 'import-failed' },
      h('p', { class: 'error' }, `Nothing was imported: ${job.error ?? `${job.rejected.length} row${job.rejected.length === 1 ? ' was' : 's were'} rejected`}.`),
      job.rejected.length ? h('ul', null, job.rejected.map((/** @type {any} */ row) =>
        h('li', null, `${row.file}, row ${row.row}${row.field ? `, ${row.field}` : ''}: ${row.reason}`))) : null,
    ));
  }

  return () => {
    stopped = true;
  };
}

/** @param {number} bytes */
function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
