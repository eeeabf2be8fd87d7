/**
 * Static files for the relay's HTTP side (the wgweb UI), from one or more root directories tried
 * in order (by default the built UI `dist/ui/`, then `public/`).
 *
 * Safety: each path segment is percent-decoded once; a segment that is `.` or `..`, contains an
 * (encoded) slash, backslash or NUL, or is hidden (`.git`, `.env`) is refused with 404; the final
 * path must resolve, symlinks included, inside its root.
 */

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

/** Content types by extension; anything else is served as application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.conf': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Serves files from `roots`; returns a request handler that always answers. */
export function createStaticHandler(roots: readonly string[]): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const absRoots = roots.map((r) => resolve(r));
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const segments = requestSegments(req.url ?? '/');
    if (segments === undefined) {
      sendText(res, 400, 'bad path');
      return;
    }
    if (segments === null) {
      sendText(res, 404, 'not found');
      return;
    }
    const wantsDir = segments.length === 0 || segments[segments.length - 1] === '';
    const rel = wantsDir ? [...segments.filter((s) => s !== ''), 'index.html'] : segments;
    for (const root of absRoots) {
      const found = await locate(root, rel);
      if (found === 'directory') {
        // Relative URLs inside a directory's index.html need the trailing slash.
        const location = `/${rel.map(encodeURIComponent).join('/')}/`;
        res.writeHead(301, { Location: location, 'Content-Length': 0 });
        res.end();
        return;
      }
      if (found) {
        serveFile(req, res, found.path, found.size, rel[rel.length - 1]);
        return;
      }
    }
    sendText(res, 404, 'not found');
  };
}

/**
 * The decoded path segments of a request target; `undefined` for a malformed path (400) and
 * `null` for one that must not be served (404, so probing learns nothing).
 */
export function requestSegments(url: string): string[] | undefined | null {
  const q = url.indexOf('?');
  const raw = q >= 0 ? url.slice(0, q) : url;
  if (!raw.startsWith('/')) return undefined;
  const out: string[] = [];
  const parts = raw.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    let seg: string;
    try {
      seg = decodeURIComponent(parts[i]);
    } catch {
      return undefined;
    }
    if (seg === '' && i !== parts.length - 1) continue; // `//` collapses
    if (seg.includes('\0') || seg.includes('/') || seg.includes('\\')) return null;
    if (seg === '.' || seg === '..' || seg.startsWith('.')) return null;
    out.push(seg);
  }
  return out;
}

async function locate(root: string, rel: string[]): Promise<{ path: string; size: number } | 'directory' | undefined> {
  const candidate = join(root, ...rel);
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
  try {
    const real = await realpath(candidate);
    const realRoot = await realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    const st = await stat(real);
    if (st.isDirectory()) return 'directory';
    if (!st.isFile()) return undefined;
    return { path: real, size: st.size };
  } catch {
    return undefined;
  }
}

function serveFile(req: IncomingMessage, res: ServerResponse, path: string, size: number, name: string): void {
  const type = CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
  // Vite puts content-hashed bundles under assets/: those never change; everything else revalidates.
  const immutable = /[\\/]assets[\\/]/.test(path) && /-[A-Za-z0-9_-]{8,}\./.test(name);
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** A small plain-text answer. */
export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const bytes = Buffer.from(`${body}\n`, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': bytes.length,
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(bytes);
}
