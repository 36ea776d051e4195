// Shared pieces of the browser tests: a real `gloss serve` on 127.0.0.1:0
// in a fresh data folder, Debian's Chromium driven by playwright-core,
// generated PNG images, and a small API client for setting up.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

/** Boxes, polygons and a scene class: default hotkeys are Car 1, Person 2, Road 3, Day 4, Night 5. */
export const IMAGE_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car" background="#e6194b"/>
    <Label value="Person" background="#3cb44b"/>
  </RectangleLabels>
  <PolygonLabels name="area" toName="image">
    <Label value="Road" background="#f58231"/>
  </PolygonLabels>
  <Choices name="scene" toName="image" choice="single">
    <Choice value="Day"/>
    <Choice value="Night"/>
  </Choices>
</View>
`;

/** A skeleton (joints head, hip, foot), ellipses, polylines, a number per image and one per region; default hotkeys: Ball 1, Lane 2 (the joints take none). */
export const VISION_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <KeyPointLabels name="pose" toName="image">
    <Label value="head"/>
    <Label value="hip"/>
    <Label value="foot"/>
    <Skeleton value="person">
      <Edge from="head" to="hip"/>
      <Edge from="hip" to="foot"/>
    </Skeleton>
  </KeyPointLabels>
  <EllipseLabels name="shape" toName="image">
    <Label value="Ball"/>
  </EllipseLabels>
  <PolyLineLabels name="lane" toName="image">
    <Label value="Lane"/>
  </PolyLineLabels>
  <Number name="people" toName="image" min="0" max="20"/>
  <Number name="confidence" toName="image" perRegion="true" min="0" max="1" step="0.1"/>
</View>
`;

/** Brush masks, one instance per region; default hotkeys: Road 1, Car 2. */
export const BRUSH_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="mask" toName="image">
    <Label value="Road"/>
    <Label value="Car"/>
  </BrushLabels>
</View>
`;

/** The gloss binary the suite built (scripts/test-all.sh sets GLOSS_BIN). */
function glossBinary() {
  if (process.env.GLOSS_BIN) return process.env.GLOSS_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? '', '.cache', 'gloss-target');
  return join(target, 'debug', 'gloss');
}

/**
 * Starts `gloss serve` on a free port of 127.0.0.1 with a fresh data folder.
 * @param {string[]} [serveArgs] more flags for `serve`, e.g. `--demo`
 * @returns {Promise<{base: string, stop: () => Promise<void>}>}
 */
export async function startGloss(serveArgs = []) {
  const data = mkdtempSync(join(tmpdir(), 'gloss-web-test-'));
  const child = spawn(glossBinary(), ['--data', data, 'serve', '--bind', '127.0.0.1:0', ...serveArgs], {
    env: { ...process.env, GLOSS_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gloss did not start in 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const found = /Gloss is running at (http:\/\/[0-9.:]+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gloss exited with ${code}:\n${output}`));
    });
  });
  return {
    base,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/**
 * A real `gloss serve` and Chromium for one test file: started before its
 * tests, stopped after them. The two are handed out at once and usable from
 * the first test on (each forwards to the started one).
 * @param {string[]} [serveArgs] more flags for `serve`
 * @returns {{gloss: Awaited<ReturnType<typeof startGloss>>, browser: import('playwright-core').Browser, pageErrors: string[]}}
 */
export function glossAndBrowser(serveArgs = []) {
  /** @type {{gloss?: any, browser?: any}} */
  const started = {};
  /** @param {'gloss' | 'browser'} name */
  const forward = (name) => new Proxy({}, {
    get(_, key) {
      const target = started[name];
      if (!target) throw new Error(`${name} is used before the tests started`);
      const value = target[key];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  before(async () => {
    started.gloss = await startGloss(serveArgs);
    started.browser = await launchBrowser();
  });
  after(async () => {
    await started.browser?.close();
    await started.gloss?.stop();
  });
  return { gloss: forward('gloss'), browser: forward('browser'), pageErrors: [] };
}

/** Debian's Chromium, headless, with a fresh profile. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Records into `errors` what a page reports as wrong: uncaught exceptions
 * and console errors (a failed resource load is left to the test itself).
 * @param {import('playwright-core').Page} page
 * @param {string[]} errors
 */
export function recordErrors(page, errors) {
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
}

/**
 * A drag: press at `from`, move to `to` in `steps`, release. Takes
 * playwright's or puppeteer's mouse, which share these calls.
 * @param {{move: (x: number, y: number, options?: {steps?: number}) => Promise<void>, down: () => Promise<void>, up: () => Promise<void>}} mouse
 * @param {number[]} from @param {number[]} to @param {number} [steps]
 */
export async function dragMouse(mouse, from, to, steps = 5) {
  await mouse.move(from[0], from[1]);
  await mouse.down();
  await mouse.move(to[0], to[1], { steps });
  await mouse.up();
}

/**
 * A JSON call to the API with a bearer token.
 * @param {string} base
 * @param {string | null} token
 * @param {string} method
 * @param {string} path below /api/v1
 * @param {unknown} [body]
 */
export async function api(base, token, method, path, body) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * Uploads files into a project as one import job and waits until it has completed.
 * @param {string} base
 * @param {string} token
 * @param {number} projectId
 * @param {{name: string, bytes: Buffer, type?: string}[]} files
 */
export async function importFiles(base, token, projectId, files) {
  const form = new FormData();
  form.append('format', 'auto');
  for (const file of files) form.append('file', new Blob([file.bytes], { type: file.type ?? 'image/png' }), file.name);
  const response = await fetch(`${base}/api/v1/projects/${projectId}/imports`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form,
  });
  let job = await response.json();
  if (!response.ok) throw new Error(`import: ${response.status} ${JSON.stringify(job)}`);
  const deadline = Date.now() + 10_000;
  while (job.state !== 'completed' && job.state !== 'failed' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    job = (await api(base, token, 'GET', `/imports/${job.id}`)).body;
  }
  if (job.state !== 'completed') throw new Error(`import did not complete: ${JSON.stringify(job)}`);
  return job;
}

/**
 * A project with `config`, made by the admin, with `ann1` (a new annotator
 * account with `password`) as its annotator.
 * @param {string} base @param {string} name @param {string} config @param {string} password
 * @returns {Promise<{admin: string, projectId: number}>}
 */
export async function projectWithAnnotator(base, name, config, password) {
  const admin = await tokenFor(base, 'admin', ADMIN_PASSWORD);
  const user = await api(base, admin, 'POST', '/users', { username: 'ann1', password, role: 'annotator' });
  if (user.status !== 201) throw new Error(`user ann1: ${user.status} ${JSON.stringify(user.body)}`);
  const project = await api(base, admin, 'POST', '/projects', { name, label_config: config });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${JSON.stringify(project.body)}`);
  const member = await api(base, admin, 'POST', `/projects/${project.body.id}/members`, { username: 'ann1', role: 'annotator' });
  if (member.status !== 200) throw new Error(`member: ${member.status} ${JSON.stringify(member.body)}`);
  return { admin, projectId: project.body.id };
}

/** @param {string} base @param {string} username @param {string} password */
export async function tokenFor(base, username, password) {
  const { status, body } = await api(base, null, 'POST', '/auth/token', { username, password });
  if (status !== 201) throw new Error(`token for ${username}: ${status} ${JSON.stringify(body)}`);
  return /** @type {string} */ (body.token);
}

/**
 * Signs in through the sign-in page.
 * @param {import('playwright-core').Page} page
 * @param {string} base
 * @param {string} username
 * @param {string} password
 */
export async function signIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('#login button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** @param {Buffer} bytes */
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** @param {string} type @param {Buffer} data */
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG of the given size: a gradient in `rgb` with a darker square, so
 * images differ by content (media are stored by hash).
 * @param {number} width
 * @param {number} height
 * @param {[number, number, number]} rgb
 */
export function png(width, height, rgb) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const inside = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2;
      const shade = inside ? 0.4 : 0.6 + (0.4 * x) / width;
      row[1 + x * 3] = Math.round(rgb[0] * shade);
      row[2 + x * 3] = Math.round(rgb[1] * shade);
      row[3 + x * 3] = Math.round(rgb[2] * shade);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
