// Runs the labeling workspace benchmark in headless Chromium and prints its
// numbers as JSON. Usage: node bench/labeling/run.mjs [--runs N] [--viewport 1280x720]

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

const server = await serve(root);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(`${server.url}/bench/labeling/index.html`);
    await page.waitForFunction(() => 'benchResult' in window, null, { timeout: 300_000 });
    const result = await page.evaluate(() => /** @type {any} */ (window).benchResult);
    results.push(result);
    console.log(JSON.stringify(result));
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
