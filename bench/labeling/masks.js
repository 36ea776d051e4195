// Benchmark of brush masks and big images in the labeling workspace: a
// generated image (4000×3000 unless `?size=WxH`) with 500 masks (`?masks=N`)
// read from Gloss's coco_rle results. Measures the first frame, the time
// from opening until every mask is drawn, pan and zoom frames, and
// painting: the frames of a stroke and the time a stroke takes to become
// an undo step, into a new mask and into the biggest one. With
// `?checkpoints` it stops at `image`, `masks`, `zoomed` and `painted` for
// run.mjs to measure the browser's memory. Open index.html?bench=masks from
// a static server at the repository root, or run
// `node bench/labeling/run.mjs --query bench=masks`.

import { PaintBuffer, countsToString } from '../../web/app/labeling/mask.js';
import { createWorkspace } from '../../web/app/labeling/workspace.js';
import { generate, loadImage, nextFrame, summary, timeFrame, pointer, panFrames, zoomFrames, centre, openWorkspace, checkpoint, heapMb, imageConfig, openingReport, out, host, params, log } from './common.js';

const [WIDTH, HEIGHT] = (params.get('size') ?? '4000x3000').split('x').map(Number);
const MASKS = Number(params.get('masks') ?? 500);
const FRAMES = 40;
const BRUSH = 40;

const LABELS = ['Road', 'Car', 'Person', 'Tree', 'Sign'];
const config = imageConfig('BrushLabels', 'mask', LABELS);

/**
 * Instance masks as a segmentation model would give them: blobs of two or
 * three overlapping ellipses, most of them small, one in fifty large
 * (up to 1,800 pixels across), as coco_rle results.
 */
function makeMasks() {
  return generate(MASKS, (i, rand) => {
    const large = i % 50 === 0;
    const r = large ? 300 + rand() * 600 : 15 + rand() * rand() * 150;
    const cx = rand() * WIDTH;
    const cy = rand() * HEIGHT;
    const buffer = new PaintBuffer(WIDTH, HEIGHT, [cx - 2 * r, cy - 2 * r, cx + 2 * r, cy + 2 * r]);
    for (let e = 0; e < 2 + (i % 2); e++) {
      fillEllipse(buffer, cx + (rand() - 0.5) * r, cy + (rand() - 0.5) * r, r * (0.4 + rand() * 0.6), r * (0.4 + rand() * 0.6));
    }
    return {
      id: `m${String(i).padStart(9, '0')}`, from_name: 'mask', to_name: 'image', type: 'brushlabels',
      original_width: WIDTH, original_height: HEIGHT, image_rotation: 0,
      value: { format: 'coco_rle', counts: countsToString(buffer.counts()), brushlabels: [LABELS[i % LABELS.length]] },
    };
  });
}

/** @param {PaintBuffer} buffer @param {number} cx @param {number} cy @param {number} rx @param {number} ry */
function fillEllipse(buffer, cx, cy, rx, ry) {
  for (let y = Math.max(buffer.y, Math.ceil(cy - ry)); y < Math.min(buffer.y + buffer.h, cy + ry); y++) {
    const dx = rx * Math.sqrt(Math.max(0, 1 - ((y - cy) / ry) ** 2));
    const x0 = Math.max(buffer.x, Math.round(cx - dx));
    const x1 = Math.min(buffer.x + buffer.w, Math.round(cx + dx));
    if (x1 > x0) buffer.data.fill(1, (y - buffer.y) * buffer.w + x0 - buffer.x, (y - buffer.y) * buffer.w + x1 - buffer.x);
  }
}

/** Wait until the editor has no frame to draw (every mask rasterised). @param {any} editor */
async function settled(editor) {
  const start = performance.now();
  await nextFrame();
  while (editor.frame) await nextFrame();
  return performance.now() - start;
}

/**
 * One brush stroke of `moves` pointer moves, one a frame, round a circle
 * at the centre of the view; then the release, which writes the mask.
 * @param {any} editor @param {number} moves @param {number} radius CSS pixels
 */
async function paintStroke(editor, moves, radius) {
  const overlay = editor.overlay;
  const { cx, cy } = centre(overlay);
  const flush = [editor.overlay];
  const frames = [];
  pointer(overlay, 'pointerdown', cx + radius, cy, 0, 1);
  for (let i = 1; i <= moves; i++) {
    const angle = (i / moves) * 2 * Math.PI;
    const r = await timeFrame(() => pointer(overlay, 'pointermove', cx + radius * Math.cos(angle), cy + radius * Math.sin(angle), 0, 1), flush);
    frames.push(r.work);
  }
  const release = await timeFrame(() => pointer(overlay, 'pointerup', cx + radius, cy, 0, 0), flush);
  return { frames, release: release.work };
}

async function run() {
  const loaded = await loadImage(WIDTH, HEIGHT);
  const t = performance.now();
  const result = makeMasks();
  const masksMs = performance.now() - t;
  log(`${MASKS} masks made in ${masksMs.toFixed(0)} ms`);
  const heap = { image: heapMb(), masks: heapMb(), zoomed: heapMb(), painted: heapMb() };
  await checkpoint('image');

  let changes = 0;
  const options = { config, data: { image: loaded.url }, result, onChange: () => changes++ };
  const opened = await openWorkspace(host, options, 3);
  // Once more, the image's levels made: from createWorkspace until every mask is drawn.
  opened.ws.destroy();
  const start = performance.now();
  const ws = await createWorkspace(host, options);
  const editor = ws.debug.editors[0];
  await settled(editor);
  const allDrawnMs = performance.now() - start;
  log(`initial render ${JSON.stringify(summary(opened.initial))}, every mask drawn ${allDrawnMs.toFixed(0)} ms after opening`);
  heap.masks = heapMb();
  const tilesAtFitMb = (editor.masks.tiles.size * 256 * 256 * 4) / 1e6;
  await checkpoint('masks');

  const pan = await panFrames(editor, FRAMES);
  editor.fit();
  await settled(editor);
  const zoom = await zoomFrames(editor, FRAMES);
  // Zoomed in to 1:1 and panned there: the full-resolution tiles of the masks in view.
  const { cx, cy } = centre(editor.overlay);
  editor.view.zoomAt(1 / editor.view.scale, cx, cy);
  editor.invalidate(true);
  await settled(editor);
  const panAtOne = await panFrames(editor, FRAMES);
  await settled(editor);
  heap.zoomed = heapMb();
  const tilesMb = (editor.masks.tiles.size * 256 * 256 * 4) / 1e6;
  await checkpoint('zoomed');

  // Painting at 1:1: a new mask, more of it (it is selected), then the biggest mask.
  ws.keyHandler(new KeyboardEvent('keydown', { key: 'm' }));
  for (let size = 10; size < BRUSH; size += Math.max(1, Math.round(size / 5))) ws.keyHandler(new KeyboardEvent('keydown', { key: ']' }));
  ws.keyHandler(new KeyboardEvent('keydown', { key: 'Escape' }));
  const fresh = await paintStroke(editor, 60, 150);
  const more = await paintStroke(editor, 60, 100);
  const biggest = editor.currentRegions().reduce((a, b) => (b.mask && (!a || b.mask.area > a.mask.area) ? b : a), null);
  let intoBiggest = null;
  if (biggest) {
    ws.debug.selection.clear();
    ws.debug.selection.add(biggest.id);
    // Still at 1:1, centred on the middle of its left edge, so the strokes cross its outline.
    const [x0, y0, , y1] = biggest.mask.bbox;
    editor.view.offsetX = editor.cssWidth / 2 - x0;
    editor.view.offsetY = editor.cssHeight / 2 - (y0 + y1) / 2;
    editor.invalidate(true);
    await settled(editor);
    // The first stroke into a mask makes its paint buffer; the next reuses it.
    intoBiggest = { first: await paintStroke(editor, 30, 120), second: await paintStroke(editor, 30, 80) };
  }
  await settled(editor);
  heap.painted = heapMb();
  await checkpoint('painted');
  const items = ws.getResult();

  const report = {
    ...openingReport(WIDTH, HEIGHT, loaded, opened),
    masks: MASKS,
    brush: editor.host.brushSize(),
    masksMadeMs: Math.round(masksMs),
    allMasksDrawnMs: Math.round(allDrawnMs),
    panFrameMs: summary(pan.work),
    zoomFrameMs: summary(zoom.work),
    panAtOneToOneFrameMs: summary(panAtOne.work),
    panLatencyMs: summary(pan.latency),
    zoomLatencyMs: summary(zoom.latency),
    strokeFrameMs: summary([...fresh.frames, ...more.frames]),
    strokeReleaseMs: { newMask: Math.round(fresh.release), sameMaskAgain: Math.round(more.release) },
    biggestMask: intoBiggest && {
      area: biggest.mask.area,
      strokeFrameMs: summary([...intoBiggest.first.frames, ...intoBiggest.second.frames]),
      firstStrokeReleaseMs: Math.round(intoBiggest.first.release),
      secondStrokeReleaseMs: Math.round(intoBiggest.second.release),
    },
    maskTilesMb: { atFit: Math.round(tilesAtFitMb * 10) / 10, afterZoom: Math.round(tilesMb * 10) / 10 },
    jsHeapMb: heap,
    results: items.length,
    changes,
  };
  out.textContent = JSON.stringify(report, null, 1);
  Object.assign(window, { benchResult: report });
}

run().catch((e) => {
  out.textContent = `failed: ${e?.stack ?? e}`;
  Object.assign(window, { benchResult: { error: String(e?.stack ?? e) } });
});
