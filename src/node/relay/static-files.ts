/**
 * Static files for the relay's HTTP side (the wgweb UI), from one or more root directories tried
 * in order (by default the built UI `dist/ui/`).
 *
 *   GET/HEAD path ─▶ segments (checked) ─▶ first root holding the file
 *     ─▶ representation: `x.br` / `x.gz` beside `x` (scripts/build.mjs precompresses the build) when
 *        Accept-Encoding allows it (RFC 9110 §12.5.3), else `x`; `Vary: Accept-Encoding` whenever
 *        a compressed one exists
 *     ─▶ validators: a strong ETag per representation and Last-Modified (RFC 9110 §8.8); a
 *        matching If-None-Match, or without one an If-Modified-Since not older, answers 304 (§13.1)
 *     ─▶ Cache-Control: content-hashed bundles under assets/ are immutable for a year; everything
 *        else (index.html first) is `no-cache`, i.e. revalidated on each use (RFC 9111 §5.2.2.4)
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
        await serveFile(req, res, found, rel[rel.length - 1]);
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

/** A file to serve: its real path and what `stat` said. */
interface FoundFile {
  path: string;
  size: number;
  mtimeMs: number;
}

async function locate(root: string, rel: string[]): Promise<FoundFile | 'directory' | undefined> {
  const candidate = join(root, ...rel);
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
  try {
    const real = await realpath(candidate);
    const realRoot = await realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    const st = await stat(real);
    if (st.isDirectory()) return 'directory';
    if (!st.isFile()) return undefined;
    return { path: real, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

/** Content codings served from precompressed siblings, in order of preference (smallest first). */
const ENCODINGS = [
  { coding: 'br', suffix: '.br', tag: 'br' },
  { coding: 'gzip', suffix: '.gz', tag: 'gz' },
] as const;

async function serveFile(req: IncomingMessage, res: ServerResponse, file: FoundFile, name: string): Promise<void> {
  const type = CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
  // Vite puts content-hashed bundles under assets/: those never change; everything else revalidates.
  const immutable = /[\\/]assets[\\/]/.test(file.path) && /-[A-Za-z0-9_-]{8,}\./.test(name);
  // Which precompressed siblings exist. They are trusted to match the file: the build writes them
  // after Vite emptied dist/ui, and mtimes cannot tell (npm install extracts in any order).
  const variants: { coding: string; tag: string; path: string; size: number }[] = [];
  for (const e of ENCODINGS) {
    const st = await stat(file.path + e.suffix).catch(() => undefined);
    if (st?.isFile()) variants.push({ coding: e.coding, tag: e.tag, path: file.path + e.suffix, size: st.size });
  }
  const accepted = acceptedCodings(req.headers['accept-encoding']);
  const chosen = variants.find((v) => accepted.has(v.coding));
  const base = `${file.size.toString(36)}-${Math.floor(file.mtimeMs).toString(36)}`;
  const etag = `"${chosen ? `${base}-${chosen.tag}` : base}"`;
  const lastModified = new Date(Math.floor(file.mtimeMs / 1000) * 1000);
  const headers: Record<string, string | number> = {
    'Content-Type': type,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ETag: etag,
    'Last-Modified': lastModified.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
  };
  if (variants.length > 0) headers.Vary = 'Accept-Encoding';
  if (notModified(req, etag, lastModified)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (chosen) headers['Content-Encoding'] = chosen.coding;
  headers['Content-Length'] = chosen ? chosen.size : file.size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(chosen ? chosen.path : file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * The content codings an Accept-Encoding header allows (RFC 9110 §12.5.3): those listed with a
 * non-zero weight, and every coding under `*` unless listed with q=0. No header: none (identity).
 */
export function acceptedCodings(header: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!header) return out;
  const refused = new Set<string>();
  let star = false;
  for (const part of header.split(',')) {
    const [codingRaw, ...params] = part.split(';');
    const coding = codingRaw.trim().toLowerCase();
    if (!coding) continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    const ok = Number.isFinite(weight) && weight > 0;
    if (coding === '*') star = ok;
    else if (ok) out.add(coding);
    else refused.add(coding);
  }
  if (star) for (const e of ENCODINGS) if (!refused.has(e.coding)) out.add(e.coding);
  return out;
}

/**
 * Whether a conditional GET/HEAD may be answered 304 (RFC 9110 §13.2.2): If-None-Match decides when
 * present (weak comparison, §13.1.2); otherwise If-Modified-Since, when the file is not newer.
 */
function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    const opaque = (t: string) => t.trim().replace(/^W\//, '');
    return inm.split(',').some((t) => opaque(t) === etag);
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && lastModified.getTime() <= since;
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
