// Takes the README's screenshots from `gloss serve --demo` in a fresh data
// folder, in headless Chromium at 1280×720.
// Usage (after `cargo build` and `cd web && npm ci`): node docs/screenshots/take.mjs

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, signIn } from '../../web/tests/support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? '', '.cache', 'gloss-target');
const binary = process.env.GLOSS_BIN ?? join(target, 'debug', 'gloss');
const password = 'screenshot-password';
const data = mkdtempSync(join(tmpdir(), 'gloss-screenshots-'));
const child = spawn(binary, ['--data', data, 'serve', '--demo', '--bind', '127.0.0.1:0'], {
  env: { ...process.env, GLOSS_ADMIN_PASSWORD: password, RUST_LOG: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((resolve, reject) => {
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    const found = /Gloss is running at (http:\/\/[0-9.:]+)/.exec(output);
    if (found) resolve(found[1]);
  });
  child.on('exit', (code) => reject(new Error(`gloss exited with ${code}`)));
});
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await signIn(page, base, 'admin', password);
  await page.goto(`${base}/projects/1/label`);
  await page.waitForSelector('#workspace[data-task]');
  // Select a region, so the screenshot shows handles and the region list in use.
  await page.waitForTimeout(500);
  const row = page.locator('.gl-region-row .gl-region-text').first();
  if (await row.count()) await row.click();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(here, 'labeling.png') });
  await page.goto(`${base}/projects/1/data`);
  await page.waitForSelector('table');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(here, 'data-manager.png') });
} finally {
  await browser.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(data, { recursive: true, force: true });
}
