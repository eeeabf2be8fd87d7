/**
 * HTTPS through the tunnel, next to baselines from the same run:
 *
 * - download: the same bytes over HTTPS (openssl s_server -WWW, TLS 1.3 AES-128-GCM and
 *   ChaCha20-Poly1305) and over HTTP (the harness HTTP server), both from the wireguard-go
 *   namespace through the relay; goal HTTPS ≥ 0.8 × HTTP.
 * - handshake: a full TLS 1.3 handshake (x25519, ECDSA P-256) over an open tunnel TCP connection
 *   (no baseline on that path: openssl s_client cannot ride the userspace tunnel).
 * - handshake-loopback: the same handshake over loopback TCP (Node sockets) against
 *   `openssl s_time -new` to the same s_server in the same run: the TLS client's own cost next to
 *   OpenSSL's, without the tunnel.
 * - bundle: the TLS chunk's minified and gzipped bytes (esbuild, what `import()` loads on first https).
 *
 *   node --import tsx bench/tls-bench.ts [--quick]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { build } from 'esbuild';
import { closeAllNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer } from '../harness/ns-servers.ts';
import { interopSkipReason } from '../harness/requirements.ts';
import { TestPki } from '../harness/test-pki.ts';
import { startOpensslServer } from '../harness/openssl-server.ts';
import { startRelay } from '../src/node/relay/main.ts';
import { createLogger } from '../src/node/relay/log.ts';
import { Session } from '../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../src/engine/relay-transport.ts';
import { formatEndpoint, parseIp } from '../src/shared/ip-address.ts';
import { connectTls } from '../src/protocols/tls/tls-connection.ts';
import type { TcpConnection } from '../src/engine/dialer.ts';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { higherIsBetter, lowerIsBetter, runCleanups, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function drain(res: Response): Promise<number> {
  let n = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}

async function bundleEntry(): Promise<BenchEntry> {
  const out = await build({
    entryPoints: [join(ROOT, 'src/protocols/tls/tls-connector.ts')],
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.contents;
  const gz = gzipSync(code).length;
  return {
    name: 'tls.bundle',
    measured: 'the TLS code with everything it imports (incl. @noble AES/SHA/curves the WireGuard chunk may already share), esbuild --minify, then gzip',
    ours: { label: 'TLS chunk (gzip)', value: gz / 1024, unit: 'KiB' },
    notes: `${(code.length / 1024).toFixed(1)} KiB minified; loaded by import() on the first https URL`,
  };
}

/** A loopback TCP connection as the Dialer contract's TcpConnection (Node's web-stream view of a socket). */
async function loopbackTcp(port: number): Promise<TcpConnection> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const web = Duplex.toWeb(socket) as unknown as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  return {
    readable: web.readable,
    writable: web.writable,
    remoteAddress: parseIp('127.0.0.1'),
    remotePort: port,
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
    close: () => void socket.end(),
    abort: () => void socket.destroy(),
  };
}

/** Full TLS 1.3 handshakes, ours against `openssl s_time -new`, to one loopback s_server. */
async function loopbackHandshakeEntry(leaf: Parameters<typeof startOpensslServer>[0]['cert'], quick: boolean): Promise<BenchEntry> {
  const server = await startOpensslServer({ cert: leaf, args: ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'] });
  try {
    const n = quick ? 20 : 60;
    const once = async (): Promise<void> => {
      const tls = await connectTls(await loopbackTcp(server.port), { serverName: 'server.wgweb.test', verify: async () => ({}) });
      tls.abort();
    };
    for (let i = 0; i < 5; i++) await once(); // JIT warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await once();
    const ours = (performance.now() - t0) / n;
    const seconds = quick ? 2 : 5;
    const { stdout } = await promisify(execFile)('openssl', ['s_time', '-connect', `127.0.0.1:${server.port}`, '-new', '-tls1_3', '-time', String(seconds)], { timeout: (seconds + 20) * 1000 });
    // "1234 connections in 0.91s; 1356.04 connections/user sec, ..." (its CPU time), then
    // "1234 connections in 5 real seconds, ..." (wall time, whole seconds): the wall figure, as ours.
    const m = /(\d+) connections in (\d+) real seconds/.exec(stdout);
    if (!m) throw new Error(`openssl s_time printed no result:\n${stdout}`);
    const theirs = (Number(m[2]) / Number(m[1])) * 1000;
    return {
      name: 'tls.handshake-loopback',
      measured: `mean full TLS 1.3 handshake (x25519, ECDSA P-256, AES-128-GCM, no certificate verification) over loopback TCP to one openssl s_server: ${n} of ours vs openssl s_time -new for ${seconds} s`,
      ours: { label: 'wgweb TLS client (Node sockets)', value: ours, unit: 'ms' },
      baseline: { label: 'openssl s_time -new (wall time per connection)', value: theirs, unit: 'ms' },
      ratio: lowerIsBetter(ours, theirs),
      notes: 's_time counts whole wall-clock seconds, so its figure is within about 1/time of the truth',
    };
  } finally {
    await server.close();
  }
}

export async function runTlsBench(options: BenchOptions): Promise<BenchEntry[]> {
  const entries: BenchEntry[] = [await bundleEntry()];
  const skip = interopSkipReason(['openssl']);
  if (skip) return entries;
  const bytes = options.quick ? 4 * 1024 * 1024 : 16 * 1024 * 1024;
  const pki = await TestPki.create();
  entries.push(await loopbackHandshakeEntry(pki.leaf('loopback', { dns: ['server.wgweb.test'] }), options.quick));
  const files = mkdtempSync(join(tmpdir(), 'wgweb-tls-bench-'));
  const cleanups: (() => Promise<void> | void)[] = [() => pki.cleanup(), () => rmSync(files, { recursive: true, force: true })];
  try {
    const leaf = pki.leaf('bench', { dns: ['server.wgweb.test'] });
    writeFileSync(join(files, 'payload.bin'), randomBytes(bytes));
    const peer = await startWireguardGoPeer({ name: 'tlsb', logLevel: 'error' });
    cleanups.push(() => peer.close());
    const http = await startHttpServer(peer);
    cleanups.push(() => http.close());
    const host = peer.tunnelAddress4!;
    const servers = [
      await startOpensslServer({ site: peer, host, port: 443, cert: leaf, cwd: files, args: ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256', '-WWW'] }),
      await startOpensslServer({ site: peer, host, port: 8443, cert: leaf, cwd: files, args: ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256', '-WWW'] }),
    ];
    for (const s of servers) cleanups.push(() => s.close());
    const client = await peer.addClient({ endpoint: peer.endpoint });
    const relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }) });
    cleanups.push(() => relay.close());
    const session = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor, relayBatching: false });
    cleanups.push(() => session.close());
    await session.waitForHandshake(30_000);

    const timeDownload = async (url: string, insecure: boolean): Promise<number> => {
      const t0 = performance.now();
      const n = await drain(await session.fetch(url, { insecure }));
      if (n !== bytes) throw new Error(`${url}: got ${n} bytes, expected ${bytes}`);
      return bytes / 1e6 / ((performance.now() - t0) / 1000);
    };
    // Warm-up (JIT, TCP windows), then the best of a few alternating runs each.
    await timeDownload(http.url(`/bytes/${bytes}`), false);
    await timeDownload(`https://${host}/payload.bin`, true);
    const runs = options.quick ? 2 : 3;
    const best = { http: 0, gcm: 0, chacha: 0 };
    for (let i = 0; i < runs; i++) {
      best.http = Math.max(best.http, await timeDownload(http.url(`/bytes/${bytes}`), false));
      best.gcm = Math.max(best.gcm, await timeDownload(`https://${host}/payload.bin`, true));
      best.chacha = Math.max(best.chacha, await timeDownload(`https://${host}:8443/payload.bin`, true));
    }
    for (const [name, value, label] of [
      ['tls.download-aes-gcm', best.gcm, 'HTTPS TLS_AES_128_GCM_SHA256'],
      ['tls.download-chacha20', best.chacha, 'HTTPS TLS_CHACHA20_POLY1305_SHA256'],
    ] as const) {
      entries.push({
        name,
        measured: `${bytes / 1048576} MiB over HTTPS (openssl s_server -WWW, TLS 1.3) vs the same size over HTTP, both through the relay and wireguard-go, best of ${runs}`,
        ours: { label, value, unit: 'MB/s' },
        baseline: { label: 'HTTP, same path', value: best.http, unit: 'MB/s' },
        ratio: higherIsBetter(value, best.http),
        goal: 'ratio ≥ 0.8',
      });
    }

    // Handshake: full TLS 1.3 handshakes over fresh tunnel TCP connections (no tickets).
    const handshakes = options.quick ? 5 : 15;
    let total = 0;
    for (let i = 0; i < handshakes; i++) {
      const tcp = await session.dialer.connectTcp(parseIp(host), 443, { timeoutMs: 10_000 });
      const t0 = performance.now();
      const tls = await connectTls(tcp, { serverName: 'server.wgweb.test', verify: async () => ({}) });
      total += performance.now() - t0;
      tls.abort();
    }
    const ours = total / handshakes;
    entries.push({
      name: 'tls.handshake',
      measured: `mean of ${handshakes} full TLS 1.3 handshakes (x25519, ECDSA P-256, no certificate verification) over fresh tunnel TCP connections to openssl s_server behind wireguard-go`,
      ours: { label: 'wgweb TLS client through the tunnel', value: ours, unit: 'ms' },
      notes: 'no same-path baseline: openssl s_client cannot use the userspace tunnel, and over the namespace it measured its own process start and shutdown (about 1.5 s), not the handshake',
    });
    return entries;
  } finally {
    await runCleanups(cleanups);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = {
  title: 'HTTPS inside the tunnel (TLS client)',
  run: (options) => runTlsBench(options),
};

runWhenMain(import.meta.url, runTlsBench);
