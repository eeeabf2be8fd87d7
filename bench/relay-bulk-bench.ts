/**
 * relay-bulk: the relay's CPU per MB of one bulk flow in the batched framing, each way, next to the
 * raw `ws`→`dgram` forwarder of relay-load-bench.ts, alternating in the same run (#19, the relay's
 * share of the browser path; docs/benchmarks.md, "10. The relay's cost per datagram").
 *
 *   client (this process, `ws`, offers wgweb.v3) ──ws──▶ server process ──UDP──▶ peer (this process, loopback)
 *
 *   relay-bulk.download  the peer keeps WINDOW full-size (1452-byte) type-4 datagrams in flight,
 *                        clocked by the client's ACK datagrams: one 64-byte datagram per 16
 *                        received, those of one received message sent as one batch (what the
 *                        browser's RelayTransport does with coalesceReplies).
 *   relay-bulk.upload    the client sends 44-datagram batches (64 KiB, the upstream bound) while
 *                        fewer than WINDOW datagrams are unacknowledged; the peer ACKs every 16.
 *
 * The figure is the server process's CPU (utime + stime from /proc) per MB of datagram payload
 * delivered: what the server spends per datagram, not how fast this shared machine moves them, so
 * it survives load far better than a rate. A datagram lost on loopback (buffers full) stalls its
 * credit; after STALL_MS without progress the window is granted again (counted in the notes).
 * The relay keeps every check (shape, token bucket with --max-pps raised above the flow, queue
 * bounds, counters, idle timer); the raw forwarder has none.
 *
 *   node --import tsx bench/relay-bulk-bench.ts [--quick] [--rounds N] [--mb N] [--relay-args '--batch-delay 2']
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { DatagramBatchWriter, parseDatagramBatch } from '../src/shared/datagram-batch.ts';
import { buildRelayUrl, RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOLS, V2_BATCH_LIMITS, V3_DOWNSTREAM_BATCH_LIMITS } from '../src/shared/relay-protocol.ts';
import { startRelayProcess } from '../harness/relay-process.ts';
import { cpuMs, startBenchChild } from './bench-child.ts';
import { lowerIsBetter, runCleanups, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';
import { FULL_DATAGRAM, transportDatagram } from './load-generator.ts';
import { RAW_FORWARDER } from './relay-load-bench.ts';

/** Datagrams in flight (≈ 93 KiB, a TCP window of a loopback-speed flow). */
const WINDOW = 64;
/** One ACK datagram per this many data datagrams. */
const ACK_EVERY = 16;
const ACK_SIZE = 64;
/** Datagrams per upstream batch: as many full-size ones as fit 64 KiB. */
const UP_BATCH = Math.floor(V2_BATCH_LIMITS.maxMessage / (FULL_DATAGRAM + 2));
const STALL_MS = 100;

interface Server {
  readonly label: string;
  readonly pid: number;
  /** The session URL (the peer as the endpoint). */
  readonly url: string;
}

interface Transfer {
  /** Server CPU ms per MB of payload delivered. */
  readonly msPerMB: number;
  readonly mbPerS: number;
  readonly stalls: number;
}

/** The peer: a UDP socket on loopback that the server's session socket talks to. */
async function openPeer(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    s.setRecvBufferSize(4 << 20);
    s.setSendBufferSize(4 << 20);
  } catch {
    // capped by rmem_max/wmem_max: more stalls, same figure
  }
  return s;
}

async function openClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, [...RELAY_SUBPROTOCOLS], { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`closed before open: ${code} ${reason.toString()}`)));
  });
  if (ws.protocol !== RELAY_SUBPROTOCOL_V3) throw new Error(`the server selected ${ws.protocol}, not ${RELAY_SUBPROTOCOL_V3}`);
  return ws;
}

/** Resolves once `done()` (checked every STALL_MS / 2); `stalled()` runs after each STALL_MS without `progress()` changing. */
function watchProgress(progress: () => number, done: () => boolean, stalled: () => void): Promise<void> {
  return new Promise((resolve) => {
    let last = -1;
    let since = performance.now();
    const timer = setInterval(() => {
      if (done()) {
        clearInterval(timer);
        resolve();
        return;
      }
      const p = progress();
      if (p !== last) {
        last = p;
        since = performance.now();
      } else if (performance.now() - since >= STALL_MS) {
        since = performance.now();
        stalled();
      }
    }, STALL_MS / 2);
  });
}

/**
 * Runs one transfer: `start` it, wait until every datagram arrived (a stalled window is credited
 * again and refilled; a lost tail ends it), and report the server's CPU per MB received.
 */
async function measureTransfer(
  server: Server,
  total: number,
  t: { start(): void; received(): number; sent(): number; resend(): void; close(): void },
): Promise<Transfer> {
  let stalls = 0;
  let ended = false;
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  t.start();
  await watchProgress(
    t.received,
    () => ended || t.received() >= total,
    () => {
      if (t.sent() >= total) {
        ended = true; // the tail was lost: end here
        return;
      }
      stalls++;
      t.resend();
    },
  );
  const ms = performance.now() - t0;
  const cpu = cpuMs(server.pid) - cpu0;
  t.close();
  const mb = (t.received() * FULL_DATAGRAM) / 1e6;
  return { msPerMB: cpu / mb, mbPerS: mb / (ms / 1000), stalls };
}

/** One download of `total` datagrams through `server`. */
async function download(server: Server, peer: dgram.Socket, total: number): Promise<Transfer> {
  const ws = await openClient(server.url);
  const data = transportDatagram(FULL_DATAGRAM, 1);
  const ack = transportDatagram(ACK_SIZE, 2);
  let relayAddr: AddressInfo | undefined;
  let sent = 0;
  // The first ACK only tells the peer where the server's session socket is.
  let credited = -ACK_EVERY;
  let received = 0;
  const fill = (): void => {
    if (!relayAddr) return;
    while (sent - credited < WINDOW && sent < total) {
      peer.send(data, relayAddr.port, relayAddr.address);
      sent++;
    }
  };
  const onPeer = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (msg.length !== ACK_SIZE) return;
    relayAddr ??= { address: rinfo.address, port: rinfo.port, family: rinfo.family };
    credited += ACK_EVERY;
    fill();
  };
  peer.on('message', onPeer);
  const writer = new DatagramBatchWriter(V2_BATCH_LIMITS);
  let unacked = 0;
  ws.on('message', (m: Buffer) => {
    const parsed = parseDatagramBatch(m, V3_DOWNSTREAM_BATCH_LIMITS);
    if (!parsed.ok) return;
    for (const d of parsed.datagrams) {
      if (d.length !== FULL_DATAGRAM) continue;
      received++;
      if (++unacked === ACK_EVERY) {
        unacked = 0;
        writer.add(ack);
      }
    }
    const batch = writer.take();
    if (batch) ws.send(batch);
  });
  return measureTransfer(server, total, {
    start: () => ws.send(frameOne(ack)),
    received: () => received,
    sent: () => sent,
    resend: () => {
      credited = sent;
      fill();
    },
    close: () => {
      peer.off('message', onPeer);
      ws.close();
    },
  });
}

/** One upload of `total` datagrams through `server`. */
async function upload(server: Server, peer: dgram.Socket, total: number): Promise<Transfer> {
  const ws = await openClient(server.url);
  const data = transportDatagram(FULL_DATAGRAM, 3);
  const ack = transportDatagram(ACK_SIZE, 4);
  let sent = 0;
  let credited = 0;
  let received = 0;
  let sinceAck = 0;
  const onPeer = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (msg.length !== FULL_DATAGRAM) return;
    received++;
    if (++sinceAck === ACK_EVERY) {
      sinceAck = 0;
      peer.send(ack, rinfo.port, rinfo.address);
    }
  };
  peer.on('message', onPeer);
  const writer = new DatagramBatchWriter(V2_BATCH_LIMITS);
  const fill = (): void => {
    while (sent - credited + UP_BATCH <= WINDOW * 2 && sent < total) {
      const n = Math.min(UP_BATCH, total - sent);
      for (let i = 0; i < n; i++) writer.add(data);
      ws.send(writer.take()!);
      sent += n;
    }
  };
  ws.on('message', (m: Buffer) => {
    const parsed = parseDatagramBatch(m, V3_DOWNSTREAM_BATCH_LIMITS);
    if (!parsed.ok) return;
    for (const d of parsed.datagrams) if (d.length === ACK_SIZE) credited += ACK_EVERY;
    fill();
  });
  return measureTransfer(server, total, {
    start: fill,
    received: () => received,
    sent: () => sent,
    resend: () => {
      credited = sent;
      fill();
    },
    close: () => {
      peer.off('message', onPeer);
      ws.close();
    },
  });
}

/** One datagram as a one-record batch. */
function frameOne(d: Uint8Array): Uint8Array {
  const w = new DatagramBatchWriter(V2_BATCH_LIMITS);
  w.add(d);
  return w.take()!;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Runs the bulk flows; `rounds` alternating relay/forwarder per direction. */
export async function runRelayBulkBench(options: BenchOptions & { rounds?: number; mb?: number; relayArgs?: readonly string[] }): Promise<BenchEntry[]> {
  const total = Math.round(((options.mb ?? (options.quick ? 20 : 50)) * 1e6) / FULL_DATAGRAM);
  const rounds = options.rounds ?? (options.quick ? 2 : 3);
  const cleanups: (() => unknown)[] = [];
  try {
    const peer = await openPeer();
    cleanups.push(() => peer.close());
    const target = { host: '127.0.0.1', port: (peer.address() as AddressInfo).port };
    // --max-pps above the flow (the default 25 000 per session is what a public relay wants).
    const relay = await startRelayProcess({ allow: [`127.0.0.1:${target.port}`], args: ['--max-pps', '1000000', ...(options.relayArgs ?? [])], logLevel: 'warn' });
    cleanups.push(() => relay.close());
    const raw = await startBenchChild(['--input-type=module', '-e', RAW_FORWARDER, '127.0.0.1', String(target.port)], /^PORT (\d+)/, { name: 'raw forwarder' });
    cleanups.push(() => raw.stop());
    const servers: Server[] = [
      { label: 'wgweb relay', pid: relay.pid, url: buildRelayUrl(relay.wsUrl, target) },
      { label: 'raw ws→dgram forwarder', pid: raw.pid, url: `ws://127.0.0.1:${raw.match[1]}/wg` },
    ];
    const results = new Map<string, Transfer[]>();
    for (let r = 0; r < rounds; r++) {
      for (const dir of ['download', 'upload'] as const) {
        // Alternate which server goes first, so neither always meets a warmer machine.
        for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
          const t = dir === 'download' ? await download(s, peer, total) : await upload(s, peer, total);
          const key = `${dir} ${s.label}`;
          results.set(key, [...(results.get(key) ?? []), t]);
        }
      }
    }
    return (['download', 'upload'] as const).map((dir) => {
      const ours = results.get(`${dir} ${servers[0].label}`)!;
      const base = results.get(`${dir} ${servers[1].label}`)!;
      const o = median(ours.map((t) => t.msPerMB));
      const b = median(base.map((t) => t.msPerMB));
      const list = (ts: Transfer[]): string => ts.map((t) => `${t.msPerMB.toFixed(1)} ms/MB at ${t.mbPerS.toFixed(0)} MB/s${t.stalls ? ` (${t.stalls} stalls)` : ''}`).join(', ');
      return {
        name: `relay-bulk.${dir}`,
        measured: `server process CPU per MB of datagram payload, one wgweb.v3 session, ${(total * FULL_DATAGRAM / 1e6).toFixed(0)} MB of 1452-byte datagrams ${dir === 'download' ? 'peer → client, ACKed every 16' : 'client → peer in 64 KiB batches, ACKed every 16'}, median of ${rounds} alternating rounds (the lower middle one for an even count)`,
        ours: { label: 'wgweb relay (all checks)', value: o, unit: 'ms/MB' },
        baseline: { label: 'raw ws→dgram forwarder (no checks)', value: b, unit: 'ms/MB' },
        ratio: lowerIsBetter(o, b),
        notes: `relay: ${list(ours)}; forwarder: ${list(base)}`,
      };
    });
  } finally {
    await runCleanups(cleanups);
  }
}

export const bench: BenchModule = {
  title: 'relay-bulk: the relay CPU per MB of one bulk flow, batched',
  run: runRelayBulkBench,
};

runWhenMain(import.meta.url, (o) => {
  const args = process.argv.slice(2);
  const num = (flag: string): number | undefined => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : undefined);
  const relayArgs = args.includes('--relay-args') ? args[args.indexOf('--relay-args') + 1].split(' ').filter(Boolean) : undefined;
  return runRelayBulkBench({ ...o, rounds: num('--rounds'), mb: num('--mb'), relayArgs });
});
