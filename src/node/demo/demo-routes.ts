/**
 * The relay's HTTP API for the demo peer (docs/demo.md), as extra relay routes:
 *
 *   GET|POST /api/demo/config[?format=json]
 *       same-origin?  (Sec-Fetch-Site / Origin; else 403)  ─▶ token bucket per client /24 or /64 (else 429)
 *       ─▶ DemoPeer.register ─▶ 200 wg-quick text (or JSON) | 503 when every slot is taken
 *   GET|HEAD /api/demo/info       public facts for the UI: keys' public halves, endpoint, addresses,
 *                                 services, registrations count, limits
 *
 * Every answer is `Cache-Control: no-store`; errors are JSON `{ "error": { "code", "message" } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeyedTokenBuckets } from '../../shared/token-bucket.ts';
import { formatPrefix, tryParseIp } from '../../shared/ip-address.ts';
import { CONFIG_RATE_BURST, CONFIG_RATE_INTERVAL_MS, CONFIG_RATE_TRACKED_IPS } from './demo-constants.ts';
import { DemoFullError, type DemoPeer } from './demo-peer.ts';

export const DEMO_CONFIG_PATH = '/api/demo/config';
export const DEMO_INFO_PATH = '/api/demo/info';

export interface DemoApiOptions {
  /** Configs one client IP may get in a burst (default 5). */
  rateBurst?: number;
  /** Then one more per this many ms (default 12000: 5 a minute). */
  rateIntervalMs?: number;
  /** Monotonic clock for the rate limiter (default performance.now). */
  now?: () => number;
}

/** Stable error codes of the demo API. */
export type DemoApiErrorCode = 'DEMO_FULL' | 'RATE_LIMITED' | 'CROSS_SITE' | 'METHOD_NOT_ALLOWED';

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}, head = false): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}, head = false): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value, null, 2) + '\n', headers, head);
}

function sendError(res: ServerResponse, status: number, code: DemoApiErrorCode, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** The client's IP as the relay's socket sees it (IPv4-mapped shown as IPv4). */
function clientIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The rate-limit bucket of a client: its /24 (IPv4) or /64 (IPv6). One machine commands a whole
 * /64 (SLAAC, privacy addresses) and often many IPv4 addresses of its /24 (all of 127/8 on
 * loopback): per address, 50 of them filled every registration in a second.
 */
export function clientNetwork(ip: string): string {
  const a = tryParseIp(ip);
  if (!a) return ip;
  const length = a.length === 4 ? 24 : 64;
  const masked = Uint8Array.from(a);
  for (let bit = length; bit < masked.length * 8; bit++) masked[bit >> 3] &= ~(0x80 >> (bit & 7));
  return formatPrefix({ address: masked, prefixLength: length });
}

/**
 * A page on another site must not be able to make the visitor's browser fetch configs from a
 * local relay (it could not read them without CORS, but it would use up slots). Browsers say where
 * a request comes from in Sec-Fetch-Site (and Origin on POST); tools such as curl send neither.
 */
function crossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      return new URL(origin).host !== req.headers.host;
    } catch {
      return true;
    }
  }
  return false;
}

/** Relay routes for a running demo peer. */
export function createDemoRoutes(demo: DemoPeer, options: DemoApiOptions = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const now = options.now ?? (() => performance.now());
  const burst = options.rateBurst ?? CONFIG_RATE_BURST;
  const interval = options.rateIntervalMs ?? CONFIG_RATE_INTERVAL_MS;
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`rateBurst must be a positive integer, not ${burst}`);
  if (!(Number.isFinite(interval) && interval > 0)) throw new RangeError(`rateIntervalMs must be a positive number, not ${interval}`);
  const limiter = new KeyedTokenBuckets({ ratePerSecond: 1000 / interval, burst }, CONFIG_RATE_TRACKED_IPS);

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');

    if (path === DEMO_INFO_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET', { Allow: 'GET, HEAD' });
        return true;
      }
      sendJson(res, 200, { enabled: true, ...demo.info() }, {}, req.method === 'HEAD');
      return true;
    }
    if (path !== DEMO_CONFIG_PATH) return false;

    if (req.method !== 'GET' && req.method !== 'POST') {
      // Not even HEAD: every successful answer creates a registration.
      sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET (or POST); every answer creates a new client', { Allow: 'GET, POST' });
      return true;
    }
    if (crossSite(req)) {
      sendError(res, 403, 'CROSS_SITE', 'demo configs are only handed to the wgweb page served by this relay');
      return true;
    }
    const ip = clientIp(req);
    const network = clientNetwork(ip);
    const missing = limiter.take(network, now());
    if (missing > 0) {
      const wait = Math.max(1, Math.ceil((missing * interval) / 1000));
      sendError(res, 429, 'RATE_LIMITED', `too many demo configs from ${network}; try again in ${wait} s`, { 'Retry-After': String(wait) });
      return true;
    }
    let issued;
    try {
      issued = demo.register(ip);
    } catch (e) {
      if (e instanceof DemoFullError) {
        sendError(res, 503, 'DEMO_FULL', e.message, { 'Retry-After': '60' });
        return true;
      }
      throw e;
    }
    if (query.get('format') === 'json') {
      sendJson(res, 200, issued);
    } else {
      send(res, 200, 'text/plain; charset=utf-8', issued.config, { 'Content-Disposition': 'inline; filename="wgweb-demo.conf"' });
    }
    return true;
  };
}
