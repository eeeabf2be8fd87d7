/**
 * TCP benchmarks, each next to a baseline measured in the same run:
 *
 *   tcp.stack-to-stack      CPU throughput of a bulk transfer between two TcpSocketTables in one
 *                           thread (no crypto, no IP layer, instant delivery): sender segmentation,
 *                           checksums filled and verified (as NetInterface would), receive
 *                           reassembly, ACK clocking, window updates, application reads.
 *                           Baseline: a raw "memcpy pipe" moving the same bytes in the same
 *                           segment sizes with the same irreducible per-byte work (copy into a
 *                           fresh segment buffer, checksum it, verify it, copy it out into a ring).
 *                           The ratio is therefore the cost of the TCP machinery alone. Node's
 *                           `net` over loopback was not chosen: it measures the kernel, and its
 *                           figure moves with the machine's syscall cost, not with our code.
 *   tcp.goodput-lossy       Simulated goodput (fake clock, so CPU speed does not matter) of a
 *                           transfer over a 100 Mbit/s, 40 ms RTT path with a 256 KiB drop-tail
 *                           queue and 0.1% random loss each way. Baseline: the same stack with
 *                           NewReno and no SACK (RFC 5681/6582 only), so the ratio is what CUBIC
 *                           and SACK recovery buy.
 *   tcp.slow-start-shallow-queue  Simulated goodput of 20 MB over the browser upload's path (80
 *                           Mbit/s, 3 ms RTT, a 128 KiB drop-tail queue: #19 section 16) with
 *                           HyStart++ (the default) against slow start until the first loss.
 *
 *   node --import tsx bench/tcp-bench.ts [--quick]
 */
import { parseIp } from '../src/shared/ip-address.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../src/netstack/wire/checksum.ts';
import { verifyTcpChecksum } from '../src/netstack/wire/tcp.ts';
import { TcpSocketTable } from '../src/netstack/socket/tcp-socket-table.ts';
import type { TcpSocket, TcpSocketOptions } from '../src/netstack/socket/tcp-socket.ts';
import { FakeClock } from '../harness/fake-clock.ts';
import { ImpairmentLink, SeededRandom, TransportPair, type TransportSegment } from '../harness/impairment-link.ts';
import { higherIsBetter, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

const A = parseIp('10.0.0.1');
const B = parseIp('10.0.0.2');
/** Payload per segment with timestamps on a 1420-byte MTU: 1420 - 40 - 12. */
const PAYLOAD = 1368;
/** Header bytes per data segment (20 + 12 of timestamps). */
const HEADER = 32;
const CHUNK = 256 * 1024;

function seededRandom(seed: number): (n: number) => Uint8Array {
  const r = new SeededRandom(seed);
  return (n) => r.bytes(n);
}

/** One bulk transfer of `size` bytes between two tables; returns MB/s of wall time. */
function stackToStack(size: number): { mbps: number; segments: number } {
  const a = new TcpSocketTable({ randomBytes: seededRandom(1) });
  const b = new TcpSocketTable({ randomBytes: seededRandom(2) });
  const listener = b.listen({ port: 443 });
  let now = 0;
  const client = a.connect({ localAddress: A, remoteAddress: B, remotePort: 443 }, now);
  const source = new Uint8Array(CHUNK);
  for (let i = 0; i < source.length; i++) source[i] = (i * 31) & 255;
  const sink = new Uint8Array(CHUNK);
  let server: TcpSocket | undefined;
  let sent = 0;
  let received = 0;
  let segments = 0;
  const start = performance.now();
  for (let guard = 0; received < size; guard++) {
    if (guard > 50_000_000) throw new Error('bench transfer stalled');
    now += 0.01;
    for (const o of a.poll(now)) {
      segments++;
      if (!verifyTcpChecksum(o.segment, o.src, o.dst)) throw new Error('bad checksum');
      b.receive(o.segment, o.src, o.dst, now);
    }
    for (const o of b.poll(now)) {
      if (!verifyTcpChecksum(o.segment, o.src, o.dst)) throw new Error('bad checksum');
      a.receive(o.segment, o.src, o.dst, now);
    }
    server ??= listener.accept();
    while (sent < size && client.state === 'ESTABLISHED') {
      const n = client.send(size - sent >= CHUNK ? source : source.subarray(0, size - sent));
      if (n === 0) break;
      sent += n;
    }
    if (server) for (let n = server.recvInto(sink); n > 0; n = server.recvInto(sink)) received += n;
  }
  const ms = performance.now() - start;
  return { mbps: size / 1e6 / (ms / 1000), segments };
}

/** The same bytes through the irreducible per-segment work, without TCP. */
function memcpyPipe(size: number): number {
  const source = new Uint8Array(CHUNK);
  for (let i = 0; i < source.length; i++) source[i] = (i * 31) & 255;
  const ring = new Uint8Array(4 * 1024 * 1024);
  const pseudo = pseudoHeaderSum(A, B, 6, 0);
  let ringPos = 0;
  let moved = 0;
  let check = 0;
  const start = performance.now();
  while (moved < size) {
    const len = Math.min(PAYLOAD, size - moved);
    const off = moved % CHUNK;
    const n = Math.min(len, CHUNK - off);
    const seg = new Uint8Array(HEADER + n);
    seg.set(source.subarray(off, off + n), HEADER);
    const c = finishChecksum(sumBytes(seg, 0, seg.length, pseudo + seg.length));
    seg[16] = c >> 8;
    seg[17] = c & 255;
    check ^= finishChecksum(sumBytes(seg, 0, seg.length, pseudo + seg.length));
    if (ringPos + n > ring.length) ringPos = 0;
    ring.set(seg.subarray(HEADER), ringPos);
    ringPos += n;
    moved += n;
  }
  const ms = performance.now() - start;
  if (check !== 0) throw new Error('baseline checksum mismatch');
  return size / 1e6 / (ms / 1000);
}

function benchStackToStack(options: BenchOptions): BenchEntry {
  const size = options.quick ? 20e6 : 100e6;
  const rounds = options.quick ? 2 : 3;
  // Warm-up: the first ~100 MB run well below the steady rate while V8 tiers up the state
  // machine and sizes its young generation; measure the steady state, as a long download sees it.
  for (let i = 0; i < (options.quick ? 2 : 4); i++) stackToStack(25e6);
  memcpyPipe(50e6);
  let ours = 0;
  let base = 0;
  let segments = 0;
  for (let r = 0; r < rounds; r++) {
    const s = stackToStack(size);
    segments = s.segments;
    ours = Math.max(ours, s.mbps);
    base = Math.max(base, memcpyPipe(size));
  }
  return {
    name: 'tcp.stack-to-stack',
    measured: `${size / 1e6} MB bulk transfer between two in-memory TcpSocketTables (CUBIC, SACK, timestamps; checksums filled and verified), wall-clock MB/s, best of ${rounds}`,
    ours: { label: 'wgweb TcpSocketTable ×2', value: ours, unit: 'MB/s' },
    baseline: { label: `memcpy pipe, ${PAYLOAD}-byte segments, checksum + verify`, value: base, unit: 'MB/s' },
    ratio: higherIsBetter(ours, base),
    goal: 'ratio ≥ 0.4; ours ≥ 100 MB/s (a 100 MB download must not be CPU-bound in a worker)',
    notes: `${segments} data segments; both ends run in the same thread, so one side alone is cheaper`,
  };
}

/** A simulated path, one way (harness/impairment-link.ts). */
interface SimLink {
  delayMs: number;
  rateBytesPerMs: number;
  queueBytes: number;
  loss: number;
}

/** The lossy path of tcp.goodput-lossy: 100 Mbit/s, 40 ms RTT, 256 KiB drop-tail queue, 0.1% loss each way. */
const LOSSY_LINK: SimLink = { delayMs: 20, rateBytesPerMs: 12_500, queueBytes: 256 * 1024, loss: 0.001 };

/**
 * The browser upload's path as section 16 of #19 measured it (docs/benchmarks.md): a CPU-bound
 * pipeline moving ~10 MB/s, a 3 ms base RTT, and the bottleneck's queue the receiving
 * wireguard-go's UDP socket buffer (the kernel's 208 KiB default, ~90 datagrams or ~128 KB of
 * segments) that drops when it is full; no random loss.
 */
const SHALLOW_LINK: SimLink = { delayMs: 1.5, rateBytesPerMs: 10_000, queueBytes: 128 * 1024, loss: 0 };

/** Simulated goodput (MB/s) of one transfer over a simulated path (default the lossy one). */
function lossyGoodput(size: number, socketOptions: TcpSocketOptions, link: SimLink = LOSSY_LINK): { goodput: number; stats: ReturnType<TcpSocket['stats']> } {
  const clock = new FakeClock(0);
  const a = new TcpSocketTable({ randomBytes: seededRandom(3), socketOptions });
  const b = new TcpSocketTable({ randomBytes: seededRandom(4), socketOptions });
  const pair = new TransportPair(
    clock,
    a,
    b,
    new ImpairmentLink<TransportSegment>({ seed: 5, ...link }),
    new ImpairmentLink<TransportSegment>({ seed: 6, ...link }),
  );
  const listener = b.listen({ port: 443 });
  const client = a.connect({ localAddress: A, remoteAddress: B, remotePort: 443 }, clock.now);
  const source = new Uint8Array(CHUNK);
  const sink = new Uint8Array(CHUNK);
  let server: TcpSocket | undefined;
  let sent = 0;
  let received = 0;
  let startAt = -1;
  pair.runUntil(
    () => {
      server ??= listener.accept();
      if (client.state === 'ESTABLISHED') {
        if (startAt < 0) startAt = clock.now;
        while (sent < size) {
          const n = client.send(size - sent >= CHUNK ? source : source.subarray(0, size - sent));
          if (n === 0) break;
          sent += n;
        }
      }
      if (server) for (let n = server.recvInto(sink); n > 0; n = server.recvInto(sink)) received += n;
      return received >= size;
    },
    1e9,
    'lossy transfer',
  );
  const seconds = (clock.now - startAt) / 1000;
  return { goodput: size / 1e6 / seconds, stats: client.stats() };
}

function benchLossy(options: BenchOptions): BenchEntry {
  const size = options.quick ? 8e6 : 32e6;
  const ours = lossyGoodput(size, {});
  const base = lossyGoodput(size, { congestionControl: 'newreno', sack: false });
  const st = ours.stats;
  return {
    name: 'tcp.goodput-lossy',
    measured: `${size / 1e6} MB over a simulated 100 Mbit/s, 40 ms RTT path with a 256 KiB drop-tail queue and 0.1% random loss each way (fake clock, deterministic), goodput`,
    ours: { label: 'wgweb TCP, CUBIC + SACK (defaults)', value: ours.goodput, unit: 'MB/s' },
    baseline: { label: 'wgweb TCP, NewReno without SACK (RFC 6582)', value: base.goodput, unit: 'MB/s' },
    ratio: higherIsBetter(ours.goodput, base.goodput),
    goal: 'ratio ≥ 1 (random loss holds any TCP-friendly sender near MSS/RTT·1.22/√p ≈ 1.3 MB/s; the link is 12.5 MB/s)',
    notes: `${st.fastRecoveries} fast recoveries, ${st.timeouts} RTOs, ${st.retransmittedSegments} retransmitted segments`,
  };
}

/**
 * HyStart++ (RFC 9406) against plain slow start over the upload's shallow-queue path: how much a
 * 20 MB transfer gains when slow start ends on the RTT rise instead of on a burst of losses.
 */
function benchShallowQueue(options: BenchOptions): BenchEntry {
  const size = options.quick ? 8e6 : 20e6;
  const ours = lossyGoodput(size, {}, SHALLOW_LINK);
  const base = lossyGoodput(size, { hystart: false }, SHALLOW_LINK);
  const n = (st: ReturnType<TcpSocket['stats']>): string =>
    `${st.retransmittedSegments} retransmitted segments, ${st.fastRecoveries} recoveries, ${st.timeouts} RTOs, window peak ${(st.maxCwnd / 1024).toFixed(0)} KiB`;
  return {
    name: 'tcp.slow-start-shallow-queue',
    measured: `${size / 1e6} MB over a simulated 80 Mbit/s, 3 ms RTT path whose bottleneck queue holds 128 KiB (the upload's path in #19 section 16; fake clock, deterministic), goodput`,
    ours: { label: 'wgweb TCP, defaults (CUBIC, SACK, HyStart++)', value: ours.goodput, unit: 'MB/s' },
    baseline: { label: 'wgweb TCP without HyStart++ (slow start until a loss)', value: base.goodput, unit: 'MB/s' },
    ratio: higherIsBetter(ours.goodput, base.goodput),
    goal: 'ratio ≥ 1 (leaving slow start on the RTT rise saves the loss burst and its recoveries)',
    notes: `with HyStart++: ${n(ours.stats)}; without: ${n(base.stats)}`,
  };
}

/** The TCP bench module. */
export const bench: BenchModule = {
  title: 'TCP (stack-to-stack throughput, goodput under loss)',
  async run(options: BenchOptions): Promise<BenchEntry[]> {
    return [benchStackToStack(options), benchLossy(options), benchShallowQueue(options)];
  },
};

runWhenMain(import.meta.url, (options) => bench.run(options));
