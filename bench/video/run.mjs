// Video labeling benchmark: seeks and frame steps in a long 1080p H.264
// video, in the real workspace in headless Chromium (software decoding and
// drawing: --disable-gpu), served over loopback with byte ranges.
//
// Usage: node bench/video/run.mjs [--minutes 10] [--gop 60] [--preset ultrafast] [--fps 30] [--seeks 40] [--steps 300] [--folder DIR] [--no-webcodecs]
//
// The video (ffmpeg's testsrc2 pattern, libx264 at CRF 40 with a key frame
// every --gop frames; --preset ultrafast, the default, makes no B-frames,
// veryfast and slower presets make them: three between references, the
// middle one a reference itself, the other two not) and its frame index
// (ffprobe's packet times, as the server's frames route gives them) are
// made on the first run in DIR (default: gloss-video-bench in the
// temporary folder) and reused after,
// with its sample table (ffprobe's packets and the avcC box, as the
// server's samples route gives them), so the player decodes with WebCodecs;
// --no-webcodecs answers the samples route 415, as for a WebM, to measure
// the hidden `<video>` read-ahead instead.
// Prints one JSON line of numbers: seek latency from the call to the frame
// painted (and, as measured before 2026-12-06's fourth session, to the
// animation frame after that: `seekTwoFramesMs`), and frames shown a second while stepping with → (forward: the
// read-ahead serves most steps) and ← (backward: every step a seek), and
// the first step back 150 ms after a seek (`firstStepBackMs`); for each
// step, the editor's script time drawing the frame (`renderMs`); and the
// samples the WebCodecs reader passed by undecoded (`passedBy`).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';
import { serve } from '../../web/tests/static-server.mjs';
import { frameIndex, sampleTable } from '../../web/tests/video-fixtures.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const arg = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const minutes = Number(arg('--minutes', '10'));
const gop = Number(arg('--gop', '60'));
const preset = arg('--preset', 'ultrafast');
const fps = Number(arg('--fps', '30'));
const seeks = Number(arg('--seeks', '40'));
const steps = Number(arg('--steps', '300'));
const folder = arg('--folder', path.join(os.tmpdir(), 'gloss-video-bench'));
const webcodecs = !process.argv.includes('--no-webcodecs');

/** Makes the video and its frame index unless they are there already. */
function makeVideo() {
  const name = `testsrc2-1080p-${minutes}min-${fps}fps-g${gop}${preset === 'ultrafast' ? '' : `-${preset}`}.mp4`;
  const file = path.join(folder, name);
  if (!existsSync(file)) {
    mkdirSync(folder, { recursive: true });
    const started = Date.now();
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${fps}`, '-t', String(minutes * 60),
      '-c:v', 'libx264', '-preset', preset, '-crf', '40', '-g', String(gop), '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file], { stdio: 'inherit' });
    console.error(`made ${name} (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  if (!existsSync(`${file}.frames.json`)) writeFileSync(`${file}.frames.json`, JSON.stringify(frameIndex(file)));
  if (!existsSync(`${file}.samples.json`)) writeFileSync(`${file}.samples.json`, JSON.stringify(sampleTable(file)));
  return name;
}

const CONFIG = {
  objects: [{ kind: 'Video', name: 'video', value: 'video', attributes: { frameRate: String(fps) } }],
  controls: [
    { kind: 'Labels', name: 'labels', to_names: ['video'], labels: [{ value: 'Car', background: null, hotkey: null, alias: null }], labels_from: null, choice: null, per_region: false, required: false, attributes: {} },
    { kind: 'VideoRectangle', name: 'box', to_names: ['video'], labels: [], labels_from: null, choice: null, per_region: false, required: false, attributes: {} },
  ],
  layout: [{ node: 'view', attributes: {}, children: [{ node: 'object', name: 'video' }, { node: 'control', name: 'labels' }, { node: 'control', name: 'box' }] }],
};

const name = makeVideo();
const server = await serve(root, { mediaRoot: folder, samples: webcodecs });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${server.url}/web/tests/pages/workspace.html`);
  await page.waitForFunction(() => 'gl' in window);
  const opened = Date.now();
  await page.evaluate(([config, url]) => window.gl.make(config, [], { video: url }), [CONFIG, `/api/v1/media/${name}`]);
  const openMs = Date.now() - opened;
  const result = await page.evaluate(async ([seekCount, stepCount]) => {
    const player = window.gl.video().player;
    const painted = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    // Just after the paint of the next animation frame, in which the editor
    // draws the frame shown: a message posted from that frame's callback
    // runs once the frame is painted, a frame interval before the next
    // callback (the older measure, kept beside it).
    const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(null);
    }));
    const percentile = (/** @type {number[]} */ values, /** @type {number} */ p) => {
      const sorted = values.slice().sort((a, b) => a - b);
      return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
    };
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    // Seeks to random frames, each after the last one's read-ahead settled a little.
    const seekMs = [];
    const seekTwoFramesMs = [];
    let wrong = 0;
    for (let k = 0; k < seekCount; k++) {
      const frame = Math.floor(random() * player.frames);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const start = performance.now();
      await player.seek(frame);
      await afterPaint();
      seekMs.push(performance.now() - start);
      await new Promise((resolve) => requestAnimationFrame(resolve));
      seekTwoFramesMs.push(performance.now() - start);
      if (player.frame !== frame) wrong++;
    }
    const { renderStats } = await import('/web/app/labeling/workspace.js');
    /** Steps by keys from a random frame (no frame kept there yet): frames shown a second. @param {string} key @param {number} delta */
    const stepRun = async (key, delta) => {
      await player.seek(Math.floor(player.frames / 3 + random() * player.frames / 3));
      await painted();
      const start = performance.now();
      const latencies = [];
      /** The editor's own drawing of each step's frame (the script's time for it, not the raster at paint). */
      const renderMs = [];
      for (let k = 0; k < stepCount; k++) {
        const target = player.target + delta;
        const t0 = performance.now();
        document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
        // Until the frame is shown and painted (the editor draws in the animation frame before this one's end).
        do await new Promise((resolve) => requestAnimationFrame(resolve));
        while (player.frame !== target);
        latencies.push(performance.now() - t0);
        renderMs.push(renderStats.lastFrameMs);
      }
      const seconds = (performance.now() - start) / 1000;
      return {
        framesPerSecond: Math.round((stepCount / seconds) * 10) / 10, p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: percentile(latencies, 100),
        over50ms: latencies.filter((ms) => ms > 50).length,
        renderMs: { p50: percentile(renderMs, 50), p95: percentile(renderMs, 95) },
      };
    };
    // One step back, a moment after a seek to a random frame: the frames
    // behind a frame the seek showed are not kept yet.
    const firstStepBackMs = [];
    for (let k = 0; k < Math.ceil(seekCount / 2); k++) {
      const frame = 1 + Math.floor(random() * (player.frames - 1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await player.seek(frame);
      await afterPaint();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const t0 = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
      do await new Promise((resolve) => requestAnimationFrame(resolve));
      while (player.frame !== frame - 1);
      firstStepBackMs.push(performance.now() - t0);
    }
    const forward = await stepRun('ArrowRight', 1);
    const backward = await stepRun('ArrowLeft', -1);
    return {
      frames: player.frames, size: `${player.width}x${player.height}`, cacheFrames: player.cache.limit, decoder: player.decoder,
      seekMs: { p50: percentile(seekMs, 50), p95: percentile(seekMs, 95), max: percentile(seekMs, 100), wrong },
      seekTwoFramesMs: { p50: percentile(seekTwoFramesMs, 50), p95: percentile(seekTwoFramesMs, 95), max: percentile(seekTwoFramesMs, 100) },
      firstStepBackMs: { p50: percentile(firstStepBackMs, 50), p95: percentile(firstStepBackMs, 95), max: percentile(firstStepBackMs, 100) },
      forward, backward,
      // Samples the WebCodecs reader passed by undecoded (non-reference frames it would not keep).
      passedBy: /** @type {any} */ (player.readAhead)?.passedBy ?? null,
    };
  }, [seeks, steps]);
  console.log(JSON.stringify({ video: name, sizeMB: Math.round(statSync(path.join(folder, name)).size / 1e6), openMs, ...result }));
} finally {
  await browser.close();
  await server.close();
}
