/**
 * The Node client's upload with the trace of upload-trace.ts: a Session in this process (the `ws`
 * package as its WebSocket) uploads 20 MiB to the HTTP server behind a wireguard-go peer through
 * a relay process, `--rounds` times, and prints each upload's timeline (#19 item 5, section 16).
 *
 *   Session (this process) ──ws──▶ relay process ──UDP──▶ wireguard-go (namespace) ─ kernel TCP ─ HTTP server
 *
 *   node --import tsx bench/node-upload-trace.ts [--rounds 2] [--bytes N]
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { closeAllNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer } from '../harness/ns-servers.ts';
import { startRelayProcess } from '../harness/relay-process.ts';
import { formatEndpoint } from '../src/shared/ip-address.ts';
import { Session } from '../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../src/engine/relay-transport.ts';
import { runCleanups } from './bench-entry.ts';
import { UploadTracer, type ClientSample } from './upload-trace.ts';
import { loadavg } from 'node:os';

const MiB = 1 << 20;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const rounds = Number(value('--rounds') ?? 2);
  const bytes = Number(value('--bytes') ?? 20 * MiB);
  const closers: (() => Promise<unknown> | void)[] = [];
  try {
    const peer = await startWireguardGoPeer({ name: 'nut', logLevel: 'error', address6: null });
    closers.push(() => peer.close());
    const http = await startHttpServer(peer, { hosts: [peer.tunnelAddress4!] });
    closers.push(() => http.close());
    const client = await peer.addClient();
    const relay = await startRelayProcess({ allow: [formatEndpoint(peer.endpoint)] });
    closers.push(() => relay.close());
    const session = await Session.start({
      configText: client.config,
      relayUrl: relay.wsUrl,
      WebSocketImpl: NodeWebSocket as unknown as RelayWebSocketConstructor,
    });
    closers.push(() => session.close());
    await session.waitForHandshake(20_000);
    const body = new Uint8Array(bytes).fill(0x5a);
    const sample = async (): Promise<ClientSample> => {
      const { counters, relays } = session.report({ wgwebVersion: 'bench', kind: 'node', userAgent: 'bench' });
      const conns = ((counters as { tcpConnections?: NonNullable<ClientSample['tcp']>[] }).tcpConnections ?? []).sort((x, y) => y.bytesSent - x.bytesSent);
      return { tcp: conns[0], bufferedAmount: relays[0]?.bufferedAmount, bufferedAmountPeak: relays[0]?.bufferedAmountPeak, transportDrops: relays[0]?.drops };
    };
    for (let r = 0; r < rounds; r++) {
      const tracer = new UploadTracer({ client: sample, relayMetricsUrl: `${relay.url}metrics`, relayPid: relay.pid, wireguardGoPid: peer.process.pid, wireguardIfname: peer.ifname });
      const load = loadavg()[0];
      tracer.start();
      const t0 = performance.now();
      const up = await session.fetch(http.url('/upload'), { method: 'POST', body, headers: [['content-type', 'application/octet-stream']] });
      const answer = (await up.json()) as { length: number };
      const ms = performance.now() - t0;
      const timeline = await tracer.stop();
      if (answer.length !== bytes) throw new Error(`upload: the server received ${answer.length} bytes, expected ${bytes}`);
      const tcp = (await sample()).tcp;
      process.stdout.write(
        `round ${r + 1}: ${(bytes / ms / 1000).toFixed(2)} MB/s, load ${load.toFixed(1)}\n  upload TCP: ${JSON.stringify(tcp)}\n  timeline:\n${timeline}\n`,
      );
    }
  } finally {
    await runCleanups(closers);
    await closeAllNamespaces();
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
