// Export: pick a format and filters, download with progress.

import { h, replace } from '../dom.js';
import { fileSafe, loadProject, projectHeader } from './common.js';

/** @param {import('../main.js').PageContext} context */
export async function render({ root, params }) {
  const project = await loadProject(params.project);
  const format = h('select', { id: 'export-format' },
    h('option', { value: 'json' }, 'Gloss JSON (everything, lossless)'),
    h('option', { value: 'label-studio' }, 'Label Studio JSON'),
    h('option', { value: 'jsonl' }, 'Label Studio tasks as JSON Lines'),
    h('option', { value: 'coco' }, 'COCO (zip with images)'),
    h('option', { value: 'yolo' }, 'YOLO, Ultralytics layout (zip with images)'),
    h('option', { value: 'voc' }, 'Pascal VOC (zip with images and masks)'),
    h('option', { value: 'cvat' }, 'CVAT XML 1.1 (images, or video tracks)'),
    h('option', { value: 'mot' }, 'MOTChallenge (video tracks)'),
    h('option', { value: 'mask-png' }, 'Segmentation masks as PNGs with a colour map (zip with images)'),
    h('option', { value: 'conll2003' }, 'CoNLL-2003 named entities, IOB2 (text)'),
    h('option', { value: 'rttm' }, 'RTTM speaker segments (audio)'),
    h('option', { value: 'webvtt' }, 'WebVTT transcripts, a file per sound (zip)'),
    h('option', { value: 'srt' }, 'SRT transcripts, a file per sound (zip)'),
    h('option', { value: 'nemo-asr' }, 'NeMo ASR manifest, a line per segment (JSON Lines)'),
    h('option', { value: 'preference-jsonl' }, 'Preference pairs, JSON Lines (prompt, chosen, rejected: TRL DPO)'),
    h('option', { value: 'ranking-jsonl' }, 'LLM rankings and ratings, JSON Lines (one annotation per line)'),
    h('option', { value: 'spacy' }, 'spaCy v3 DocBin (.spacy): entities and text classes'),
    h('option', { value: 'chat-jsonl' }, 'Red-teaming chats, a conversation per line with its labels (JSON Lines)'),
  );
  const task = h('select', { id: 'export-task' },
    h('option', { value: 'detect' }, 'detect: boxes'),
    h('option', { value: 'segment' }, 'segment: polygons'),
    h('option', { value: 'pose' }, 'pose: skeletons'),
    h('option', { value: 'obb' }, 'obb: rotated boxes'),
    h('option', { value: 'classify' }, 'classify: one class per image'),
  );
  const taskLabel = h('label', { hidden: true }, 'YOLO task', task);
  const images = h('input', { type: 'checkbox', checked: true, id: 'export-images' });
  const withImages = () => ['coco', 'yolo', 'voc', 'cvat', 'mask-png'].includes(format.value);
  format.addEventListener('change', () => {
    taskLabel.hidden = format.value !== 'yolo';
    images.disabled = !withImages();
  });
  images.disabled = true;
  const statusCompleted = h('input', { type: 'checkbox', id: 'export-completed' });
  const which = h('select', { id: 'export-annotations' },
    h('option', { value: 'all' }, 'Every annotator\'s annotations'),
    h('option', { value: 'reviewed' }, 'Reviewed only (accepted at every review layer)'),
    h('option', { value: 'consensus' }, 'Consensus (one per task, made from its annotators\' work)'));
  const split = h('input', { placeholder: 'e.g. 0.8,0.1,0.1', id: 'export-split' });
  const progress = h('progress', { max: 1, value: 0, hidden: true });
  const state = h('span', { class: 'muted', id: 'export-state' });
  const message = h('p', { class: 'error' });
  let controller = new AbortController();

  const start = h('button', { class: 'primary', id: 'export-start', onclick: download }, 'Export');
  replace(root,
    projectHeader(project, 'export'),
    h('div', { class: 'card' },
      h('label', null, 'Format', format),
      taskLabel,
      h('label', { class: 'inline' }, statusCompleted, 'Only completed tasks'),
      h('label', null, 'Annotations', which),
      h('label', { class: 'inline' }, images, 'Include the images (COCO, YOLO, VOC, CVAT)'),
      h('label', null, 'Train / validation / test split (optional; gives a zip)', split),
      h('div', { class: 'row' }, start, progress, state),
      message,
    ),
  );

  async function download() {
    replace(message);
    controller = new AbortController();
    const query = new URLSearchParams({ format: format.value });
    if (statusCompleted.checked) query.set('status', 'completed');
    if (which.value !== 'all') query.set('annotations', which.value);
    if (split.value.trim()) query.set('split', split.value.trim());
    if (format.value === 'yolo') query.set('task', task.value);
    if (withImages() && !images.checked) query.set('images', 'false');
    start.disabled = true;
    progress.hidden = false;
    progress.removeAttribute('value');
    try {
      const response = await fetch(`/api/v1/projects/${project.id}/export?${query}`, { signal: controller.signal, credentials: 'same-origin' });
      if (!response.ok || !response.body) {
        const body = await response.json().catch(() => null);
        throw new Error(body?.message ?? `${response.status} ${response.statusText}`);
      }
      // The size is not known before the export is written, so progress is
      // shown as bytes received.
      const reader = response.body.getReader();
      /** @type {Uint8Array[]} */
      const chunks = [];
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        replace(state, `${(received / 1024 / 1024).toFixed(1)} MB received`);
      }
      const type = response.headers.get('content-type') ?? 'application/octet-stream';
      const extension = type.includes('zip') ? 'zip' : format.value === 'spacy' ? 'spacy' : type.startsWith('text/plain') ? (format.value === 'rttm' ? 'rttm' : 'conll') : type.includes('ndjson') ? 'jsonl' : 'json';
      const blob = new Blob(/** @type {BlobPart[]} */ (chunks), { type });
      const link = h('a', { href: URL.createObjectURL(blob), download: `${fileSafe(project.name)}-${format.value === 'yolo' ? `yolo-${task.value}` : format.value}.${extension}` });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      progress.value = 1;
      replace(state, `Done: ${(received / 1024 / 1024).toFixed(2)} MB`);
    } catch (error) {
      if (!controller.signal.aborted) replace(message, error instanceof Error ? error.message : String(error));
      replace(state);
    } finally {
      start.disabled = false;
    }
  }

  return () => controller.abort();
}
