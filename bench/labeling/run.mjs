// Runs a labeling workspace benchmark page in headless Chromium and prints
// its numbers as JSON.
// Usage: node bench/labeling/run.mjs [--runs N] [--viewport 1280x720] [--query 'bench=masks&masks=500&size=4000x3000']
//
// By default 5,000 boxes on an 8000×6000 image (bench.js); `bench=masks`:
// brush masks and big images (masks.js), which stops at checkpoints where this script measures the
// browser's memory after a garbage collection: the page's JS heap (CDP
// Performance.getMetrics) and the proportional set size (PSS) of every
// browser process (Linux /proc), which counts the decoded image and the
// mask bitmaps that the JS heap does not.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';
import { serve } from '../../web/tests/static-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const arg = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', '1'));
const [width, height] = arg('--viewport', '1280x720').split('x').map(Number);
const query = arg('--query', '');

/** Process ids whose parent chain leads to `ancestor` (this node process: playwright starts Chromium as its child). @param {number} ancestor */
function descendants(ancestor) {
  /** @type {Map<number, number>} pid → parent pid */
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = [];
  for (const pid of parents.keys()) {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === ancestor) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

/** PSS of each browser process in MB, and which kind it is (renderer, gpu-process, ...). */
function browserMemory() {
  const processes = descendants(process.pid).flatMap((pid) => {
    try {
      const pss = Number(/Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
      const kind = /--type=([\w-]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1] ?? 'browser';
      return [{ kind, pss }];
    } catch {
      return [];
    }
  });
  const round = (/** @type {number} */ v) => Math.round(v * 10) / 10;
  const of = (/** @type {string} */ kind) => round(processes.filter((p) => p.kind === kind).reduce((sum, p) => sum + p.pss, 0));
  return { totalPssMb: round(processes.reduce((sum, p) => sum + p.pss, 0)), rendererPssMb: of('renderer'), gpuPssMb: of('gpu-process'), processes: processes.length };
}

const server = await serve(root);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--enable-precise-memory-info'],
});
try {
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('pageerror', (e) => console.error('page error:', e));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    /** @type {Record<string, unknown>} */
    const memory = {};
    await page.goto(`${server.url}/bench/labeling/index.html?checkpoints&${query}`);
    for (;;) {
      const state = await page.waitForFunction(() => /** @type {any} */ (window).benchWaiting || ('benchResult' in window && 'done'), null, { timeout: 600_000 });
      const stage = await state.jsonValue();
      if (stage === 'done') break;
      await cdp.send('HeapProfiler.collectGarbage');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { metrics } = await cdp.send('Performance.getMetrics');
      const metric = (/** @type {string} */ name) => metrics.find((m) => m.name === name)?.value ?? 0;
      memory[String(stage)] = { jsHeapMb: Math.round(metric('JSHeapUsedSize') / 1e5) / 10, ...browserMemory() };
      await page.evaluate(() => /** @type {any} */ (window).benchResume());
    }
    const result = await page.evaluate(() => /** @type {any} */ (window).benchResult);
    console.log(JSON.stringify(Object.keys(memory).length ? { ...result, memory } : result));
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
