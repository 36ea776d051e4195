// Benchmark of the labeling workspace: an 8000×6000 image with 5,000 boxes.
// Measures the initial render, pan and zoom frames, and selecting and moving
// a box, driving the editor with synthetic pointer and wheel events. Open
// bench/labeling/index.html from a static server at the repository root, or
// run bench/labeling/run.mjs. Results land in window.benchResult and #out.

import { generate, loadImage, nextFrame, summary, timeFrame, pointer, panFrames, zoomFrames, centre, openWorkspace, imageConfig, openingReport, out, host, params, log } from './common.js';

const WIDTH = 8000;
const HEIGHT = 6000;
const BOXES = 5000;
const FRAMES = 40;
const boxCount = Number(params.get('boxes') ?? BOXES);

const LABELS = ['Car', 'Person', 'Bike', 'Truck', 'Sign'];
const config = imageConfig('RectangleLabels', 'label', LABELS);

/** Boxes 30 to 400 by 30 to 300 pixels anywhere on the image. */
function makeBoxes() {
  return generate(boxCount, (i, rand) => {
    const w = 30 + rand() * 370;
    const h = 30 + rand() * 270;
    const x = rand() * (WIDTH - w);
    const y = rand() * (HEIGHT - h);
    return {
      id: `b${String(i).padStart(9, '0')}`, from_name: 'label', to_name: 'image', type: 'rectanglelabels',
      original_width: WIDTH, original_height: HEIGHT, image_rotation: 0,
      value: { x: (x / WIDTH) * 100, y: (y / HEIGHT) * 100, width: (w / WIDTH) * 100, height: (h / HEIGHT) * 100, rotation: 0, rectanglelabels: [LABELS[i % LABELS.length]] },
    };
  });
}

async function run() {
  const loaded = await loadImage(WIDTH, HEIGHT);
  const result = makeBoxes();

  let changes = 0;
  const opened = await openWorkspace(host, { config, data: { image: loaded.url }, result, onChange: () => changes++ }, 5);
  log(`initial render ${JSON.stringify(summary(opened.initial))}`);
  const { ws } = opened;
  const editor = ws.debug.editors[0];
  const flush = [editor.imageCanvas, editor.overlay];
  const overlay = /** @type {HTMLElement} */ (editor.overlay);
  const { rect } = centre(overlay);

  const { work: pan, latency: panLatency } = await panFrames(editor, FRAMES);
  editor.fit();
  await nextFrame();
  const { work: zoom, latency: zoomLatency } = await zoomFrames(editor, FRAMES);
  editor.fit();
  await nextFrame();

  // Select a box by clicking it (select tool), then move it with a drag.
  ws.keyHandler(new KeyboardEvent('keydown', { key: 'v' }));
  const selectTimes = [];
  const moveTimes = [];
  const dropTimes = [];
  for (let trial = 0; trial < 10; trial++) {
    const box = result[(trial * 487) % result.length].value;
    const [bx, by] = editor.view.toScreen(((box.x + box.width / 2) / 100) * WIDTH, ((box.y + box.height / 2) / 100) * HEIGHT);
    const px = rect.left + bx;
    const py = rect.top + by;
    const s = await timeFrame(() => {
      pointer(overlay, 'pointerdown', px, py, 0, 1);
      pointer(overlay, 'pointerup', px, py, 0, 0);
    }, flush);
    selectTimes.push(s.work);
    pointer(overlay, 'pointerdown', px, py, 0, 1);
    for (let i = 1; i <= 10; i++) {
      const m = await timeFrame(() => pointer(overlay, 'pointermove', px + i * 3, py + i * 2, 0, 1), flush);
      moveTimes.push(m.work);
    }
    const d = await timeFrame(() => pointer(overlay, 'pointerup', px + 30, py + 20, 0, 0), flush);
    dropTimes.push(d.work);
  }
  const moved = ws.getResult().filter((/** @type {any} */ item, /** @type {number} */ i) =>
    ['x', 'y', 'width', 'height'].some((k) => item.value[k] !== result[i].value[k])).length;

  const report = {
    ...openingReport(WIDTH, HEIGHT, loaded, opened),
    boxes: boxCount,
    panFrameMs: summary(pan),
    zoomFrameMs: summary(zoom),
    selectMs: summary(selectTimes),
    moveFrameMs: summary(moveTimes),
    dropMs: summary(dropTimes),
    panLatencyMs: summary(panLatency),
    zoomLatencyMs: summary(zoomLatency),
    boxesEdited: moved,
    changes,
  };
  const met = report.initialRenderMs.median <= 300 && [report.panFrameMs, report.zoomFrameMs, report.selectMs, report.moveFrameMs].every((m) => m.p95 <= 16);
  Object.assign(report, { targetMet: met });
  out.textContent = JSON.stringify(report, null, 1);
  Object.assign(window, { benchResult: report });
}

run().catch((e) => {
  out.textContent = `failed: ${e?.stack ?? e}`;
  Object.assign(window, { benchResult: { error: String(e?.stack ?? e) } });
});
