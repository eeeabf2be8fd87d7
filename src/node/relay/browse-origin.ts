/**
 * The browse origin: a second HTTP listener of the relay (same host, another port) that the
 * browse view frames intranet pages on. A separate origin is what keeps intranet content away from
 * the app: a framed page cannot read the app's DOM, storage or keys, nor script it (docs/browse.md).
 *
 *   GET /__wgweb/bridge.html?app=<app origin>   the bridge page, frameable by that app origin only: one
 *                                               the app's listener served /api/browse to, or configured;
 *                                               never the browse origin itself (#11: a framed page that
 *                                               framed the bridge could hand the Service Worker its port)
 *   GET /__wgweb/browse-sw.js                   the Service Worker (Service-Worker-Allowed: /), at exactly
 *                                               this URL: with a query it is not served, so a framed page
 *                                               cannot register a second copy (`…/browse-sw.js?x`)
 *   GET /__wgweb/bridge.js, frame-agent.js      their scripts (dist/ui/__wgweb/, built by Vite)
 *   anything else                               a short page: this origin is only served through
 *                                               the app's browse view (the Service Worker answers
 *                                               /browse/… itself; requests reach here only without it)
 *
 * And on the app's listener, `GET /api/browse` → `{ "origin": "http://<host>:<port>" }` tells the
 * app where its browse origin is (the host as the browser named it, so the two stay same-site:
 * Service Workers are refused in cross-site frames), plus where the app can frame each intranet
 * site on an origin of its own (#14 item 3, src/shared/site-origin.ts):
 *   "sites": ["http://<host>:<P1>", …]   a pool of further listeners like this one (same host, other
 *                                        ports: same-site), one per intranet origin at a time
 *   "siteTemplate": "https://*.browse.example.com"   with --browse-domain: a wildcard name (DNS and
 *                                        certificate set up by the operator) the relay (behind its
 *                                        proxy) answers under any label
 * Without either (a proxy and no wildcard, or `sites: 0`), every site shares the one origin.
 */
import { ClientCounter, capConnectionsPerClient } from './client-limits.ts';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { WgwebError } from '../../shared/errors.ts';
import { SITE_TEMPLATE } from '../../shared/site-origin.ts';
import { formatEndpoint } from '../../shared/ip-address.ts';
import type { Logger } from './log.ts';
import type { RelayRoutes } from './relay-server.ts';
import { sendText } from './static-files.ts';

/** The files of dist/ui/__wgweb/ the browse origin serves, and their types. */
const FILES: Readonly<Record<string, string>> = {
  'browse-sw.js': 'text/javascript; charset=utf-8',
  'bridge.js': 'text/javascript; charset=utf-8',
  'frame-agent.js': 'text/javascript; charset=utf-8',
  'browse-sw.js.map': 'application/json; charset=utf-8',
  'bridge.js.map': 'application/json; charset=utf-8',
  'frame-agent.js.map': 'application/json; charset=utf-8',
};
const CONTROL_DIR = '__wgweb';
/** How many app origins (Host headers of /api/browse requests) are remembered. */
const MAX_LEARNED_APP_ORIGINS = 32;
const API_PATH = '/api/browse';

export interface BrowseOriginOptions {
  /** TCP connections one client address may hold on all browse listeners together (the relay's per-client cap); default none. */
  maxConnectionsPerClient?: number;
  /** Listen address (the relay's). */
  host: string;
  /** Listen port; 0 (default) picks a free one. */
  port?: number;
  /** Roots holding `__wgweb/` (the relay's static dirs: dist/ui first). */
  staticDirs: readonly string[];
  /**
   * The browse origin as browsers reach it, when a reverse proxy stands in front
   * (e.g. `https://browse.example.com`); default `http://<the app's host>:<port>`.
   */
  publicOrigin?: string;
  /**
   * App origins allowed to embed the bridge besides the ones the app's listener served
   * `/api/browse` to (e.g. an app behind a proxy on another host name).
   */
  appOrigins?: readonly string[];
  /**
   * Further listeners (same host, free ports) the app frames one intranet site on each; default
   * {@link DEFAULT_SITE_LISTENERS}, 0 for none. Not started behind a proxy (`publicOrigin`), whose
   * users could not reach them; use `siteDomain` there.
   */
  sites?: number;
  /**
   * One origin per intranet site under a wildcard name, e.g. `https://*.browse.example.com`: the
   * operator points `*.browse.example.com` (DNS and certificate) at this listener (through the proxy).
   * It must be under the app's registrable domain (Service Workers are refused in cross-site frames).
   */
  siteDomain?: string;
  log: Logger;
}

/** Site listeners started by default: intranet sites one tab keeps apart before reusing an origin. */
export const DEFAULT_SITE_LISTENERS = 16;
/** At most this many site listeners. */
export const MAX_SITE_LISTENERS = 64;

/** A running browse origin listener. */
export interface BrowseOriginHandle {
  readonly host: string;
  readonly port: number;
  readonly server: http.Server;
  /** Ports of the site listeners (one intranet site each at a time), in order. */
  readonly sitePorts: readonly number[];
  /** The browse origin for an app reached under `appHost` (a Host header), e.g. `http://127.0.0.1:43211`. */
  originFor(appHost: string | undefined): string;
  /** `GET /api/browse` for the app's listener. */
  readonly routes: RelayRoutes;
  close(): Promise<void>;
}

/**
 * Starts the browse origin listener.
 * @throws {WgwebError} USAGE when the port cannot be bound; RangeError for a bad option.
 */
export async function startBrowseOrigin(options: BrowseOriginOptions): Promise<BrowseOriginHandle> {
  const publicOrigin = options.publicOrigin === undefined ? undefined : checkOrigin(options.publicOrigin, 'browse origin', 'https://browse.example.com');
  const appOrigins = new Set((options.appOrigins ?? []).map((o) => checkOrigin(o, 'browse app origin', 'https://vpn.example.com')));
  const siteDomain = options.siteDomain === undefined ? undefined : checkSiteDomain(options.siteDomain);
  const siteCount = options.sites ?? DEFAULT_SITE_LISTENERS;
  if (!Number.isSafeInteger(siteCount) || siteCount < 0 || siteCount > MAX_SITE_LISTENERS) {
    throw new RangeError(`browse sites must be a whole number from 0 to ${MAX_SITE_LISTENERS}, not ${siteCount}`);
  }
  const roots = options.staticDirs.map((d) => resolve(d, CONTROL_DIR));
  // App origins as browsers named the app's listener when they asked it for /api/browse (its Host
  // header; a page cannot choose another Host for a request it sends). Bounded: the oldest go first.
  const learned = new Set<string>();
  const learn = (hostHeader: string | undefined): void => {
    const host = hostHeader ? /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$/.exec(hostHeader.trim()) : null;
    if (!host) return;
    const origin = `http://${host[1].toLowerCase()}${host[2] ?? ''}`;
    learned.delete(origin);
    learned.add(origin);
    if (learned.size > MAX_LEARNED_APP_ORIGINS) learned.delete(learned.values().next().value as string);
  };
  const ports: number[] = [];
  /** Any browse origin (the shared one, a site listener's, a site name's) is never an app origin. */
  const isBrowseOrigin = (app: string, browseHost: string | undefined): boolean => {
    if (app === publicOrigin) return true;
    const host = hostnameOf(browseHost);
    if (host && ports.some((p) => app === `http://${host}:${p}`)) return true;
    if (siteDomain) {
      // A name under the wildcard (the template's scheme, `.<domain>[:port]` at the end).
      const star = siteDomain.indexOf('*');
      const u = new URL(app);
      if (`${u.protocol}//` === siteDomain.slice(0, star) && `.${u.host}`.endsWith(siteDomain.slice(star + 1))) return true;
    }
    return false;
  };
  const isAppOrigin = (app: string, browseHost: string | undefined): boolean => !isBrowseOrigin(app, browseHost) && (appOrigins.has(app) || learned.has(app));
  const servers: http.Server[] = [];
  // One count for all the listeners (the shared origin and every site port): with a count per
  // port, one client could hold the cap on each of up to 65 ports (#11 item 6 re-run).
  const connections = options.maxConnectionsPerClient === undefined ? undefined : new ClientCounter(options.maxConnectionsPerClient);
  const listen = async (port: number): Promise<number> => {
    const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2000 }, (req, res) => {
      handle(req, res, roots, isAppOrigin).catch((e: Error) => {
        options.log.error('browse.request_error', { error: e.message });
        sendText(res, 500, 'internal error', REFUSAL_HEADERS);
      });
    });
    if (connections) capConnectionsPerClient(server, connections);
    servers.push(server);
    const bound = await new Promise<number>((resolveListen, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(new WgwebError('LISTEN_FAILED', `cannot listen for the browse origin on ${formatEndpoint({ host: options.host, port })}: ${err.code ?? err.message}`));
      });
      server.listen({ host: options.host, port }, () => resolveListen((server.address() as AddressInfo).port));
    });
    server.on('error', (err) => options.log.error('browse.http_error', { error: err.message }));
    ports.push(bound);
    return bound;
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((done) => {
            if (!server.listening) return done();
            server.close(() => done());
            server.closeAllConnections();
          }),
      ),
    ).then(() => {});
    return closing;
  };
  let port: number;
  const sitePorts: number[] = [];
  try {
    port = await listen(options.port ?? 0);
    // Behind a proxy the users reach only what it forwards: the wildcard name, not these ports.
    if (publicOrigin === undefined && siteDomain === undefined) for (let i = 0; i < siteCount; i++) sitePorts.push(await listen(0));
  } catch (e) {
    await close();
    throw e;
  }
  const originFor = (appHost: string | undefined): string => {
    if (publicOrigin) return publicOrigin;
    const host = hostnameOf(appHost) ?? defaultHost(options.host);
    return `http://${host}:${port}`;
  };
  const routes: RelayRoutes = (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== API_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return true;
    }
    learn(req.headers.host);
    const answer: { origin: string; sites?: string[]; siteTemplate?: string } = { origin: originFor(req.headers.host) };
    if (siteDomain) answer.siteTemplate = siteDomain;
    else if (sitePorts.length > 0) {
      const host = hostnameOf(req.headers.host) ?? defaultHost(options.host);
      answer.sites = sitePorts.map((p) => `http://${host}:${p}`);
    }
    const body = Buffer.from(`${JSON.stringify(answer)}\n`);
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
  options.log.info('browse.listening', { listen: formatEndpoint({ host: options.host, port }), sites: siteDomain ?? sitePorts.length });
  return {
    host: options.host,
    port,
    server: servers[0],
    sitePorts,
    originFor,
    routes,
    close,
  };
}

/** Every refusal of a browse listener: nothing to run, nothing to frame, no Referer (#11 item 9). */
const REFUSAL_HEADERS = { 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'", 'Referrer-Policy': 'no-referrer' };

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  roots: string[],
  isAppOrigin: (app: string, browseHost: string | undefined) => boolean,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD', ...REFUSAL_HEADERS });
    return;
  }
  const url = new URL(req.url ?? '/', 'http://browse.invalid');
  const path = url.pathname;
  if (path === `/${CONTROL_DIR}/bridge.html`) {
    const app = url.searchParams.get('app') ?? '';
    if (!bridgeAllowed(app) || !isAppOrigin(app, req.headers.host)) {
      sendText(res, 403, `the browse bridge only works inside the wgweb app of this host (app origin "${app.slice(0, 200)}" is not allowed)`, REFUSAL_HEADERS);
      return;
    }
    const html =
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wgweb browse bridge</title>' +
      `<script src="/${CONTROL_DIR}/bridge.js"></script></head><body></body></html>\n`;
    const body = Buffer.from(html);
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': body.length,
      // Only the app may embed the bridge: another page embedding it could hand the Service Worker
      // a backend of its own.
      'Content-Security-Policy': `default-src 'none'; script-src 'self'; frame-ancestors ${app}`,
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const prefix = `/${CONTROL_DIR}/`;
  // Exact URLs only: a query would make another Service Worker script URL (a second registration).
  if (path.startsWith(prefix) && Object.hasOwn(FILES, path.slice(prefix.length)) && !(req.url ?? '').includes('?')) {
    const name = path.slice(prefix.length);
    for (const root of roots) {
      const file = await locate(root, name);
      if (!file) continue;
      const headers: Record<string, string | number> = {
        'Content-Type': FILES[name],
        'Content-Length': file.size,
        'Cache-Control': 'no-cache',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      };
      // The worker's script lives in /__wgweb/ but controls the whole origin.
      if (name === 'browse-sw.js') headers['Service-Worker-Allowed'] = '/';
      res.writeHead(200, headers);
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const stream = createReadStream(file.path);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
      return;
    }
    sendText(res, 404, `${name} is missing: build the UI (npm run build)`, REFUSAL_HEADERS);
    return;
  }
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wgweb browse origin</title></head><body style="font:15px/1.5 system-ui,sans-serif;padding:2rem">' +
    '<h1 style="font-size:1.2rem">wgweb browse origin</h1><p>Pages on this address are fetched through a WireGuard tunnel by the wgweb app. ' +
    'Open wgweb, connect, and use its Browse view (keep the wgweb tab open).</p></body></html>\n';
  const body = Buffer.from(html);
  res.writeHead(404, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** `app` is an origin (scheme://host[:port], nothing else) that could go into frame-ancestors. */
function bridgeAllowed(app: string): boolean {
  let u: URL;
  try {
    u = new URL(app);
  } catch {
    return false;
  }
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === app;
}

/** The host name of a Host header (brackets kept for IPv6), or undefined when it is not a plain host. */
function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/.exec(hostHeader.trim());
  return m ? m[1].toLowerCase() : undefined;
}

function defaultHost(listenHost: string): string {
  if (listenHost === '0.0.0.0') return '127.0.0.1';
  if (listenHost === '::') return '[::1]';
  return listenHost.includes(':') ? `[${listenHost}]` : listenHost;
}

/** A site template `https://*.browse.example.com` (an optional port), lower-cased. */
function checkSiteDomain(text: string): string {
  const t = text.trim().toLowerCase().replace(/\/$/, '');
  if (!SITE_TEMPLATE.test(t)) throw new RangeError(`browse domain "${text}" must be written like https://*.browse.example.com (a wildcard name whose DNS and certificate point at this relay)`);
  return t;
}

function checkOrigin(text: string, what: string, example: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new RangeError(`${what} "${text}" is not an origin (write it like ${example})`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search || u.hash || u.username) {
    throw new RangeError(`${what} "${text}" must be just scheme://host[:port], like ${example}`);
  }
  return u.origin;
}

async function locate(root: string, name: string): Promise<{ path: string; size: number } | undefined> {
  const candidate = join(root, name);
  try {
    const real = await realpath(candidate);
    const realRoot = await realpath(root);
    if (!real.startsWith(realRoot + sep)) return undefined;
    const st = await stat(real);
    return st.isFile() ? { path: real, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}
