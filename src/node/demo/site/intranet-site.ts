/**
 * The demo peer's web site ("the intranet"): routes to pages, pictures, the JSON API and the
 * test endpoints. One {@link HttpHandler} for the demo's {@link HttpServer}.
 *
 *   GET  /  /path  /handshake  /services  /guestbook      pages (pages.ts)
 *   POST /guestbook                                       form → Set-Cookie + 303 See Other
 *   GET  /home                                            301 → /
 *   GET  /style.css  /logo.svg  /favicon.ico              static, cacheable
 *   GET  /api/whoami  /api/peer  /api/headers  /api/time  JSON
 *   GET  /bytes/N  /chunked/N   [?seed=S&sha=0]           deterministic bytes (x-sha256)
 *   POST /upload (or PUT)                                 {"length","sha256"} of the body, streamed
 */
import { createHash } from 'node:crypto';
import { formatEndpoint, formatIp } from '../../../shared/ip-address.ts';
import { GUESTBOOK_ENTRIES, MAX_BYTES_RESPONSE, MAX_FORM_BYTES } from '../demo-constants.ts';
import type { DemoSiteHost, DemoVisitor } from './site-host.ts';
import { deterministicSha256, deterministicStream } from '../deterministic-bytes.ts';
import { errorResponse, HttpError, type HttpHandler, type HttpRequest, type HttpResponse } from '../http/http-server.ts';
import { DIAGRAM_CSS, LOGO_SVG } from './drawings.ts';
import {
  formatAge,
  formatIndex,
  guestbookPage,
  handshakePage,
  homePage,
  notFoundPage,
  pathPage,
  servicesPage,
  tunnelTimeToEpoch,
  type GuestbookEntry,
  type PageContext,
} from './pages.ts';
import { STYLE_CSS } from './style.ts';

/** No scripts at all, styles and images from this site only. */
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const CSS = STYLE_CSS + DIAGRAM_CSS;

function page(text: string, status = 200, extra: Record<string, string | readonly string[]> = {}): HttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP, ...extra },
    body: text,
  };
}

function json(value: unknown, status = 200): HttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(value, null, 2) + '\n',
  };
}

function methodNotAllowed(allow: string): HttpResponse {
  const r = errorResponse(405, `use ${allow}`);
  r.headers = { ...r.headers, Allow: allow };
  return r;
}

/** Cookies of a request (RFC 6265 §5.4 "Cookie: a=b; c=d"), values percent-decoded when possible. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep it as sent
    }
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/**
 * A byte count from a path segment: digits, optionally with K, M or G (binary: 10M = 10 MiB).
 * @returns undefined when it is not one.
 */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]{1,10})([kKmMgG]?)$/.exec(text);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

function whoami(demo: DemoSiteHost, req: HttpRequest, visitor: DemoVisitor | undefined): unknown {
  const s = visitor?.stats;
  const r = visitor?.registration;
  return {
    you: {
      address: formatIp(req.remoteAddress),
      port: req.remotePort,
      address4: r ? formatIp(r.address4) : undefined,
      address6: r ? formatIp(r.address6) : undefined,
      publicKey: r?.publicKey,
      registered: visitor !== undefined,
    },
    handshake: s
      ? {
          latest: s.latestHandshakeAt === undefined ? null : new Date(tunnelTimeToEpoch(s.latestHandshakeAt)).toISOString(),
          ageSeconds: s.latestHandshakeAt === undefined ? null : Math.round((performance.now() - s.latestHandshakeAt) / 1000),
          count: demo.handshakeCount(s.publicKey),
          session: s.session,
          keyAgeSeconds: s.currentKeyAgeMs === undefined ? null : Math.round(s.currentKeyAgeMs / 1000),
          demoIndex: formatIndex(s.localIndex),
          yourIndex: formatIndex(s.remoteIndex),
          rxBytes: s.rxBytes,
          txBytes: s.txBytes,
          endpoint: s.endpoint ? formatEndpoint(s.endpoint) : null,
        }
      : null,
    registration: visitor ? { expiresInSeconds: Math.max(0, Math.round((visitor.expiresAt - demo.now()) / 1000)) } : null,
    tcp: req.socket.stats(),
    request: { sequence: req.sequence, method: req.method, target: req.target, httpVersion: `1.${req.minorVersion}` },
    server: formatEndpoint({ host: formatIp(req.localAddress), port: req.localPort }),
  };
}

function peerInfo(demo: DemoSiteHost): unknown {
  const t = demo.peer.loop.tunnel.stats();
  const drops = Object.fromEntries(Object.entries(t.drops).filter(([, n]) => n > 0));
  return {
    ...demo.info(),
    uptime: formatAge(demo.now() - demo.startedAt),
    counters: { ...demo.stats(), tunnelDrops: drops, netstack: demo.peer.loop.net.stats() },
  };
}

async function bytes(req: HttpRequest, kind: 'bytes' | 'chunked', sizeText: string): Promise<HttpResponse> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed('GET, HEAD');
  const n = parseSize(sizeText);
  if (n === undefined) throw new HttpError(400, `"${sizeText}" is not a byte count (digits, optionally K, M or G)`);
  if (n > MAX_BYTES_RESPONSE) throw new HttpError(400, `at most ${MAX_BYTES_RESPONSE} bytes (1 GiB) per request`);
  const params = new URLSearchParams(req.query);
  const seedText = params.get('seed') ?? '1';
  if (!/^[0-9]{1,10}$/.test(seedText) || Number(seedText) > 0xffffffff) throw new HttpError(400, 'seed must be a whole number below 2^32');
  const seed = Number(seedText);
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Cache-Control': 'no-store',
    'Content-Disposition': `attachment; filename="bytes-${n}-seed-${seed}.bin"`,
  };
  if (params.get('sha') !== '0') headers['x-sha256'] = await deterministicSha256(n, seed);
  const body = req.method === 'HEAD' ? undefined : deterministicStream(n, seed);
  return { status: 200, headers, body, length: kind === 'bytes' ? n : undefined };
}

async function upload(req: HttpRequest): Promise<HttpResponse> {
  if (req.method !== 'POST' && req.method !== 'PUT') return methodNotAllowed('POST, PUT');
  const started = performance.now();
  const h = createHash('sha256');
  let length = 0;
  const reader = req.body.getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    h.update(r.value);
    length += r.value.length;
  }
  return json({ length, sha256: h.digest('hex'), elapsedMs: Math.round(performance.now() - started) });
}

/** The site's request handler. */
export function createIntranetSite(demo: DemoSiteHost): HttpHandler {
  const guestbook: GuestbookEntry[] = [];

  return async (req) => {
    const visitor = demo.visitor(req.remoteAddress);
    const ctx: PageContext = { demo, req, visitor };
    const path = req.path;
    const read = req.method === 'GET' || req.method === 'HEAD';

    const sized = /^\/(bytes|chunked)\/([^/]+)$/.exec(path);
    if (sized) return bytes(req, sized[1] as 'bytes' | 'chunked', sized[2]);
    if (path === '/upload') return upload(req);

    switch (path) {
      case '/':
      case '/index.html': {
        if (!read) return methodNotAllowed('GET, HEAD');
        const cookies = parseCookies(req.header('cookie'));
        const visits = Math.min(1_000_000, (Number.parseInt(cookies.get('demo_visits') ?? '0', 10) || 0) + 1);
        return page(homePage(ctx, visits), 200, { 'Set-Cookie': `demo_visits=${visits}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax` });
      }
      case '/home':
        return { status: 301, headers: { Location: '/', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Moved to /\n' };
      case '/path':
        return read ? page(pathPage(ctx)) : methodNotAllowed('GET, HEAD');
      case '/handshake':
        return read ? page(handshakePage(ctx)) : methodNotAllowed('GET, HEAD');
      case '/services':
        return read ? page(servicesPage(ctx)) : methodNotAllowed('GET, HEAD');
      case '/guestbook': {
        const cookies = parseCookies(req.header('cookie'));
        if (read) {
          const posted = new URLSearchParams(req.query).get('posted') === '1';
          return page(guestbookPage(ctx, guestbook, cookies.get('demo_name'), posted));
        }
        if (req.method !== 'POST') return methodNotAllowed('GET, HEAD, POST');
        const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
        if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'send the form as application/x-www-form-urlencoded');
        const form = new URLSearchParams(new TextDecoder().decode(await req.readBody(MAX_FORM_BYTES)));
        const name = (form.get('name') ?? '').trim().slice(0, 40);
        const message = (form.get('message') ?? '').trim().slice(0, 280);
        if (!name || !message) throw new HttpError(400, 'a guestbook entry needs a name and a message');
        guestbook.push({ name, message, at: Date.now(), from: formatIp(req.remoteAddress) });
        if (guestbook.length > GUESTBOOK_ENTRIES) guestbook.splice(0, guestbook.length - GUESTBOOK_ENTRIES);
        return {
          status: 303,
          headers: {
            Location: '/guestbook?posted=1',
            'Set-Cookie': `demo_name=${encodeURIComponent(name)}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax`,
            'Content-Type': 'text/plain; charset=utf-8',
          },
          body: 'Signed. See /guestbook\n',
        };
      }
      case '/style.css':
        return read ? { status: 200, headers: { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'max-age=300' }, body: CSS } : methodNotAllowed('GET, HEAD');
      case '/logo.svg':
      case '/favicon.ico':
        return read ? { status: 200, headers: { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'max-age=300' }, body: LOGO_SVG } : methodNotAllowed('GET, HEAD');
      case '/api/whoami':
        return read ? json(whoami(demo, req, visitor)) : methodNotAllowed('GET, HEAD');
      case '/api/peer':
        return read ? json(peerInfo(demo)) : methodNotAllowed('GET, HEAD');
      case '/api/headers':
        return json({ method: req.method, target: req.target, httpVersion: `1.${req.minorVersion}`, headers: req.headers });
      case '/api/time': {
        const now = Date.now();
        return json({ iso: new Date(now).toISOString(), epochMs: now });
      }
      default:
        return page(notFoundPage(path), 404);
    }
  };
}
