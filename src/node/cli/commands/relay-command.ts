/**
 * `wgweb relay`: the WebSocket ⇄ UDP relay as a command, on the same CommandSpec/CliIo shape as
 * every other command. The relay itself is the library `startRelay` (src/node/relay/main.ts).
 *
 *   args ─▶ parseCommandArgs(spec) ─▶ RelayOptions (listen, allow rules, limits, demo, browse)
 *        ─▶ startRelay ─▶ "listening on …" on io.stdout ─▶ wait for io.signal (SIGINT/SIGTERM)
 *        ─▶ SIGTERM: handle.drain(--drain-timeout) (1012, clients move) ─▶ handle.close() ─▶ exit 0
 *   SIGHUP ─▶ handle.auth.reload() (--token-file)
 *
 * A mistake in the arguments is a UsageError (exit 2) before anything listens; an address that
 * cannot be bound is LISTEN_FAILED (exit 1). Logs are JSON lines on stderr (relay/log.ts).
 * See docs/relay.md for the protocol, the close codes and the security model.
 */
import { existsSync } from 'node:fs';
import { describeError, WgwebError } from '../../../shared/errors.ts';
import { formatEndpoint } from '../../../shared/ip-address.ts';
import { RELAY_MAX_MESSAGE_LIMIT } from '../../../shared/relay-protocol.ts';
import { decideDemoMode } from '../../demo/demo-mode.ts';
import { DestinationPolicy } from '../../relay/destination-policy.ts';
import { createLogger, isLogLevel } from '../../relay/log.ts';
import { RELAY_DEFAULTS, startRelay, type RelayHandle, type RelayOptions } from '../../relay/main.ts';
import { DEFAULT_SITE_LISTENERS, MAX_SITE_LISTENERS } from '../../relay/browse-origin.ts';
import { normaliseOrigin } from '../../relay/origin-policy.ts';
import { AUTH_MODES, RelayAuth, type AuthMode } from '../../relay/relay-auth.ts';
import { parseCommandArgs, UsageError, type CommandSpec, type OptionValues } from '../args.ts';
import type { CliIo } from '../cli-io.ts';

export const spec = {
  name: 'relay',
  summary: 'Run the WebSocket-to-UDP relay that browsers reach WireGuard peers through.',
  description: [
    'Serves the wgweb UI and relays WireGuard datagrams between browsers (WebSocket) and the',
    'WireGuard endpoints you allow (UDP). Deny by default: without --allow every session is refused.',
    '',
    'An --allow RULE is one of',
    '  ADDRESS[/LEN][:PORT[-PORT]]   e.g. 192.0.2.10:51820, 10.0.0.0/8:51820-51830',
    '  [IPV6[/LEN]]:PORT             e.g. [2001:db8::/32]:51820',
    '  HOSTNAME[:PORT]               e.g. vpn.example.com:51820 (resolved by the relay)',
    'Loopback/link-local need a rule inside them (127.0.0.1:51820).',
    '',
    'Behind a TLS reverse proxy the browser uses wss://; see docs/relay.md. Logs are JSON lines on stderr.',
  ].join('\n'),
  options: {
    listen: { type: 'string', valueName: 'HOST:PORT', description: `address to listen on (default ${RELAY_DEFAULTS.host}:${RELAY_DEFAULTS.port}; [::1]:PORT for IPv6)` },
    allow: { type: 'string', multiple: true, valueName: 'RULE', description: 'allow a destination (see above)' },
    'max-sessions': { type: 'integer', min: 1, valueName: 'N', description: `concurrent sessions (default ${RELAY_DEFAULTS.maxSessions})` },
    'max-sessions-per-client': { type: 'integer', min: 1, valueName: 'N', description: `sessions one client address may hold (default ${RELAY_DEFAULTS.maxSessionsPerClient})` },
    'allow-origin': {
      type: 'string',
      multiple: true,
      valueName: 'URL',
      description: 'a web origin besides the relay\'s own that may use it (https://vpn.example.com); needed behind a reverse proxy reached by a host name. Requests without Origin (the wgweb CLI) are always allowed',
    },
    'trust-proxy': { type: 'boolean', description: 'a reverse proxy in front: per-client limits use the address it appends to X-Forwarded-For (and it caps connections itself)' },
    'max-pps': { type: 'integer', min: 1, valueName: 'N', description: `datagrams per second per session, browser to endpoint (default ${RELAY_DEFAULTS.maxPps})` },
    'idle-timeout': { type: 'string', valueName: 'SECS', description: `close sessions idle this long: 180, 90s, 3m or 500ms (default ${RELAY_DEFAULTS.idleTimeoutMs / 1000})` },
    'max-message': { type: 'integer', min: 1, max: RELAY_MAX_MESSAGE_LIMIT, valueName: 'BYTES', description: `largest datagram (default ${RELAY_DEFAULTS.maxMessage})` },
    'max-buffer': { type: 'integer', min: 1, valueName: 'BYTES', description: `per-session WebSocket send buffer before dropping (default ${RELAY_DEFAULTS.maxBufferedBytes})` },
    'batch-delay': { type: 'integer', min: 0, max: 100, valueName: 'MS', description: `wgweb.v3: how long a download's batch may wait for more datagrams before it goes to the browser; 0 sends each UDP read at once (default ${RELAY_DEFAULTS.batchDelayMs})` },
    static: { type: 'string', multiple: true, valueName: 'DIR', description: 'serve the UI from DIR, tried in order (default the built UI, dist/ui)' },
    'log-level': { type: 'string', valueName: 'LEVEL', description: 'debug, info, warn, error or silent (default info)' },
    demo: { type: 'boolean', description: 'start the built-in demo peer (default when listening on loopback)' },
    'no-demo': { type: 'boolean', description: 'do not start the demo peer' },
    public: { type: 'boolean', description: 'this relay faces the internet (also a loopback relay behind a reverse proxy): no demo peer, and --demo is refused' },
    'browse-port': { type: 'integer', min: 0, max: 65535, valueName: 'PORT', description: 'port of the browse view\'s origin, on the same host (default: any free port)' },
    'browse-origin': { type: 'string', valueName: 'URL', description: 'the browse origin as browsers reach it behind a proxy (https://browse.example.com)' },
    'browse-app-origin': {
      type: 'string',
      multiple: true,
      valueName: 'URL',
      description: 'an app origin on another host name that may use the browse origin (https://vpn.example.com); default: the same host name only',
    },
    'browse-sites': {
      type: 'integer',
      min: 0,
      max: MAX_SITE_LISTENERS,
      valueName: 'N',
      description: `further browse listeners on the same host, so each intranet site gets a browser origin of its own (default ${DEFAULT_SITE_LISTENERS}; 0: all sites share one origin)`,
    },
    'browse-domain': {
      type: 'string',
      valueName: 'URL',
      description: 'one browse origin per intranet site under a wildcard name, https://*.browse.example.com (wildcard DNS and certificate to this relay, under the app\'s own domain; see docs/relay.md)',
    },
    'no-browse': { type: 'boolean', description: 'no browse view origin' },
    'no-speed-test': { type: 'boolean', description: "no /speed endpoint (the app's tunnel-vs-direct comparison; with --auth it needs a token anyway)" },
    'no-fetch-stream': { type: 'boolean', description: 'do not offer wgweb.v3.stream (the downstream as a fetch() body, POST /relay/stream/<id>); clients then use the WebSocket' },
    'speed-test-max': { type: 'integer', min: 1024, max: 1024 ** 3, valueName: 'BYTES', description: 'largest transfer one /speed request may ask for (default 67108864, 64 MiB)' },
    auth: {
      type: 'string',
      valueName: 'MODE',
      description: 'who may open sessions: none (default), static (--token-file) or signed (--token-secret-file); clients send the token as a subprotocol value, not in the URL',
    },
    'token-file': { type: 'string', valueName: 'FILE', description: 'static tokens, one per line (# comments); re-read on SIGHUP' },
    'token-secret-file': { type: 'string', valueName: 'FILE', description: 'the HMAC-SHA256 secret of signed tokens (mint them with wgweb token)' },
    'metrics-listen': {
      type: 'string',
      valueName: 'HOST:PORT',
      description: 'serve /metrics (Prometheus), /healthz and /readyz there; without it /metrics is on the main listener only when that is loopback',
    },
    'drain-timeout': {
      type: 'string',
      valueName: 'SECS',
      description: `on SIGTERM: refuse new sessions, tell clients to move (1012), exit when the last is gone or after this long (default ${RELAY_DEFAULTS.drainTimeoutMs / 1000}); SIGINT exits at once`,
    },
  },
  examples: ['wgweb relay --allow 192.0.2.10:51820', 'wgweb relay --listen 0.0.0.0:8080 --public --allow vpn.example.com:51820'],
} as const satisfies CommandSpec;

/** Runs `wgweb relay [args]` until `io.signal` aborts (SIGINT/SIGTERM), then shuts down cleanly. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(spec, args);
  const opts = relayOptions(values);
  let drainTimeoutMs: number;
  try {
    drainTimeoutMs = parseSeconds('--drain-timeout', values['drain-timeout']) ?? RELAY_DEFAULTS.drainTimeoutMs;
  } catch (e) {
    throw new UsageError('relay', (e as Error).message);
  }

  let handle: RelayHandle;
  try {
    handle = await startRelay(opts);
  } catch (e) {
    // Option values startRelay checks itself (--max-message below a handshake) are usage mistakes too.
    if (e instanceof RangeError) throw new UsageError('relay', e.message);
    throw e;
  }
  await io.stdout.write(`wgweb relay listening on ${handle.url} (WebSocket ${handle.wsUrl})\n`);
  if (handle.browse) await io.stdout.write(`browse view origin on ${handle.browse.originFor(undefined)}/ (intranet pages are framed there)\n`);
  if (handle.demo) {
    await io.stdout.write(
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
  // SIGHUP re-reads --token-file; a bad file keeps the tokens in force (logged).
  const onHangup = (): void => {
    try {
      opts.logger?.info('relay.tokens_reloaded', { tokens: handle.auth.reload() });
    } catch (e) {
      opts.logger?.error('relay.tokens_reload_failed', { error: (e as Error).message });
    }
  };
  process.on('SIGHUP', onHangup);
  try {
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const signal = shutdownSignal(io.signal);
    opts.logger?.info('relay.shutdown', { signal, activeSessions: handle.stats().activeSessions });
    if (signal === 'SIGTERM') {
      // Graceful drain (a service manager or Kubernetes stopping us): clients move to another
      // relay on 1012; the rest are closed after --drain-timeout.
      const left = await handle.drain(drainTimeoutMs);
      opts.logger?.info('relay.drained', { activeSessions: left });
    }
    // io keeps its signal handlers during the (bounded, ~2 s) shutdown, so a second Ctrl-C ends
    // the process with 130 instead of leaving it half-closed.
    await handle.close();
  } finally {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
    process.off('SIGHUP', onHangup);
  }
  opts.logger?.info('relay.stopped', {});
  return 0;
}

/** The command line as RelayOptions; every mistake is a UsageError naming the option. */
function relayOptions(values: OptionValues<typeof spec>): RelayOptions {
  try {
    const level = values['log-level'] ?? 'info';
    if (!isLogLevel(level)) throw new RangeError(`--log-level must be debug, info, warn, error or silent, not "${level}"`);
    const listen = parseListen(values.listen ?? `${RELAY_DEFAULTS.host}:${RELAY_DEFAULTS.port}`);
    // demo: on for loopback unless --no-demo/--public; a usage error for contradictory flags.
    const demoMode = decideDemoMode({ demo: values.demo, noDemo: values['no-demo'], public: values.public }, listen.host);
    for (const d of values.static) if (!existsSync(d)) throw new RangeError(`--static ${d}: no such directory`);
    for (const o of values['allow-origin']) normaliseOrigin(o); // a bad origin is a usage error before anything listens
    const authMode = (values.auth ?? (values['token-secret-file'] ? 'signed' : values['token-file'] ? 'static' : 'none')) as AuthMode;
    if (!AUTH_MODES.includes(authMode)) throw new RangeError(`--auth must be none, static or signed, not "${values.auth}"`);
    if (authMode !== 'static' && values['token-file']) throw new RangeError('--token-file goes with --auth static');
    if (authMode !== 'signed' && values['token-secret-file']) throw new RangeError('--token-secret-file goes with --auth signed');
    if (values.public && authMode === 'none') {
      throw new RangeError('--public needs authentication: add --auth static --token-file FILE or --auth signed --token-secret-file FILE');
    }
    let auth: RelayAuth;
    try {
      auth = new RelayAuth({ mode: authMode, tokenFile: values['token-file'], secretFile: values['token-secret-file'] });
    } catch (e) {
      throw new RangeError((e as Error).message);
    }
    const logger = createLogger({ level });
    if (demoMode.enabled && demoMode.warning) logger.warn('demo.exposed', { message: demoMode.warning });
    return {
      host: listen.host,
      port: listen.port,
      // Parsed now so a bad rule is a usage error naming the rule, before anything listens.
      policy: new DestinationPolicy(values.allow),
      maxSessions: values['max-sessions'],
      maxSessionsPerClient: values['max-sessions-per-client'],
      allowOrigins: values['allow-origin'],
      trustProxy: values['trust-proxy'],
      auth,
      metricsListen: values['metrics-listen'] === undefined ? undefined : parseListen(values['metrics-listen']),
      maxPps: values['max-pps'],
      idleTimeoutMs: parseSeconds('--idle-timeout', values['idle-timeout']),
      maxMessage: values['max-message'],
      maxBufferedBytes: values['max-buffer'],
      batchDelayMs: values['batch-delay'],
      staticDirs: values.static.length > 0 ? values.static : undefined,
      logger,
      demo: demoMode.enabled,
      demoDisabledReason: demoMode.enabled ? undefined : demoMode.reason,
      browse: values['no-browse']
        ? false
        : {
            port: values['browse-port'],
            publicOrigin: values['browse-origin'],
            appOrigins: values['browse-app-origin'],
            sites: values['browse-sites'],
            siteDomain: values['browse-domain'],
          },
      speedTest: values['no-speed-test'] ? false : { maxBytes: values['speed-test-max'] },
      fetchStream: !values['no-fetch-stream'],
    };
  } catch (e) {
    if (e instanceof WgwebError) throw e;
    throw new UsageError('relay', (e as Error).message);
  }
}

/** Which signal ended the relay, for the shutdown log line (createProcessIo names it in the abort reason). */
function shutdownSignal(signal: AbortSignal): unknown {
  return signal.reason instanceof WgwebError ? signal.reason.detail.signal : undefined;
}

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

function parseSeconds(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new RangeError(`${flag} must be a duration in seconds (e.g. 180, 90s, 3m or 500ms), not "${text}"`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms < 1) throw new RangeError(`${flag} must be at least 1 ms`);
  return Math.round(ms);
}
