// Takes the README's screenshots from `gloss serve --demo` in a fresh data
// folder, in headless Chromium at 1280×720.
// Usage (after `cargo build` and `cd web && npm ci`): node docs/screenshots/take.mjs

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, signIn, startGloss, ADMIN_PASSWORD } from '../../web/tests/support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const gloss = await startGloss(['--demo']);
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await signIn(page, gloss.base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${gloss.base}/projects/1/label`);
  await page.waitForSelector('#workspace[data-task]');
  // Select a region, so the screenshot shows handles and the region list in use.
  await page.waitForTimeout(500);
  const row = page.locator('.gl-region-row .gl-region-text').first();
  if (await row.count()) await row.click();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(here, 'labeling.png') });
  await page.goto(`${gloss.base}/projects/1/data`);
  await page.waitForSelector('table');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(here, 'data-manager.png') });
} finally {
  await browser.close();
  await gloss.stop();
}
