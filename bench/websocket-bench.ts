/**
 * WebSockets through the tunnel, next to a baseline from the same run:
 *
 * - websocket.messages: small messages (64 B) a server streams to us, messages/s.
 * - websocket.throughput: 64 KiB messages a server streams to us, MB/s.
 *
 * Ours: `Session.webSocket` (wgweb's RFC 6455 client over its TCP/IP stack) through the relay and
 * wireguard-go to the harness WebSocket server (the `ws` package, servers/websocket-echo.ts) in the
 * namespace. Baseline: the `ws` package's own client to the same server code on loopback, in this
 * process: what the server side and Node can do with no tunnel at all. The server streams with
 * "stream COUNT SIZE" and ends with the text "done"; both clients count until it arrives.
 *
 *   node --import tsx bench/websocket-bench.ts [--quick]
 */
import WebSocket from 'ws';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeAllNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startWebSocketServer } from '../harness/ns-servers.ts';
import { startWebSocketEcho } from '../harness/servers/websocket-echo.ts';
import { interopSkipReason } from '../harness/requirements.ts';
import { startRelay } from '../src/node/relay/main.ts';
import { createLogger } from '../src/node/relay/log.ts';
import { Session } from '../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../src/engine/relay-transport.ts';
import { formatEndpoint } from '../src/shared/ip-address.ts';
import { higherIsBetter, runCleanups, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

/** One streaming run: seconds from the request until "done", and the bytes that came. */
type StreamRun = (count: number, size: number) => Promise<{ seconds: number; bytes: number }>;

/** wgweb's client through the tunnel. */
function tunnelRun(session: Session, url: string): StreamRun {
  return async (count, size) => {
    const ws = await session.webSocket(url, { perMessageDeflate: false });
    try {
      let bytes = 0;
      let messages = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        ws.onmessage = (m) => {
          if (typeof m === 'string') {
            if (m === 'done') resolve();
            return;
          }
          bytes += m.length;
          messages++;
        };
        ws.onclose = () => reject(new Error(`the connection closed after ${messages} of ${count} messages`));
        ws.send(`stream ${count} ${size}`);
      });
      if (messages !== count) throw new Error(`got ${messages} of ${count} messages`);
      return { seconds: (performance.now() - t0) / 1000, bytes };
    } finally {
      ws.onclose = undefined;
      ws.close(1000);
      await ws.closed;
    }
  };
}

/** The `ws` package's client to the same server code on loopback. */
function loopbackRun(url: string): StreamRun {
  return async (count, size) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    try {
      let bytes = 0;
      let messages = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data, binary) => {
          if (!binary) {
            if (data.toString() === 'done') resolve();
            return;
          }
          bytes += (data as Buffer).length;
          messages++;
        });
        ws.once('close', () => reject(new Error(`the connection closed after ${messages} of ${count} messages`)));
        ws.send(`stream ${count} ${size}`);
      });
      if (messages !== count) throw new Error(`got ${messages} of ${count} messages`);
      return { seconds: (performance.now() - t0) / 1000, bytes };
    } finally {
      ws.removeAllListeners('close');
      ws.close(1000);
    }
  };
}

/** Best of `runs` (after one warm-up) for each side, alternating so load changes hit both. */
async function best(runs: number, count: number, size: number, ours: StreamRun, theirs: StreamRun): Promise<{ ours: number; theirs: number }> {
  await ours(Math.ceil(count / 4), size);
  await theirs(Math.ceil(count / 4), size);
  let a = Infinity;
  let b = Infinity;
  for (let i = 0; i < runs; i++) {
    a = Math.min(a, (await ours(count, size)).seconds);
    b = Math.min(b, (await theirs(count, size)).seconds);
  }
  return { ours: a, theirs: b };
}

export async function runWebSocketBench(options: BenchOptions): Promise<BenchEntry[]> {
  if (interopSkipReason()) return [];
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const peer = await startWireguardGoPeer({ name: 'wsb', logLevel: 'error' });
    cleanups.push(() => peer.close());
    const server = await startWebSocketServer(peer);
    cleanups.push(() => server.close());
    const local: Server[] = await startWebSocketEcho({ hosts: ['127.0.0.1'], port: 0 }, () => {});
    cleanups.push(() => new Promise<void>((resolve) => local[0]!.close(() => resolve())));
    const client = await peer.addClient({ endpoint: peer.endpoint });
    const relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }) });
    cleanups.push(() => relay.close());
    const session = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor });
    cleanups.push(() => session.close());
    await session.waitForHandshake(30_000);
    const ours = tunnelRun(session, server.url('/bench'));
    const theirs = loopbackRun(`ws://127.0.0.1:${(local[0]!.address() as AddressInfo).port}/bench`);
    const runs = options.quick ? 2 : 3;

    const small = options.quick ? 5_000 : 20_000;
    const m = await best(runs, small, 64, ours, theirs);
    const bigCount = options.quick ? 64 : 256;
    const t = await best(runs, bigCount, 65_536, ours, theirs);
    const mb = (bigCount * 65_536) / 1e6;
    return [
      {
        name: 'websocket.messages',
        measured: `${small} binary messages of 64 B streamed by the ws package's server, best of ${runs}: Session.webSocket through the relay and wireguard-go vs the ws package's client to the same server code on loopback`,
        ours: { label: 'wgweb WebSocket through the tunnel', value: small / m.ours, unit: 'messages/s' },
        baseline: { label: 'ws client on loopback, no tunnel', value: small / m.theirs, unit: 'messages/s' },
        ratio: higherIsBetter(small / m.ours, small / m.theirs),
      },
      {
        name: 'websocket.throughput',
        measured: `${bigCount} binary messages of 64 KiB (${(mb / 1.048576).toFixed(0)} MiB) streamed by the ws package's server, best of ${runs}, same two paths`,
        ours: { label: 'wgweb WebSocket through the tunnel', value: mb / t.ours, unit: 'MB/s' },
        baseline: { label: 'ws client on loopback, no tunnel', value: mb / t.theirs, unit: 'MB/s' },
        ratio: higherIsBetter(mb / t.ours, mb / t.theirs),
        notes: 'the baseline has no WireGuard, no userspace TCP and no relay: the ratio is the whole tunnel path\'s cost for WebSocket traffic',
      },
    ];
  } finally {
    await runCleanups(cleanups);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = {
  title: 'WebSockets through the tunnel',
  run: (options) => runWebSocketBench(options),
};

runWhenMain(import.meta.url, runWebSocketBench);
