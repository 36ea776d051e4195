// Submit → next task visible, in headless Chromium against a real
// `gloss serve` on loopback: an annotator walks a queue of large images
// (Ctrl+Enter on each), and the page records the time from the key press to
// the next task's workspace being ready and painted.
//
// Usage: node bench/labeling/submit-next.mjs [--tasks 12] [--size 4000x3000] [--no-preload]
// Needs the gloss binary (GLOSS_BIN, or $CARGO_TARGET_DIR/debug/gloss) and
// web/node_modules (cd web && npm ci). `--no-preload` blocks the
// `/upcoming` look ahead, to show what preloading saves.

import { api, launchBrowser, png, signIn, startGloss, tokenFor, ADMIN_PASSWORD } from '../../web/tests/support.mjs';

const arg = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const tasks = Number(arg('--tasks', '12'));
const [width, height] = arg('--size', '4000x3000').split('x').map(Number);
const preload = !process.argv.includes('--no-preload');
const PASSWORD = 'bench-password';
const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Person"/>
  </RectangleLabels>
</View>`;

/** @param {number[]} values */
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, median: +at(0.5).toFixed(1), p95: +at(0.95).toFixed(1), max: +sorted[sorted.length - 1].toFixed(1) };
}

const gloss = await startGloss();
const browser = await launchBrowser();
try {
  const admin = await tokenFor(gloss.base, 'admin', ADMIN_PASSWORD);
  await api(gloss.base, admin, 'POST', '/users', { username: 'walker', password: PASSWORD, role: 'annotator' });
  const { body: project } = await api(gloss.base, admin, 'POST', '/projects', { name: 'submit-next', label_config: CONFIG });
  await api(gloss.base, admin, 'POST', `/projects/${project.id}/members`, { username: 'walker', role: 'annotator' });

  const form = new FormData();
  for (let i = 0; i < tasks; i++) {
    const rgb = /** @type {[number, number, number]} */ ([40 + ((i * 37) % 200), 90 + ((i * 53) % 150), 200 - ((i * 29) % 150)]);
    form.append('file', new Blob([png(width, height, rgb)], { type: 'image/png' }), `image-${i}.png`);
  }
  const uploaded = await fetch(`${gloss.base}/api/v1/projects/${project.id}/imports`, {
    method: 'POST', headers: { Authorization: `Bearer ${admin}` }, body: form,
  });
  let job = await uploaded.json();
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = (await api(gloss.base, admin, 'GET', `/imports/${job.id}`)).body;
  }
  if (job.state !== 'completed') throw new Error(`import: ${JSON.stringify(job)}`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  if (!preload) await context.route('**/api/v1/projects/*/upcoming', (route) => route.fulfill({ status: 204 }));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await signIn(page, gloss.base, 'walker', PASSWORD);
  const opened = Date.now();
  await page.goto(`${gloss.base}/projects/${project.id}/label`);
  await page.waitForSelector('#workspace[data-task]');
  const firstTask = Date.now() - opened;

  // In the page: the time of each Ctrl+Enter, and of each new task shown
  // and painted (two animation frames after the workspace says it is ready).
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.benchTimes = [];
    document.addEventListener('keydown', (event) => {
      if (event.ctrlKey && event.key === 'Enter') w.benchPressed = performance.now();
    }, true);
    const host = /** @type {HTMLElement} */ (document.getElementById('workspace'));
    new MutationObserver(() => {
      if (!host.dataset.task || w.benchPressed === undefined) return;
      const pressed = w.benchPressed;
      w.benchPressed = undefined;
      requestAnimationFrame(() => requestAnimationFrame(() => w.benchTimes.push(performance.now() - pressed)));
    }).observe(host, { attributes: true, attributeFilter: ['data-task'] });
  });
  for (let i = 1; i < tasks; i++) {
    // Give the look ahead the time an annotator would take to label.
    await page.waitForTimeout(600);
    const before = await page.getAttribute('#workspace', 'data-task');
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction((previous) => {
      const now = document.querySelector('#workspace')?.getAttribute('data-task');
      return now && now !== previous;
    }, before);
    await page.waitForFunction((count) => /** @type {any} */ (window).benchTimes.length >= count, i);
  }
  const times = await page.evaluate(() => /** @type {any} */ (window).benchTimes);
  console.log(JSON.stringify({ image: `${width}x${height}`, preload, first_task_ms: firstTask, submit_to_next_ms: summary(times) }));
} finally {
  await browser.close();
  await gloss.stop();
}
