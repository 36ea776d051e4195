// A tiny static file server over the repository root for browser tests and
// benchmarks, with the app's Content-Security-Policy so violations show.
// A page may also PUT files under /scratch/ (kept in memory, served back),
// so that what it generates, such as a benchmark's image, comes from this
// origin as the app's media do.
// Byte ranges are served (video elements seek with them). `/api/v1/media/<name>`
// stands in for the server's media route, serving web/tests/generated/<name>
// (or `<mediaRoot>/<name>`), `/api/v1/media/<name>/frames` its frame
// index, `<name>.frames.json` beside it, and `/api/v1/media/<name>/samples`
// its sample table, `<name>.samples.json` (404 where there is none, 415
// with the `samples: false` option, as the server answers for WebM).

import http from 'node:http';
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'";

/**
 * The file a request path names: under the root, or a generated medium.
 * @param {string} base @param {string} mediaRoot @param {string} pathname
 */
function fileFor(base, mediaRoot, pathname) {
  const media = /^\/api\/v1\/media\/([^/]+)(\/frames|\/samples)?$/.exec(pathname);
  const file = media ? path.resolve(mediaRoot, media[2] ? `${media[1]}.${media[2].slice(1)}.json` : media[1]) : path.resolve(base, `.${pathname}`);
  const inside = media ? mediaRoot : base;
  if (file !== inside && !file.startsWith(inside + path.sep)) throw new Error('outside root');
  return file;
}

/**
 * Serve `root` on 127.0.0.1 at a free port.
 * @param {string} root
 * @param {{mediaRoot?: string, samples?: boolean}} [options] where `/api/v1/media/` files come from (default: web/tests/generated under root); `samples: false` answers the samples route 415
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function serve(root, options = {}) {
  const base = path.resolve(root);
  const mediaRoot = path.resolve(options.mediaRoot ?? path.join(base, 'web', 'tests', 'generated'));
  /** @type {Map<string, Buffer>} */
  const scratch = new Map();
  const server = http.createServer(async (req, res) => {
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (pathname.startsWith('/scratch/')) {
        serveScratch(scratch, pathname, req, res);
        return;
      }
      if (options.samples === false && /^\/api\/v1\/media\/[^/]+\/samples$/.test(pathname)) {
        res.writeHead(415, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'unsupported_media_type', message: 'sample tables are off (--no-webcodecs)' } }));
        return;
      }
      const file = fileFor(base, mediaRoot, pathname);
      const { size } = await fs.stat(file);
      const headers = {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'cache-control': 'no-store',
        'accept-ranges': 'bytes',
      };
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range && (range[1] || range[2])) {
        const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
        const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
        createReadStream(file, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/**
 * PUT stores a file under /scratch/, GET serves it back.
 * @param {Map<string, Buffer>} scratch @param {string} pathname
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res
 */
function serveScratch(scratch, pathname, req, res) {
  if (req.method === 'PUT') {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      scratch.set(pathname, Buffer.concat(chunks));
      res.writeHead(201).end();
    });
    return;
  }
  const body = scratch.get(pathname);
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(pathname)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': 'max-age=3600' });
  res.end(body);
}
