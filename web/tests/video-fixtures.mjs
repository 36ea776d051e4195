// Test videos, generated with ffmpeg into web/tests/generated/ (git-ignored;
// made again when missing or when this file's FIXTURES_VERSION changes):
//
// - vfr.mp4: H.264 with B-frames (-bf 3 -g 30) at a variable frame rate
//   (each frame shown 20 to 60 ms), each frame's index drawn as 12 black or
//   white 16×16 squares in a row at the top (bit 0 first), so a test reads
//   back which frame is on screen.
// - clip.webm: the same patterns in VP9 at a constant 25 frames a second.
// - track.mp4: a textured object moving over a textured background, its
//   true box on every frame in track.json, for the tracker.
//
// Each video has <name>.frames.json beside it, the frame index the server's
// `/api/v1/media/<key>/frames` gives, made from ffprobe's packet times.

import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const GENERATED = path.join(here, 'generated');
const FIXTURES_VERSION = '6';

/** The pattern's geometry: 12 squares of 16 px, 8 px apart, 8 px from the top-left corner. */
export const PATTERN = { bits: 12, size: 16, pitch: 24, left: 8, top: 8 };
export const PATTERN_SIZE = { width: 320, height: 240 };
export const VFR_FRAMES = 150;
export const WEBM_FRAMES = 60;
/** Frames of the image sequence (PNG files `sequence/frame_{n}.png`, n from 0). */
export const SEQUENCE_FRAMES = 60;
export const TRACK_SIZE = { width: 480, height: 270 };
export const TRACK_FRAMES = 40;
export const TRACK_OBJECT = { width: 72, height: 54 };

/** A small deterministic random generator (tests must not change between runs). @param {number} seed */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Smooth value noise, one channel, values 0–255.
 * @param {number} width @param {number} height @param {number} cell pixels between random values
 * @param {() => number} rand
 */
function noise(width, height, cell, rand) {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Array.from({ length: gw * gh }, () => rand() * 255);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const gy = y / cell;
      const ix = Math.floor(gx);
      const iy = Math.floor(gy);
      const fx = gx - ix;
      const fy = gy - iy;
      const at = (/** @type {number} */ dx, /** @type {number} */ dy) => grid[(iy + dy) * gw + ix + dx];
      out[y * width + x] = at(0, 0) * (1 - fx) * (1 - fy) + at(1, 0) * fx * (1 - fy) + at(0, 1) * (1 - fx) * fy + at(1, 1) * fx * fy;
    }
  }
  return out;
}

/**
 * A frame with index `n` as its pattern over a moving gradient (so frames
 * differ beyond the pattern and the encoder uses B-frames), RGB.
 * @param {number} n
 */
function patternFrame(n) {
  const { width, height } = PATTERN_SIZE;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = 90 + ((x + 3 * n) % 80);
      rgb[i + 1] = 100 + ((y + 2 * n) % 60);
      rgb[i + 2] = 120;
    }
  }
  for (let bit = 0; bit < PATTERN.bits; bit++) {
    const value = (n >> bit) & 1 ? 255 : 0;
    const x0 = PATTERN.left + bit * PATTERN.pitch;
    // A grey frame around each square keeps the encoder's ringing off it.
    for (let y = PATTERN.top - 2; y < PATTERN.top + PATTERN.size + 2; y++) {
      for (let x = x0 - 2; x < x0 + PATTERN.size + 2; x++) {
        const inside = y >= PATTERN.top && y < PATTERN.top + PATTERN.size && x >= x0 && x < x0 + PATTERN.size;
        rgb.fill(inside ? value : 128, (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
  }
  return rgb;
}

/** The true box of the tracked object on frame k (0-based), pixels. @param {number} k */
export function trueBox(k) {
  return { x: 40 + 8 * k, y: 96 + 36 * Math.sin(k / 5), ...TRACK_OBJECT };
}

/** Frames of the tracker's video, RGB, the object drawn at sub-pixel positions (bilinear). */
function trackFrames() {
  const { width, height } = TRACK_SIZE;
  const rand = random(42);
  const background = [noise(width, height, 9, rand), noise(width, height, 23, rand)];
  const texture = [noise(TRACK_OBJECT.width + 1, TRACK_OBJECT.height + 1, 5, rand), noise(TRACK_OBJECT.width + 1, TRACK_OBJECT.height + 1, 11, rand)];
  const tw = TRACK_OBJECT.width + 1;
  return Array.from({ length: TRACK_FRAMES }, (_, k) => {
    const box = trueBox(k);
    const rgb = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        const ox = x - box.x;
        const oy = y - box.y;
        if (ox >= 0 && oy >= 0 && ox < box.width && oy < box.height) {
          const ix = Math.floor(ox);
          const iy = Math.floor(oy);
          const fx = ox - ix;
          const fy = oy - iy;
          const sample = (/** @type {Float32Array} */ t) =>
            t[iy * tw + ix] * (1 - fx) * (1 - fy) + t[iy * tw + ix + 1] * fx * (1 - fy) + t[(iy + 1) * tw + ix] * (1 - fx) * fy + t[(iy + 1) * tw + ix + 1] * fx * fy;
          const a = sample(texture[0]);
          const b = sample(texture[1]);
          rgb[i] = 40 + a * 0.8;
          rgb[i + 1] = 20 + b * 0.5;
          rgb[i + 2] = 200 - a * 0.6;
        } else {
          const a = background[0][y * width + x];
          const b = background[1][y * width + x];
          rgb[i] = 60 + a * 0.5;
          rgb[i + 1] = 70 + b * 0.6;
          rgb[i + 2] = 50 + (a + b) * 0.2;
        }
      }
    }
    return rgb;
  });
}

/**
 * Pipes RGB frames into ffmpeg.
 * @param {Buffer[]} frames @param {{width: number, height: number}} size @param {string[]} args output options and file
 */
function encode(frames, size, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size.width}x${size.height}`, '-r', '25', '-i', '-', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk) => { errors += chunk; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`ffmpeg failed (${code}): ${errors}`))));
    child.stdin.on('error', () => {});
    for (const frame of frames) child.stdin.write(frame);
    child.stdin.end();
  });
}

/**
 * The frame index of a video as the server gives it: presentation times
 * (ffprobe's packet times, sorted: packets come in decoding order), duration, size.
 * @param {string} file
 */
export function frameIndex(file) {
  const probe = (/** @type {string[]} */ args) => execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', ...args, file], { encoding: 'utf8' });
  const timestamps = probe(['-show_entries', 'packet=pts_time', '-of', 'csv=p=0']).split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  const [width, height] = probe(['-show_entries', 'stream=width,height', '-of', 'csv=p=0']).trim().split(',').map(Number);
  const duration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim());
  return { frames: timestamps.length, timestamps, duration, width, height };
}

/**
 * The sample table of an MP4 H.264 video as the server's
 * `/api/v1/media/<key>/samples` gives it, from ffprobe's packets (file
 * order is decoding order: position, size, key flag; the frame shown is
 * the rank of the packet's time) and the avcC box's bytes, read from the
 * file's moov (found by its type: the first "avcC" in the file).
 * @param {string} file
 */
export function sampleTable(file) {
  const probe = (/** @type {string[]} */ args) => execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', ...args, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  // ffprobe writes the fields in its own order: pts, size, pos, flags.
  const packets = probe(['-show_entries', 'packet=pts,size,pos,flags', '-of', 'csv=p=0']).split('\n').filter(Boolean).map((line) => {
    const [pts, size, pos, flags] = line.split(',');
    return { pts: Number(pts), size: Number(size), pos: Number(pos), key: flags.startsWith('K') };
  });
  const order = packets.map((_, n) => n).sort((a, b) => packets[a].pts - packets[b].pts || a - b);
  const frames = new Array(packets.length);
  order.forEach((n, rank) => { frames[n] = rank; });
  const bytes = readFileSync(file);
  const at = bytes.indexOf('avcC');
  if (at < 4) throw new Error(`${file}: no avcC box`);
  const description = bytes.subarray(at + 4, at - 4 + bytes.readUInt32BE(at - 4));
  const hex = (/** @type {number} */ b) => b.toString(16).padStart(2, '0');
  const [width, height] = probe(['-show_entries', 'stream=width,height', '-of', 'csv=p=0']).trim().split(',').map(Number);
  return {
    codec: `avc1.${hex(description[1])}${hex(description[2])}${hex(description[3])}`, description: description.toString('base64'), width, height,
    count: packets.length, offsets: packets.map((p) => p.pos), sizes: packets.map((p) => p.size),
    keys: packets.flatMap((p, n) => (p.key ? [n] : [])), frames,
  };
}

/** vfr.mp4's sample table, once probed. @type {ReturnType<typeof sampleTable> | undefined} */
let vfrTable;

/**
 * A copy of vfr.mp4 named `name` in the generated folder, with its frame
 * index and, beside it, the sample table the static server then serves
 * (each offset moved by `shift` bytes: a non-zero shift makes a table the
 * decoder fails on). Returns the true table.
 * @param {string} name @param {number} [shift]
 */
export function vfrCopyWithSamples(name, shift = 0) {
  const source = path.join(GENERATED, 'vfr.mp4');
  // Probed once per test process: ffprobe reads every packet of the file.
  vfrTable ??= sampleTable(source);
  const table = vfrTable;
  copyFileSync(source, path.join(GENERATED, name));
  copyFileSync(`${source}.frames.json`, path.join(GENERATED, `${name}.frames.json`));
  writeFileSync(path.join(GENERATED, `${name}.samples.json`), JSON.stringify({ ...table, offsets: table.offsets.map((o) => o + shift) }));
  return table;
}

/**
 * The frames (0-based, presentation order) that other pictures may refer
 * to: those ffmpeg's decoder still decodes when told to skip every
 * non-reference picture (`-skip_frame noref`).
 * @param {string} file
 */
export function referenceFrames(file) {
  const probe = (/** @type {string[]} */ args) => execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', ...args, file], { encoding: 'utf8', maxBuffer: 1 << 28 })
    .split('\n').filter(Boolean).map(Number);
  const times = probe(['-show_entries', 'packet=pts', '-of', 'csv=p=0']).sort((a, b) => a - b);
  const decoded = new Set(probe(['-skip_frame', 'noref', '-show_entries', 'frame=pts', '-of', 'csv=p=0']));
  return new Set(times.flatMap((t, frame) => (decoded.has(t) ? [frame] : [])));
}

/** @param {string} name @param {() => Promise<unknown>} make */
async function fixture(name, make) {
  const file = path.join(GENERATED, name);
  const stamp = `${file}.version`;
  if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === FIXTURES_VERSION) return file;
  await make();
  writeFileSync(`${file}.frames.json`, JSON.stringify(frameIndex(file)));
  writeFileSync(stamp, FIXTURES_VERSION);
  return file;
}

/** Makes the test videos that are missing; returns their paths. */
export async function videoFixtures() {
  mkdirSync(GENERATED, { recursive: true });
  const patterns = Array.from({ length: VFR_FRAMES }, (_, n) => patternFrame(n));
  // Frames show for 40, 60, 30, 50 and 20 ms in turn (a period of 200 ms):
  // frame N at 0.2 floor(N / 5) plus 0, 0.04, 0.10, 0.13 or 0.18 s.
  const pts = '0.2*floor(N/5)+0.04*eq(mod(N\\,5)\\,1)+0.10*eq(mod(N\\,5)\\,2)+0.13*eq(mod(N\\,5)\\,3)+0.18*eq(mod(N\\,5)\\,4)';
  const vfr = await fixture('vfr.mp4', () => encode(patterns, PATTERN_SIZE, [
    '-vf', `settb=1/90000,setpts=(${pts})/TB`,
    '-fps_mode', 'passthrough', '-enc_time_base:v', '1/90000', '-c:v', 'libx264', '-preset', 'fast', '-bf', '3', '-g', '30', '-crf', '16', '-pix_fmt', 'yuv420p',
    '-video_track_timescale', '90000', '-movflags', '+faststart', path.join(GENERATED, 'vfr.mp4'),
  ]));
  const webm = await fixture('clip.webm', () => encode(patterns.slice(0, WEBM_FRAMES), PATTERN_SIZE, [
    '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '20', '-b:v', '0', '-pix_fmt', 'yuv420p', path.join(GENERATED, 'clip.webm'),
  ]));
  const track = await fixture('track.mp4', async () => {
    await encode(trackFrames(), TRACK_SIZE, ['-c:v', 'libx264', '-preset', 'fast', '-bf', '2', '-g', '25', '-crf', '18', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', path.join(GENERATED, 'track.mp4')]);
    writeFileSync(path.join(GENERATED, 'track.json'), JSON.stringify(Array.from({ length: TRACK_FRAMES }, (_, k) => trueBox(k))));
  });
  const sequence = path.join(GENERATED, 'sequence');
  const stamp = path.join(sequence, 'version');
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === FIXTURES_VERSION)) {
    mkdirSync(sequence, { recursive: true });
    await encode(patterns.slice(0, SEQUENCE_FRAMES), PATTERN_SIZE, ['-c:v', 'png', '-start_number', '0', path.join(sequence, 'frame_%d.png')]);
    writeFileSync(stamp, FIXTURES_VERSION);
  }
  return { vfr, webm, track };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await videoFixtures();
  for (const file of Object.values(files)) {
    const index = JSON.parse(readFileSync(`${file}.frames.json`, 'utf8'));
    console.log(path.basename(file), index.frames, 'frames', index.duration, 's', index.timestamps.slice(0, 6).join(' '));
  }
}
