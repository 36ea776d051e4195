// A tiny static file server over the repository root for browser tests and
// benchmarks, with the app's Content-Security-Policy so violations show.
// A page may also PUT files under /scratch/ (kept in memory, served back),
// so that what it generates, such as a benchmark's image, comes from this
// origin as the app's media do.

import http from 'node:http';
import fs from 'node:fs/promises';
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
};

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'";

/**
 * Serve `root` on 127.0.0.1 at a free port.
 * @param {string} root
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function serve(root) {
  const base = path.resolve(root);
  /** @type {Map<string, Buffer>} */
  const scratch = new Map();
  const server = http.createServer(async (req, res) => {
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (pathname.startsWith('/scratch/')) {
        serveScratch(scratch, pathname, req, res);
        return;
      }
      const file = path.resolve(base, `.${pathname}`);
      if (file !== base && !file.startsWith(base + path.sep)) throw new Error('outside root');
      const body = await fs.readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'cache-control': 'no-store',
      });
      res.end(body);
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
