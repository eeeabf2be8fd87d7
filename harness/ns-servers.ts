/**
 * Real servers inside a namespace, bound to a WireGuard peer's tunnel addresses (IPv4 and IPv6),
 * so a test can only reach them through the tunnel: HTTP (routes in servers/ns-server.ts), a TCP
 * echo server and an authoritative DNS server. Each runs as its own Node process inside the
 * namespace; `start*` resolves once every listener is bound (the process says so on stdout), and
 * rejects with the process output if it exits or does not come up in time.
 *
 * ```ts
 * const peer = await startWireguardGoPeer({ name: 'server' });
 * const http = await startHttpServer(peer);                  // port 80 on 10.77.X.1 and fd77:X::1
 * const dns = await startDnsServer(peer, { records: { 'extra.test': { A: ['10.77.9.9'] } } });
 * http.url('/bytes/1048576')  // → "http://10.77.X.1/bytes/1048576"
 * ```
 * Ports are per namespace, so the well-known defaults (80, 7, 53) never clash between tests.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Namespace, NsProcess } from './netns.ts';

const SERVER_SCRIPT = fileURLToPath(new URL('./servers/ns-server.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_EVENTS = 10_000;

/** Where to run: a namespace, or a peer (then the defaults bind to its tunnel addresses). */
export type ServerSite = Namespace | { readonly ns: Namespace; readonly tunnelAddress4?: string; readonly tunnelAddress6?: string };

export interface NsServerOptions {
  /** Addresses to bind; default the peer's tunnel addresses (or the namespace's veth addresses). */
  readonly hosts?: readonly string[];
  readonly port?: number;
  /** How long the server may take to listen. Default 20 s. */
  readonly timeoutMs?: number;
}

/** One line the server process reported (`event` names the kind: request, connection, dns...). */
export interface ServerEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface NsServer {
  readonly kind: 'http' | 'echo' | 'dns' | 'websocket';
  readonly ns: Namespace;
  readonly hosts: readonly string[];
  readonly port: number;
  readonly process: NsProcess;
  /** What the server reported since it became ready (bounded). */
  events(): ServerEvent[];
  close(): Promise<void>;
}

export interface NsHttpServer extends NsServer {
  /** `http://host[:port]/path` for the first host of the given family (default: IPv4). */
  url(path?: string, family?: 4 | 6): string;
}

export interface DnsRecords {
  readonly [name: string]: { readonly A?: readonly string[]; readonly AAAA?: readonly string[] };
}

export interface NsDnsServer extends NsServer {
  readonly records: DnsRecords;
}

export interface DnsServerOptions extends NsServerOptions {
  /** Merged over the defaults (see {@link defaultDnsRecords}). Names are lower-case, no trailing dot. */
  readonly records?: DnsRecords;
  readonly ttl?: number;
}

function siteNamespace(site: ServerSite): Namespace {
  return 'ns' in site ? site.ns : site;
}

function defaultHosts(site: ServerSite): string[] {
  if ('ns' in site) {
    const hosts = [site.tunnelAddress4, site.tunnelAddress6].filter((h): h is string => !!h);
    if (hosts.length) return hosts;
    return [site.ns.nsAddress4, site.ns.nsAddress6];
  }
  return [site.nsAddress4, site.nsAddress6];
}

/**
 * The default zone: `server.wgweb.test` (A and AAAA: the tunnel addresses), `v4only.wgweb.test`,
 * `v6only.wgweb.test`, `multi.wgweb.test` (two A records). Anything else is NXDOMAIN.
 */
export function defaultDnsRecords(hosts: readonly string[]): DnsRecords {
  const v4 = hosts.filter((h) => !h.includes(':'));
  const v6 = hosts.filter((h) => h.includes(':'));
  return {
    'server.wgweb.test': { A: v4, AAAA: v6 },
    'v4only.wgweb.test': { A: v4 },
    'v6only.wgweb.test': { AAAA: v6 },
    'multi.wgweb.test': { A: [...v4, '10.77.255.254'] },
  };
}

async function startServer(
  kind: NsServer['kind'],
  site: ServerSite,
  options: NsServerOptions,
  defaultPort: number,
  extra: Record<string, unknown> = {},
): Promise<NsServer> {
  const ns = siteNamespace(site);
  const hosts = [...(options.hosts ?? defaultHosts(site))];
  const port = options.port ?? defaultPort;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const events: ServerEvent[] = [];
  let onReady: ((e: ServerEvent) => void) | undefined;
  const proc = ns.spawn(
    process.execPath,
    ['--import', 'tsx', SERVER_SCRIPT, kind, JSON.stringify({ hosts, port, ...extra })],
    {
      cwd: REPO_ROOT,
      onLine: (line, stream) => {
        if (stream !== 'stdout' || !line.startsWith('{')) return;
        let e: ServerEvent;
        try {
          e = JSON.parse(line) as ServerEvent;
        } catch {
          return;
        }
        if (e.event === 'ready' || e.event === 'error') onReady?.(e);
        else {
          events.push(e);
          if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
        }
      },
    },
  );
  const what = `${kind} server on ${hosts.join(', ')} port ${port} in ${ns.name}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void proc.stop();
      reject(new Error(`${what} did not start listening within ${timeoutMs} ms; output:\n${proc.output(20)}`));
    }, timeoutMs);
    onReady = (e) => {
      clearTimeout(timer);
      if (e.event === 'ready') resolve();
      else reject(new Error(`${what} failed: ${String(e.message)}`));
    };
    void proc.exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${info.code}, signal ${info.signal}) before listening; output:\n${proc.output(20)}`));
    });
  });
  return {
    kind,
    ns,
    hosts,
    port,
    process: proc,
    events: () => [...events],
    close: async () => {
      await proc.stop();
    },
  };
}

/** `scheme://host[:port]/path` for the server's first host of `family` (the port left out when it is `defaultPort`). */
function serverUrl(s: NsServer, scheme: 'http' | 'ws' | 'wss', defaultPort: number, path: string, family: 4 | 6): string {
  const host = s.hosts.find((h) => h.includes(':') === (family === 6));
  if (!host) throw new RangeError(`the ${s.kind} server has no IPv${family} address (hosts: ${s.hosts.join(', ')})`);
  const h = family === 6 ? `[${host}]` : host;
  return `${scheme}://${h}${s.port === defaultPort ? '' : `:${s.port}`}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Starts the HTTP test server (default port 80) on the site's tunnel addresses. */
export async function startHttpServer(site: ServerSite, options: NsServerOptions = {}): Promise<NsHttpServer> {
  const s = await startServer('http', site, options, 80);
  return { ...s, url: (path = '/', family: 4 | 6 = 4) => serverUrl(s, 'http', 80, path, family) };
}

export interface NsWebSocketServer extends NsServer {
  /** `ws://host[:port]/path` (`wss://` with `tls`) for the first host of the given family (default: IPv4). */
  url(path?: string, family?: 4 | 6): string;
}

export interface WebSocketServerOptions extends NsServerOptions {
  /** Serve wss: TLS (Node's, OpenSSL) with this certificate chain and key (PEM files, e.g. a TestPki leaf's chainFile/keyFile). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Accept permessage-deflate (RFC 7692, the `ws` package's perMessageDeflate); `true` for its defaults. */
  readonly deflate?: boolean | { readonly serverNoContextTakeover?: boolean; readonly clientNoContextTakeover?: boolean; readonly serverMaxWindowBits?: number };
}

/**
 * Starts the WebSocket test server (the `ws` package; default port 8080) on the site's tunnel
 * addresses: echo, subprotocols, server-side close/ping/fragmented/stream commands
 * (servers/websocket-echo.ts); optionally behind TLS and with permessage-deflate.
 */
export async function startWebSocketServer(site: ServerSite, options: WebSocketServerOptions = {}): Promise<NsWebSocketServer> {
  const s = await startServer('websocket', site, options, 8080, { tls: options.tls, deflate: options.deflate ?? false });
  const scheme = options.tls ? 'wss' : 'ws';
  return { ...s, url: (path = '/', family: 4 | 6 = 4) => serverUrl(s, scheme, options.tls ? 443 : 80, path, family) };
}

/** Starts a TCP echo server (default port 7) on the site's tunnel addresses. */
export function startEchoServer(site: ServerSite, options: NsServerOptions = {}): Promise<NsServer> {
  return startServer('echo', site, options, 7);
}

/** Starts an authoritative DNS server, UDP and TCP (default port 53), on the site's tunnel addresses. */
export async function startDnsServer(site: ServerSite, options: DnsServerOptions = {}): Promise<NsDnsServer> {
  const hosts = [...(options.hosts ?? defaultHosts(site))];
  const records: DnsRecords = { ...defaultDnsRecords(hosts), ...(options.records ?? {}) };
  const s = await startServer('dns', site, { ...options, hosts }, 53, { records, ttl: options.ttl ?? 60 });
  return { ...s, records };
}

/** What {@link curlInNamespace} saw. */
export interface CurlResult {
  readonly status: number;
  /** Lower-case header names of the final response. */
  readonly headers: Record<string, string>;
  readonly length: number;
  readonly sha256: string;
  readonly seconds: number;
  /** The body, when `keepBody` was set. */
  readonly body?: Buffer;
}

/**
 * Runs the real `curl` inside `ns` (the kernel's TCP stack as the client) and hashes the body as it
 * streams. Rejects on a transport failure (curl's exit code and message) or timeout.
 */
export async function curlInNamespace(
  ns: Namespace,
  url: string,
  options: { timeoutMs?: number; args?: readonly string[]; keepBody?: boolean } = {},
): Promise<CurlResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const mark = '--wgwh-curl-stats--';
  const proc = ns.spawn(
    'curl',
    [
      '--silent',
      '--show-error',
      '--noproxy',
      '*',
      '--max-time',
      String(Math.ceil(timeoutMs / 1000)),
      // Status, time and headers go to stderr (a Node pipe, which curl must not fopen as a file).
      '--write-out',
      `%{stderr}\n${mark}\n%{http_code} %{time_total}\n%{header_json}\n`,
    ...(options.args ?? []),
      url,
    ],
    { rawStdout: true, ref: true, keepLines: 400 },
  );
  // 'close' (all output read), not just 'exit': the last body bytes may still be in the pipe.
  const closed = new Promise<void>((resolve) => proc.child.once('close', () => resolve()));
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let length = 0;
  proc.child.stdout!.on('data', (b: Buffer) => {
    length += b.length;
    hash.update(b);
    if (options.keepBody) kept.push(b);
  });
  const timer = setTimeout(() => void proc.stop(500), timeoutMs + 5000);
  const info = await proc.exited;
  await closed;
  clearTimeout(timer);
  const out = proc.output(400);
  if (info.code !== 0) {
    const m = out.lastIndexOf(mark);
    const message = (m >= 0 ? out.slice(0, m) : out).trim().split('\n').slice(-5).join('\n');
    throw new Error(`curl ${url} in ${ns.name} failed (exit ${info.code ?? info.signal}): ${message || '(no message)'}`);
  }
  const at = out.lastIndexOf(mark);
  if (at < 0) throw new Error(`curl ${url} in ${ns.name} printed no status line: ${out.slice(-500)}`);
  const [first, ...jsonLines] = out.slice(at + mark.length).trim().split('\n');
  const [code, secs] = first.trim().split(/\s+/);
  const headers: Record<string, string> = {};
  try {
    const parsed = JSON.parse(jsonLines.join('\n') || '{}') as Record<string, string[]>;
    for (const [k, v] of Object.entries(parsed)) headers[k.toLowerCase()] = v.join(', ');
  } catch {
    // no headers (e.g. HTTP/0.9): leave empty
  }
  return {
    status: Number(code),
    headers,
    length,
    sha256: hash.digest('hex'),
    seconds: Number(secs),
    body: options.keepBody ? Buffer.concat(kept) : undefined,
  };
}
