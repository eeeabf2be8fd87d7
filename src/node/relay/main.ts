/**
 * `wgweb relay`: the WebSocket ⇄ UDP relay, as a command (`relayCommand`, lazily imported by the
 * CLI) and as a library (`startRelay`, used by tests, the bench and the demo mode).
 *
 * See docs/relay.md for the protocol, the close codes and the security model.
 */

import type http from 'node:http';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeError } from '../../shared/errors.ts';
import { formatEndpoint } from '../../shared/ip-address.ts';
import { RELAY_MAX_MESSAGE_LIMIT, RELAY_DEFAULT_MAX_MESSAGE, RELAY_PATH, WG_MESSAGE_INITIATION_SIZE } from '../../shared/relay-protocol.ts';
import { DestinationPolicy, type AllowRule, type Resolver } from './destination-policy.ts';
import { createLogger, isLogLevel, type Logger } from './log.ts';
import { RelayServer, type RelayRoutes, type RelayStats } from './relay-server.ts';
import { normaliseOrigin, OriginPolicy } from './origin-policy.ts';
// --- demo (demo/, docs/demo.md): the built-in demo peer; loaded lazily when on -------------------
import { decideDemoMode, demoDisabledRoutes } from '../demo/demo-mode.ts';
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
  pingIntervalMs: 30_000,
  /** Sessions one client address may hold: a tab or two with several peers each, not the relay. */
  maxSessionsPerClient: 32,
  /** Upgrades one client address may have in progress at once (resolving a name, checking). */
  maxPendingPerClient: 16,
  /** TCP connections to the relay port per client address (a browser uses ~6 plus its WebSockets). */
  maxConnectionsPerClient: 64,
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
  browse?: boolean | { port?: number; publicOrigin?: string; appOrigins?: string[] };
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
  stats(): RelayStats;
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
 * Starts a relay.
 * @throws {RangeError} for an invalid option or allow rule.
 * @throws {WgwebError} USAGE when the address cannot be bound.
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
  const server = new RelayServer({
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
    },
    staticDirs: options.staticDirs ?? defaultStaticDirs(),
    routes,
    log,
    now,
  });
  let bound: { host: string; port: number };
  try {
    bound = await server.listen();
  } catch (e) {
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
    stats: () => server.stats(),
    close: async () => {
      await server.close();
      await browse?.close();
      await demo?.close();
    },
  };
}

// --- The command ---------------------------------------------------------------------------------

export const RELAY_USAGE = `Usage: wgweb relay [options]

Serves the wgweb UI and relays WireGuard datagrams between browsers (WebSocket) and the
WireGuard endpoints you allow (UDP). Deny by default: without --allow every session is refused.

Options:
  --listen HOST:PORT     address to listen on (default ${RELAY_DEFAULTS.host}:${RELAY_DEFAULTS.port}; [::1]:PORT for IPv6)
  --allow RULE           allow a destination; repeatable. RULE is
                           ADDRESS[/LEN][:PORT[-PORT]]   e.g. 192.0.2.10:51820, 10.0.0.0/8:51820-51830
                           [IPV6[/LEN]]:PORT             e.g. [2001:db8::/32]:51820
                           HOSTNAME[:PORT]               e.g. vpn.example.com:51820 (resolved by the relay)
                         Loopback/link-local need a rule inside them (127.0.0.1:51820).
  --max-sessions N       concurrent sessions (default ${RELAY_DEFAULTS.maxSessions})
  --max-sessions-per-client N
                         sessions one client address may hold (default ${RELAY_DEFAULTS.maxSessionsPerClient})
  --allow-origin URL     a web origin besides the relay's own that may use it (https://vpn.example.com);
                         repeatable. Needed behind a reverse proxy reached by a host name.
                         Requests without Origin (the wgweb CLI) are always allowed
  --trust-proxy          a reverse proxy in front: per-client limits use the address it appends
                         to X-Forwarded-For (and it caps connections itself). Default off
  --max-pps N            datagrams per second per session, browser to endpoint (default ${RELAY_DEFAULTS.maxPps})
  --idle-timeout SECS    close sessions idle this long (default ${RELAY_DEFAULTS.idleTimeoutMs / 1000})
  --max-message BYTES    largest datagram (default ${RELAY_DEFAULTS.maxMessage}, at most ${RELAY_MAX_MESSAGE_LIMIT})
  --max-buffer BYTES     per-session WebSocket send buffer before dropping (default ${RELAY_DEFAULTS.maxBufferedBytes})
  --static DIR           serve the UI from DIR; repeatable, tried in order (default the built UI, dist/ui)
  --log-level LEVEL      debug, info, warn, error or silent (default info); logs are JSON lines on stderr
  --demo                 start the built-in demo peer (default when listening on loopback)
  --no-demo              do not start the demo peer
  --public               this relay faces the internet (also a loopback relay behind a reverse
                         proxy): no demo peer, and --demo is refused
  --browse-port PORT     port of the browse view's origin, on the same host (default: any free port)
  --browse-origin URL    the browse origin as browsers reach it behind a proxy (https://browse.example.com)
  --browse-app-origin URL  an app origin on another host name that may use the browse origin
                         (https://vpn.example.com); repeatable. Default: the same host name only
  --no-browse            no browse view origin
  -h, --help             show this help

Behind a TLS reverse proxy the browser uses wss://; see docs/relay.md.
`;

function parseListen(text: string): { host: string; port: number } {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) return { host: RELAY_DEFAULTS.host, port: parsePort(t) };
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0 || t[close + 1] !== ':') throw new RangeError(`--listen ${t}: write [v6]:port`);
    host = t.slice(1, close);
    portText = t.slice(close + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0) throw new RangeError(`--listen ${t}: write host:port, e.g. 127.0.0.1:8080`);
    host = t.slice(0, colon) || RELAY_DEFAULTS.host;
    portText = t.slice(colon + 1);
    if (host.includes(':')) throw new RangeError(`--listen ${t}: put an IPv6 address in brackets, [${host}]:port`);
  }
  return { host, port: parsePort(portText) };
}

function parsePort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new RangeError(`"${text}" is not a port (0 to 65535)`);
  return Number(text);
}

function parseCount(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new RangeError(`${flag} must be a positive whole number, not "${text}"`);
  }
  return Number(text);
}

function parseSeconds(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new RangeError(`${flag} must be a duration in seconds (e.g. 180, 90s, 3m or 500ms), not "${text}"`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms < 1) throw new RangeError(`${flag} must be at least 1 ms`);
  return Math.round(ms);
}

/**
 * Runs `wgweb relay ARGS` until SIGINT/SIGTERM, then shuts down cleanly.
 * @returns the exit code: 0 after a clean shutdown (or --help), 2 for a usage error, 1 when the
 *   relay could not start.
 */
export async function relayCommand(args: string[]): Promise<number> {
  let opts: RelayOptions;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string' },
        allow: { type: 'string', multiple: true },
        'max-sessions': { type: 'string' },
        'max-sessions-per-client': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'trust-proxy': { type: 'boolean' },
        'max-pps': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'max-message': { type: 'string' },
        'max-buffer': { type: 'string' },
        static: { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        demo: { type: 'boolean' },
        'no-demo': { type: 'boolean' },
        public: { type: 'boolean' },
        'browse-port': { type: 'string' },
        'browse-origin': { type: 'string' },
        'browse-app-origin': { type: 'string', multiple: true },
        'no-browse': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(RELAY_USAGE);
      return 0;
    }
    const level = values['log-level'] ?? 'info';
    if (!isLogLevel(level)) throw new RangeError(`--log-level must be debug, info, warn, error or silent, not "${level}"`);
    const listen = parseListen(values.listen ?? `${RELAY_DEFAULTS.host}:${RELAY_DEFAULTS.port}`);
    // demo: on for loopback unless --no-demo/--public; a usage error for contradictory flags.
    const demoMode = decideDemoMode({ demo: values.demo, noDemo: values['no-demo'], public: values.public }, listen.host);
    opts = {
      host: listen.host,
      port: listen.port,
      // Parsed now so a bad rule is a usage error naming the rule, before anything listens.
      policy: new DestinationPolicy(values.allow ?? []),
      maxSessions: parseCount('--max-sessions', values['max-sessions']),
      maxSessionsPerClient: parseCount('--max-sessions-per-client', values['max-sessions-per-client']),
      allowOrigins: values['allow-origin'],
      trustProxy: values['trust-proxy'],
      maxPps: parseCount('--max-pps', values['max-pps']),
      idleTimeoutMs: parseSeconds('--idle-timeout', values['idle-timeout']),
      maxMessage: parseCount('--max-message', values['max-message']),
      maxBufferedBytes: parseCount('--max-buffer', values['max-buffer']),
      staticDirs: values.static,
      logger: createLogger({ level }),
      demo: demoMode.enabled,
      demoDisabledReason: demoMode.enabled ? undefined : demoMode.reason,
      browse: values['no-browse']
        ? false
        : {
            port: values['browse-port'] === undefined ? undefined : parsePort(values['browse-port']),
            publicOrigin: values['browse-origin'],
            appOrigins: values['browse-app-origin'],
          },
    };
    if (demoMode.enabled && demoMode.warning) opts.logger?.warn('demo.exposed', { message: demoMode.warning });
    for (const d of values.static ?? []) if (!existsSync(d)) throw new RangeError(`--static ${d}: no such directory`);
    for (const o of values['allow-origin'] ?? []) normaliseOrigin(o);
  } catch (e) {
    process.stderr.write(`wgweb relay: ${(e as Error).message}\nRun "wgweb relay --help" for the options.\n`);
    return 2;
  }

  let handle: RelayHandle;
  try {
    handle = await startRelay(opts);
  } catch (e) {
    process.stderr.write(`wgweb relay: ${(e as Error).message}\n`);
    return e instanceof RangeError ? 2 : 1;
  }
  process.stdout.write(`wgweb relay listening on ${handle.url} (WebSocket ${handle.wsUrl})\n`);
  if (handle.browse) process.stdout.write(`browse view origin on ${handle.browse.originFor(undefined)}/ (intranet pages are framed there)\n`);
  if (handle.demo) {
    process.stdout.write(
      `demo peer (wgweb's own WireGuard) on udp ${formatEndpoint(handle.demo.endpoint)}, public key ${handle.demo.publicKey}\n` +
        `  try it: open ${handle.url} and press "Try the demo", or: curl ${handle.url}api/demo/config\n`,
    );
  }

  // The last resort, behind the boundaries of each session, upgrade and demo service: an error
  // that still escapes is logged and the relay keeps serving everyone else.
  let uncaught = 0;
  const onUncaught = (kind: string) => (e: unknown): void => {
    uncaught++;
    opts.logger?.error('relay.uncaught', { kind, count: uncaught, error: describeError(e) });
  };
  const onException = onUncaught('exception');
  const onRejection = onUncaught('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);

  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  opts.logger?.info('relay.shutdown', { signal, activeSessions: handle.stats().activeSessions });
  // Keep our listeners during the (bounded, ~2 s) shutdown so a second signal cannot kill the
  // process half-way; they are removed once everything is closed.
  await handle.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtException', onException);
  process.off('unhandledRejection', onRejection);
  opts.logger?.info('relay.stopped', {});
  return 0;
}
