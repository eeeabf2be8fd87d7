/**
 * The WebSocket ⇄ UDP relay as a library: `startRelay`, used by the `wgweb relay` command
 * (src/node/cli/commands/relay-command.ts), tests, the bench and the demo mode.
 *
 * See docs/relay.md for the protocol, the close codes and the security model.
 */

import type http from 'node:http';
import { existsSync } from 'node:fs';
import { formatEndpoint } from '../../shared/ip-address.ts';
import { RELAY_MAX_MESSAGE_LIMIT, RELAY_DEFAULT_MAX_MESSAGE, RELAY_PATH, WG_MESSAGE_INITIATION_SIZE } from '../../shared/relay-protocol.ts';
import { DestinationPolicy, type AllowRule, type Resolver } from './destination-policy.ts';
import { createLogger, type Logger } from './log.ts';
import { RelayServer, type RelayRoutes, type RelayStats } from './relay-server.ts';
import { OriginPolicy } from './origin-policy.ts';
import { RelayMetrics, startMetricsListener, type MetricsListener } from './relay-metrics.ts';
import { isLoopbackHost } from '../demo/demo-mode.ts';
import { RelayAuth, type RelayAuthOptions } from './relay-auth.ts';
import { DEFAULT_SPEED_MAX_BYTES } from '../../shared/speed-protocol.ts';
// --- demo (demo/, docs/demo.md): the built-in demo peer; loaded lazily when on -------------------
import { demoDisabledRoutes } from '../demo/demo-mode.ts';
import type { DemoOptions, DemoPeer } from '../demo/index.ts';
// --- browse (docs/browse.md): the second origin the browse view frames intranet pages on ---------
import { startBrowseOrigin, type BrowseOriginHandle } from './browse-origin.ts';
import { builtUiDir } from '../package-files.ts';

export type { RelayStats, RelayRoutes } from './relay-server.ts';
export type { AllowRule, Resolver } from './destination-policy.ts';
export { DestinationPolicy, parseAllowRule } from './destination-policy.ts';

/** Defaults, shared by startRelay and `wgweb relay --help`. */
export const RELAY_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxSessions: 256,
  /**
   * Per session, browser → endpoint. A bulk download needs about one ACK per two segments, an
   * upload one datagram per segment: 25000 pps is ~290 Mbit/s of 1452-byte datagrams, above what
   * a browser's WireGuard can push, and still bounds what one client can fire at an endpoint.
   */
  maxPps: 25_000,
  /** WireGuard's REJECT_AFTER_TIME: after 180 s without traffic the session keys are dead anyway. */
  idleTimeoutMs: 180_000,
  maxMessage: RELAY_DEFAULT_MAX_MESSAGE,
  /** ~700 full-size datagrams, ~80 ms at 100 Mbit/s: enough to ride out bursts, bounded latency. */
  maxBufferedBytes: 1 << 20,
  maxUdpQueue: 512,
  /**
   * wgweb.v3: how long a stream's batch may wait for more datagrams (relay → client); 0 = none.
   * Off by default: in Chromium, A/B on a loaded 2-core machine (docs/benchmarks.md, #19), 2 and
   * 10 ms grew the average message from 12–14 to 17–21 and 35–40 KiB without lowering the
   * renderer's CPU per MB or raising the download rate.
   */
  batchDelayMs: 0,
  pingIntervalMs: 30_000,
  /** Sessions one client address may hold: a tab or two with several peers each, not the relay. */
  maxSessionsPerClient: 32,
  /** Upgrades one client address may have in progress at once (resolving a name, checking). */
  maxPendingPerClient: 16,
  /** TCP connections to the relay port per client address (a browser uses ~6 plus its WebSockets). */
  maxConnectionsPerClient: 64,
  /** SIGTERM drain: clients move within a second or two; stragglers (no close handshake) are cut here. */
  drainTimeoutMs: 30_000,
} as const;

/** Options of {@link startRelay}. Everything is optional. */
export interface RelayOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 8080; 0 picks a free port (see {@link RelayHandle.port}). */
  port?: number;
  /** `--allow` rules (strings are parsed); ignored when `policy` is given. */
  allow?: Iterable<string | AllowRule>;
  /** A ready policy instead of `allow`. */
  policy?: DestinationPolicy;
  /** Default 256. */
  maxSessions?: number;
  /** Sessions one client address may hold; default 32 (at most maxSessions). */
  maxSessionsPerClient?: number;
  /** Upgrades in progress per client address; default 16. */
  maxPendingPerClient?: number;
  /** TCP connections per client address, on the relay and the browse origin; default 64. */
  maxConnectionsPerClient?: number;
  /**
   * Origins besides the relay's own that may open sessions and call /api/ (`https://vpn.example.com`);
   * their host names are also served (Host check). Requests without Origin (the CLI) are always allowed.
   */
  allowOrigins?: readonly string[];
  /** A reverse proxy in front: per-client limits use its X-Forwarded-For; default false. */
  trustProxy?: boolean;
  /** Who may open sessions (docs/relay.md, "Authentication"); default everyone (`none`). */
  auth?: RelayAuth | RelayAuthOptions;
  /**
   * A separate listener for `/metrics`, `/healthz` and `/readyz` (`--metrics-listen`). Without it,
   * `/metrics` is served on the main listener only when that is a loopback address.
   */
  metricsListen?: { host: string; port: number };
  /** Process metrics (CPU, memory, event loop lag) in /metrics; default true. */
  processMetrics?: boolean;
  /** Per-session datagrams/s from the browser; default 25000. */
  maxPps?: number;
  /** Token bucket depth; default max(64, maxPps/5). */
  burst?: number;
  /** Rate-limited drops within one second before closing with RATE_LIMITED; default maxPps. */
  rateAbuseDrops?: number;
  /** Default 180000. */
  idleTimeoutMs?: number;
  /** Largest WebSocket message (= datagram); default 65535. Larger → close 1009. */
  maxMessage?: number;
  /** WebSocket send buffer bound per session before UDP datagrams are dropped; default 1 MiB. */
  maxBufferedBytes?: number;
  /** UDP send queue bound per session (datagrams) before browser datagrams are dropped; default 512. */
  maxUdpQueue?: number;
  /** wgweb.v3: ms a stream's relay → client batch may wait for more datagrams; default 0 (none). */
  batchDelayMs?: number;
  /** WebSocket ping period for dead-connection detection; default 30000. */
  pingIntervalMs?: number;
  /** Static roots tried in order; default the package's built UI, `dist/ui/`. */
  staticDirs?: readonly string[];
  /** Extra HTTP handlers (e.g. the demo's `/api/demo/config`), tried before static files. */
  routes?: RelayRoutes;
  /** Host name resolver (tests inject one); default the system resolver. */
  resolve?: Resolver;
  /** Default 5000. */
  resolveTimeoutMs?: number;
  /** Default: JSON lines on stderr at level info. */
  logger?: Logger;
  /** Warn at startup when there are no allow rules; default true. */
  warnIfNoRules?: boolean;
  /** Monotonic clock (ms) for rate limiting and idle time; default performance.now. */
  now?: () => number;
  /**
   * The `/speed` endpoint for "tunnel vs direct" (docs/relay.md): on by default with at most
   * 64 MiB per request; `false` turns it off. Each test counts in the per-client session limit and,
   * with auth, needs a token like a session.
   */
  speedTest?: boolean | { maxBytes?: number };
  /**
   * Offer `wgweb.v3.stream`, the downstream as a fetch-stream body (docs/relay.md); default true.
   * Clients that do not ask for it never see it.
   */
  fetchStream?: boolean;
  /**
   * Start the built-in demo peer (docs/demo.md) and serve `/api/demo/*`; default off here (the
   * `wgweb relay` command turns it on for loopback listens). Its UDP endpoint is allowed.
   */
  demo?: boolean | DemoOptions;
  /** Without `demo`: the reason `/api/demo/*` gives (404 JSON). */
  demoDisabledReason?: string;
  /**
   * The browse view's origin (docs/browse.md): a second listener on the same host (default on,
   * port 0 = any free port) and `GET /api/browse` telling the app where it is. `false` turns it off.
   */
  browse?: boolean | { port?: number; publicOrigin?: string; appOrigins?: string[]; sites?: number; siteDomain?: string };
}

/** A running relay. */
export interface RelayHandle {
  /** The page URL, e.g. `http://127.0.0.1:8080/` (wildcard listens shown as loopback). */
  readonly url: string;
  /** The WebSocket URL without `?to=`, e.g. `ws://127.0.0.1:8080/wg`. */
  readonly wsUrl: string;
  readonly host: string;
  readonly port: number;
  /** The live allow list: `handle.policy.add('127.0.0.1:51820')` takes effect for new sessions. */
  readonly policy: DestinationPolicy;
  /** The underlying HTTP server (for embedding). */
  readonly server: http.Server;
  /** The built-in demo peer, when started with `demo`. */
  readonly demo: DemoPeer | undefined;
  /** The browse view's origin listener, unless started with `browse: false`. */
  readonly browse: BrowseOriginHandle | undefined;
  /** The authentication in force (`auth.reload()` re-reads a --token-file). */
  readonly auth: RelayAuth;
  /** The Prometheus registry behind /metrics. */
  readonly metrics: RelayMetrics;
  /** Where /metrics is served: the --metrics-listen URL, the main listener's (loopback), or undefined. */
  readonly metricsUrl: string | undefined;
  stats(): RelayStats;
  /** False while draining or closing (what /readyz answers). */
  readonly ready: boolean;
  /**
   * Graceful drain: refuse new sessions, /readyz 503, 1012 to every client; resolves with the
   * sessions left once all are gone or after `timeoutMs`. Call close() afterwards.
   */
  drain(timeoutMs: number): Promise<number>;
  /** Closes every session with 1001, the UDP sockets and the listener. Idempotent. */
  close(): Promise<void>;
}

/** The built UI, `dist/ui/` of the package (Vite copies `public/` into it). */
export function defaultStaticDirs(): string[] {
  return [builtUiDir()];
}

function positiveInt(name: string, v: number | undefined, def: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, not ${v}`);
  return v;
}

/**
 * `batchDelayMs`: 0 to 60000 ms. More than a few ms is felt by a bulk flow's ACK clock (the CLI
 * stops at 100); tests use long holds to tell held batches from ones sent at once without timing.
 */
function batchDelay(v: number | undefined): number {
  if (v === undefined) return RELAY_DEFAULTS.batchDelayMs;
  if (!Number.isInteger(v) || v < 0 || v > 60_000) throw new RangeError(`batchDelayMs must be an integer from 0 to 60000, not ${v}`);
  return v;
}

/**
 * Starts a relay.
 * @throws {RangeError} for an invalid option or allow rule.
 * @throws {WgwebError} LISTEN_FAILED when the address cannot be bound.
 */
export async function startRelay(options: RelayOptions = {}): Promise<RelayHandle> {
  const host = options.host ?? RELAY_DEFAULTS.host;
  const port = options.port ?? RELAY_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0 to 65535, not ${port}`);
  const maxPps = positiveInt('maxPps', options.maxPps, RELAY_DEFAULTS.maxPps);
  const maxMessage = positiveInt('maxMessage', options.maxMessage, RELAY_DEFAULTS.maxMessage, RELAY_MAX_MESSAGE_LIMIT);
  if (maxMessage < WG_MESSAGE_INITIATION_SIZE) throw new RangeError(`maxMessage must be at least ${WG_MESSAGE_INITIATION_SIZE} (a handshake initiation)`);
  const now = options.now ?? (() => performance.now());
  const log = options.logger ?? createLogger();
  const origins = new OriginPolicy({ listenHost: host, allowOrigins: options.allowOrigins });
  const maxConnectionsPerClient = positiveInt('maxConnectionsPerClient', options.maxConnectionsPerClient, RELAY_DEFAULTS.maxConnectionsPerClient);
  const policy =
    options.policy ?? new DestinationPolicy(options.allow ?? [], { resolve: options.resolve, resolveTimeoutMs: options.resolveTimeoutMs });
  // --- demo: start the peer first, so its endpoint is allowed before the first session -----------
  let demo: DemoPeer | undefined;
  let routes = options.routes;
  if (options.demo) {
    const demoOptions: DemoOptions = options.demo === true ? {} : options.demo;
    const { DemoPeer, createDemoRoutes } = await import('../demo/index.ts');
    demo = await DemoPeer.start({ logger: log, ...demoOptions });
    const demoRoutes = createDemoRoutes(demo, demoOptions.api);
    const extra = options.routes;
    routes = (req, res) => demoRoutes(req, res) || (extra?.(req, res) ?? false);
    policy.add(formatEndpoint(demo.endpoint));
  } else {
    const disabled = demoDisabledRoutes(options.demoDisabledReason ?? 'the demo peer is not enabled on this relay');
    const extra = options.routes;
    routes = (req, res) => (extra?.(req, res) ?? false) || disabled(req, res);
  }
  // --- browse: its listener first, so /api/browse can name its port --------------------------------
  let browse: BrowseOriginHandle | undefined;
  if (options.browse !== false) {
    const b = typeof options.browse === 'object' ? options.browse : {};
    try {
      browse = await startBrowseOrigin({
        host,
        port: b.port ?? 0,
        publicOrigin: b.publicOrigin,
        appOrigins: b.appOrigins,
        sites: b.sites,
        siteDomain: b.siteDomain,
        staticDirs: options.staticDirs ?? defaultStaticDirs(),
        log,
        maxConnectionsPerClient: options.trustProxy ? undefined : maxConnectionsPerClient,
      });
    } catch (e) {
      await demo?.close();
      throw e;
    }
    const inner = routes;
    const browseRoutes = browse.routes;
    routes = (req, res) => browseRoutes(req, res) || (inner?.(req, res) ?? false);
  }
  const maxSessions = positiveInt('maxSessions', options.maxSessions, RELAY_DEFAULTS.maxSessions);
  // --- metrics: read from the server at scrape time; on the main listener only for loopback ------
  let source: RelayServer | undefined;
  const metrics = new RelayMetrics(() => source, { processMetrics: options.processMetrics });
  const metricsOnMain = !options.metricsListen && isLoopbackHost(host);
  if (metricsOnMain) {
    const inner = routes;
    routes = (req, res) => metrics.route(req, res) || (inner?.(req, res) ?? false);
  }
  let auth: RelayAuth;
  try {
    auth = options.auth instanceof RelayAuth ? options.auth : new RelayAuth(options.auth ?? { mode: 'none' });
  } catch (e) {
    await browse?.close();
    await demo?.close();
    throw e;
  }
  const server = new RelayServer({
    auth,
    onSessionEnd: (ms) => metrics.observeSessionEnd(ms),
    host,
    port,
    policy,
    origins,
    maxSessions,
    maxSessionsPerClient: positiveInt('maxSessionsPerClient', options.maxSessionsPerClient, Math.min(maxSessions, RELAY_DEFAULTS.maxSessionsPerClient)),
    maxPendingPerClient: positiveInt('maxPendingPerClient', options.maxPendingPerClient, RELAY_DEFAULTS.maxPendingPerClient),
    maxConnectionsPerClient,
    trustProxy: options.trustProxy ?? false,
    maxMessage,
    pingIntervalMs: positiveInt('pingIntervalMs', options.pingIntervalMs, RELAY_DEFAULTS.pingIntervalMs),
    limits: {
      maxPps,
      burst: positiveInt('burst', options.burst, Math.max(64, Math.round(maxPps / 5))),
      rateAbuseDrops: positiveInt('rateAbuseDrops', options.rateAbuseDrops, maxPps),
      idleTimeoutMs: positiveInt('idleTimeoutMs', options.idleTimeoutMs, RELAY_DEFAULTS.idleTimeoutMs),
      maxBufferedBytes: positiveInt('maxBufferedBytes', options.maxBufferedBytes, RELAY_DEFAULTS.maxBufferedBytes),
      maxUdpQueue: positiveInt('maxUdpQueue', options.maxUdpQueue, RELAY_DEFAULTS.maxUdpQueue),
      batchDelayMs: batchDelay(options.batchDelayMs),
    },
    staticDirs: options.staticDirs ?? defaultStaticDirs(),
    routes,
    log,
    now,
    fetchStream: options.fetchStream ?? true,
    ...(options.speedTest === false ? {} : { speedTest: { maxBytes: positiveInt('speedTest.maxBytes', typeof options.speedTest === 'object' ? options.speedTest.maxBytes : undefined, DEFAULT_SPEED_MAX_BYTES) } }),
  });
  source = server;
  let bound: { host: string; port: number };
  let metricsListener: MetricsListener | undefined;
  try {
    bound = await server.listen();
    if (options.metricsListen) metricsListener = await startMetricsListener(options.metricsListen.host, options.metricsListen.port, metrics, () => server.ready);
  } catch (e) {
    await server.close();
    await browse?.close();
    await demo?.close();
    throw e;
  }
  const shownHost = bound.host === '0.0.0.0' ? '127.0.0.1' : bound.host === '::' ? '::1' : bound.host;
  const hostPort = formatEndpoint({ host: shownHost, port: bound.port });
  const url = `http://${hostPort}/`;
  const wsUrl = `ws://${hostPort}${RELAY_PATH}`;
  log.info('relay.listening', {
    url,
    wsUrl,
    listen: formatEndpoint({ host: bound.host, port: bound.port }),
    allow: policy.rules.map((r) => r.text),
    auth: auth.mode,
    metrics: metricsListener?.url ?? (metricsOnMain ? `${url}metrics` : 'off (not loopback; use --metrics-listen)'),
    staticDirs: (options.staticDirs ?? defaultStaticDirs()).filter((d) => existsSync(d)),
  });
  if (policy.size === 0 && options.warnIfNoRules !== false) {
    log.warn('relay.no_allow_rules', {
      message: 'no --allow rules: every session will be refused. Allow your WireGuard endpoints, e.g. --allow 192.0.2.10:51820',
    });
  }
  return {
    url,
    wsUrl,
    host: bound.host,
    port: bound.port,
    policy,
    server: server.http,
    demo,
    browse,
    auth,
    metrics,
    metricsUrl: metricsListener?.url ?? (metricsOnMain ? `${url}metrics` : undefined),
    stats: () => server.stats(),
    get ready() {
      return server.ready;
    },
    drain: (timeoutMs) => server.drain(timeoutMs),
    close: async () => {
      await server.close();
      await metricsListener?.close();
      await browse?.close();
      await demo?.close();
    },
  };
}
