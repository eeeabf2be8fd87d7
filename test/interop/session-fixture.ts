/**
 * The shape every Session interop test shares: wgweb's Session (WireGuard core + userspace TCP/IP
 * in this Node process) reaching a real wireguard-go in its own network namespace through the real
 * relay, with the kernel's TCP/UDP serving on the far side.
 *
 *   Session (Node) ──ws──▶ relay (127.0.0.1, allow = the endpoint) ──UDP──▶ [impairment hop] ──UDP──▶
 *       wireguard-go (namespace) ── tunnel 10.77.X.1, fd77:X::1 ── HTTP :80, DNS :53, echo :7 (kernel TCP/UDP)
 *
 * ```ts
 * const fx = await startSessionFixture({ name: 'xfer' });
 * after(() => fx.close());
 * const res = await fx.session.fetch(fx.http.url('/bytes/1000'));
 * ```
 * `close()` is idempotent and tears down in reverse order (session, relay, hop, namespace).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { startWireguardGoPeer, type WgClient, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startDnsServer, startEchoServer, startHttpServer, type NsDnsServer, type NsHttpServer, type NsServer } from '../../harness/ns-servers.ts';
import { startImpairmentHop, type ImpairmentHop, type ImpairmentHopOptions } from '../../harness/impairment-hop.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { formatEndpoint, type Endpoint } from '../../src/shared/ip-address.ts';

/** `ws` in Node, typed as the WebSocket the relay transport expects (as src/node/cli/tunnel-options.ts does). */
export const NodeWebSocket = WebSocket as unknown as RelayWebSocketConstructor;

export interface SessionFixtureOptions {
  /** Namespace label. */
  readonly name?: string;
  /** Put an impairment hop (root namespace, loopback) between the relay and wireguard-go. */
  readonly hop?: Omit<ImpairmentHopOptions, 'target' | 'listen'>;
  /** Which servers to start in the namespace; default all three. */
  readonly servers?: readonly ('http' | 'dns' | 'echo')[];
  /** Start a Session and wait for its handshake (default true). */
  readonly session?: boolean;
}

export interface SessionFixture {
  readonly peer: WgGoPeer;
  readonly client: WgClient;
  readonly relay: RelayHandle;
  readonly hop: ImpairmentHop | undefined;
  readonly http: NsHttpServer;
  readonly dns: NsDnsServer;
  readonly echo: NsServer;
  /** The Session the fixture started (throws when started with `session: false`). */
  readonly session: Session;
  /** Where the client's UDP goes: the peer's endpoint, or the hop's. */
  readonly endpoint: Endpoint;
  /** The client's wg-quick text (DNS = the peer's tunnel address). */
  readonly configText: string;
  /**
   * Writes a config for the CLI to a private temporary file (removed by close()) and returns its
   * path. It is a second client of the peer, with its own key pair and tunnel address: a `wgweb`
   * command run with the Session's own key would hand-shake as the same WireGuard peer, so
   * wireguard-go would switch its current keypair to the command's and encrypt what it sends the
   * Session with keys the Session never had, until the Session's next handshake (WireGuard's
   * 15 s no-reply rule) — long enough for a TCP connect right after the command to time out.
   */
  configFile(): string;
  /** The second client `configFile()` writes (its own key pair and addresses). */
  readonly cliClient: WgClient;
  /** Another Session over the same relay and config. The caller closes it. */
  startSession(): Promise<Session>;
  close(): Promise<void>;
}

/** Starts wireguard-go, its servers, the relay (and hop) and, by default, a handshaken Session. */
export async function startSessionFixture(options: SessionFixtureOptions = {}): Promise<SessionFixture> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep tearing down the rest
      }
    }
  };
  try {
    const peer = await startWireguardGoPeer({ name: options.name ?? 'sess', logLevel: 'error' });
    cleanups.push(() => peer.close());
    const wanted = new Set(options.servers ?? ['http', 'dns', 'echo']);
    const [http, dns, echo] = await Promise.all([
      wanted.has('http') ? startHttpServer(peer) : undefined,
      wanted.has('dns') ? startDnsServer(peer) : undefined,
      wanted.has('echo') ? startEchoServer(peer) : undefined,
    ]);
    for (const s of [http, dns, echo]) if (s) cleanups.push(() => s.close());

    let hop: ImpairmentHop | undefined;
    let endpoint = peer.endpoint;
    if (options.hop) {
      hop = await startImpairmentHop({ ...options.hop, target: peer.endpoint });
      cleanups.push(() => hop!.close());
      endpoint = hop.endpoint;
    }
    const client = await peer.addClient({ endpoint, dns: [peer.tunnelAddress4!] });
    const cliClient = await peer.addClient({ endpoint, dns: [peer.tunnelAddress4!] });
    const relay = await startRelay({ port: 0, allow: [formatEndpoint(endpoint)], logger: createLogger({ level: 'error' }) });
    cleanups.push(() => relay.close());

    let dir: string | undefined;
    const startSession = async (): Promise<Session> => {
      const s = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: NodeWebSocket });
      try {
        await s.waitForHandshake(30_000);
      } catch (e) {
        await s.close();
        throw e;
      }
      return s;
    };
    let session: Session | undefined;
    if (options.session !== false) {
      session = await startSession();
      cleanups.push(() => session!.close());
    }
    return {
      peer,
      client,
      relay,
      hop,
      get http() {
        if (!http) throw new Error('the fixture was started without the HTTP server');
        return http;
      },
      get dns() {
        if (!dns) throw new Error('the fixture was started without the DNS server');
        return dns;
      },
      get echo() {
        if (!echo) throw new Error('the fixture was started without the echo server');
        return echo;
      },
      get session() {
        if (!session) throw new Error('the fixture was started with session: false');
        return session;
      },
      endpoint,
      configText: client.config,
      cliClient,
      configFile() {
        if (!dir) {
          dir = mkdtempSync(join(tmpdir(), 'wgweb-interop-'));
          const d = dir;
          cleanups.push(() => rmSync(d, { recursive: true, force: true }));
        }
        const path = join(dir, 'wg-client.conf');
        writeFileSync(path, cliClient.config, { mode: 0o600 });
        return path;
      },
      startSession,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** What a streamed body came to: its length and SHA-256, without keeping it in memory. */
export interface BodyDigest {
  readonly length: number;
  readonly sha256: string;
}

/** Reads `body` to its end, hashing as it goes (never buffers it whole). */
export async function digestBody(body: ReadableStream<Uint8Array> | null): Promise<BodyDigest> {
  const h = createHash('sha256');
  let length = 0;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      h.update(value);
      length += value.length;
    }
  }
  return { length, sha256: h.digest('hex') };
}

/** A ReadableStream of `chunks`, pulled one at a time (so a request body streams, it is not buffered). */
export function streamOf(chunks: Iterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.iterator]();
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const r = it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
    },
    { highWaterMark: 0 },
  );
}
