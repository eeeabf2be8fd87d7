/**
 * Two TcpSocketTables talking to each other in memory across seeded impairment links (loss,
 * duplication, reordering, delay, a drop-tail bottleneck), under a fake clock: multi-megabyte
 * transfers verified byte for byte, in both directions, with each loss-recovery variant; window
 * scaling growth; path-MTU reaction; many connections at once; determinism.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { TcpSocketTable } from '../../../src/netstack/socket/tcp-socket-table.ts';
import { IsnGenerator } from '../../../src/netstack/socket/tcp-isn.ts';
import type { TcpSocket, TcpSocketOptions } from '../../../src/netstack/socket/tcp-socket.ts';
import type { TcpListener } from '../../../src/netstack/socket/tcp-listener.ts';
import { FakeClock } from '../../../harness/fake-clock.ts';
import { ImpairmentLink, SeededRandom, TransportPair, type ImpairmentOptions, type TransportPairOptions, type TransportSegment } from '../../../harness/impairment-link.ts';
import { deterministicBytes } from '../../../harness/deterministic-bytes.ts';
import { emitTcp, parseTcp, TcpFlag, verifyTcpChecksum } from '../../../src/netstack/wire/tcp.ts';
import { ScriptedPeer } from '../../helpers/scripted-tcp-peer.ts';

interface Setup {
  pair: TransportPair;
  a: TcpSocketTable;
  b: TcpSocketTable;
  clock: FakeClock;
  aAddr: IpAddress;
  bAddr: IpAddress;
  listener: TcpListener;
}

function setup(o: {
  seed: number;
  link?: Omit<ImpairmentOptions, 'seed'>;
  back?: Omit<ImpairmentOptions, 'seed'>;
  v6?: boolean;
  client?: TcpSocketOptions;
  server?: TcpSocketOptions;
  pair?: TransportPairOptions;
}): Setup {
  const clock = new FakeClock(1_000);
  const rng = new SeededRandom(o.seed);
  const a = new TcpSocketTable({ randomBytes: (n) => rng.bytes(n), socketOptions: o.client });
  const b = new TcpSocketTable({ randomBytes: (n) => rng.bytes(n), socketOptions: o.server });
  const ab = new ImpairmentLink<TransportSegment>({ seed: o.seed * 2 + 1, ...o.link });
  const ba = new ImpairmentLink<TransportSegment>({ seed: o.seed * 2 + 2, ...(o.back ?? o.link) });
  const pair = new TransportPair(clock, a, b, ab, ba, o.pair);
  const aAddr = parseIp(o.v6 ? 'fd00::1' : '10.0.0.1');
  const bAddr = parseIp(o.v6 ? 'fd00::2' : '10.0.0.2');
  const listener = b.listen({ port: 443 });
  return { pair, a, b, clock, aAddr, bAddr, listener };
}

/** One side of an application: writes `out` then closes, reads and checks `expect` until EOF. */
class Endpoint {
  written = 0;
  read = 0;
  closed = false;
  private readonly scratch = new Uint8Array(100_000);
  constructor(
    readonly socket: TcpSocket,
    private readonly out: Uint8Array,
    private readonly expect: Uint8Array,
  ) {}

  step(): void {
    const s = this.socket;
    if (s.error) throw new Error(`socket failed: ${s.error.code}: ${s.error.message}`);
    if (s.state !== 'SYN-SENT' && this.written < this.out.length) {
      this.written += s.send(this.out.subarray(this.written, Math.min(this.out.length, this.written + 200_000)));
    }
    if (this.written === this.out.length && !this.closed) {
      s.shutdownWrite();
      this.closed = true;
    }
    for (;;) {
      const n = s.recvInto(this.scratch);
      if (n === 0) break;
      const want = this.expect.subarray(this.read, this.read + n);
      if (want.length !== n || Buffer.compare(Buffer.from(want), Buffer.from(this.scratch.buffer, 0, n)) !== 0) {
        throw new Error(`byte mismatch in stream at offset ${this.read}..${this.read + n}`);
      }
      this.read += n;
    }
  }

  get done(): boolean {
    return this.closed && this.read === this.expect.length && this.socket.readEnded;
  }
}

/** Runs a full exchange: `up` bytes client→server and `down` bytes server→client, then both close. */
function exchange(x: Setup, up: number, down: number, deadlineMs: number, clientOptions?: TcpSocketOptions, localPort?: number) {
  const upData = deterministicBytes(up, 11);
  const downData = deterministicBytes(down, 12);
  const sock = x.a.connect({ localAddress: x.aAddr, remoteAddress: x.bAddr, remotePort: 443, localPort, options: clientOptions }, x.clock.now);
  const client = new Endpoint(sock, upData, downData);
  let server: Endpoint | undefined;
  const start = x.clock.now;
  x.pair.runUntil(
    () => {
      client.step();
      if (!server) {
        const s = x.listener.accept();
        if (s) server = new Endpoint(s, downData, upData);
      }
      server?.step();
      return client.done && !!server?.done;
    },
    start + deadlineMs,
    `exchange of ${up}+${down} bytes`,
  );
  const elapsed = x.clock.now - start;
  // Let the closing handshake finish (TIME-WAIT on the side that closed first).
  x.pair.runFor(x.clock.now + 30_000);
  return { client: client.socket, server: server!.socket, elapsed };
}

const MB = 1024 * 1024;

describe('two tables across an impaired link', () => {
  test('4 MiB each way at once under 2% loss, 1% duplication, 1% reordering and jitter arrives byte-exact (CUBIC, SACK, timestamps)', () => {
    const x = setup({ seed: 1, link: { loss: 0.02, duplicate: 0.01, reorder: 0.01, reorderDelayMs: 15, delayMs: 20, jitterMs: 5, rateBytesPerMs: 5000, queueBytes: 200_000 } });
    const { client, server } = exchange(x, 4 * MB, 4 * MB, 600_000);
    assert.equal(x.pair.badChecksums, 0);
    assert.equal(client.state === 'TIME-WAIT' || client.state === 'CLOSED', true);
    assert.equal(server.state === 'TIME-WAIT' || server.state === 'CLOSED', true);
    const cs = client.stats();
    assert.ok(cs.fastRecoveries > 0, 'losses were repaired by fast recovery');
    assert.ok(x.pair.ab.stats.lost > 50 && x.pair.ab.stats.duplicated > 10 && x.pair.ab.stats.reordered > 10, 'the link really misbehaved');
  });

  test('8 MiB download under 1% loss with NewReno and no SACK (RFC 6582 recovery only)', () => {
    const opts: TcpSocketOptions = { congestionControl: 'newreno', sack: false };
    const x = setup({ seed: 2, client: opts, server: opts, link: { loss: 0.01, delayMs: 10, rateBytesPerMs: 10000 } });
    const { client, server } = exchange(x, 1000, 8 * MB, 600_000);
    assert.equal(server.stats().sack, false);
    assert.ok(server.stats().fastRecoveries > 0);
    void client;
  });

  test('without timestamps or window scaling (a minimal peer), 2 MiB still goes through under loss', () => {
    const opts: TcpSocketOptions = { timestamps: false, windowScaling: false };
    const x = setup({ seed: 3, client: opts, link: { loss: 0.02, delayMs: 5, reorder: 0.02 } });
    const { server } = exchange(x, 2 * MB, 2 * MB, 600_000);
    assert.equal(server.stats().timestamps, false);
    assert.deepEqual(server.stats().windowScale, { send: 0, receive: 0 });
  });

  test('10% loss in both directions: slow, but complete and exact (RTO backoff, go-back-N after timeouts)', () => {
    const x = setup({ seed: 4, link: { loss: 0.1, delayMs: 10 } });
    const { client } = exchange(x, 300_000, 300_000, 3_600_000);
    assert.ok(client.stats().timeouts > 0);
  });

  test('over IPv6 with a bottleneck queue that overflows in slow start', () => {
    const x = setup({ seed: 5, v6: true, link: { delayMs: 15, rateBytesPerMs: 12500, queueBytes: 100_000 } });
    const { server } = exchange(x, 1000, 6 * MB, 600_000);
    assert.ok(x.pair.ab.stats.queueDrops + x.pair.ba.stats.queueDrops > 0, 'the queue overflowed');
    assert.equal(server.stats().mss, 1360 - 12);
  });

  test('the same seed gives the same run, segment for segment', () => {
    const runOnce = () => {
      const x = setup({ seed: 6, link: { loss: 0.03, delayMs: 7, jitterMs: 3, reorder: 0.02 } });
      const r = exchange(x, 500_000, 500_000, 600_000);
      return [r.elapsed, x.pair.ab.stats.sent, x.pair.ba.stats.sent, r.client.stats().retransmittedSegments];
    };
    assert.deepEqual(runOnce(), runOnce());
  });
});

describe('sequence numbers', () => {
  test('an upload whose sequence numbers wrap past 2^32 mid-transfer arrives exact', () => {
    // A fixed ISN key lets the test pick the start time that puts the client's ISN 1 MB below 2^32.
    const key = new Uint8Array(32).fill(7);
    const aAddr = parseIp('10.0.0.1');
    const bAddr = parseIp('10.0.0.2');
    const f = new IsnGenerator(() => key).generate(aAddr, 50000, bAddr, 443, 0).isn;
    const start = 2 ** 32 / 250 + Math.ceil((((2 ** 32 - 1_000_000 - f) % 2 ** 32) + 2 ** 32) % 2 ** 32 / 250);
    const clock = new FakeClock(start);
    const a = new TcpSocketTable({ randomBytes: () => key });
    const b = new TcpSocketTable({ randomBytes: () => key });
    const iss = new IsnGenerator(() => key).generate(aAddr, 50000, bAddr, 443, start).isn;
    assert.ok(iss > 2 ** 32 - 1_001_000 && iss < 2 ** 32 - 990_000, `client ISN ${iss} just below 2^32`);
    const link = { delayMs: 5, loss: 0.01, reorder: 0.01 };
    const pair = new TransportPair(clock, a, b, new ImpairmentLink({ seed: 1, ...link }), new ImpairmentLink({ seed: 2, ...link }));
    const listener = b.listen({ port: 443 });
    const { client } = exchange({ pair, a, b, clock, aAddr, bAddr, listener }, 4 * MB, 1000, 600_000, undefined, 50000);
    assert.ok(client.stats().fastRecoveries > 0, 'losses were repaired across the wrap');
  });
});

describe('window scaling and receive-window auto-tuning', () => {
  test('on a 12.5 MB/s, 80 ms RTT path the receiver window grows from 64 KiB to MiBs and the transfer fills the pipe', () => {
    const x = setup({ seed: 7, link: { delayMs: 40, rateBytesPerMs: 12500, queueBytes: 2 * MB } });
    const windows: number[] = [];
    x.pair = new TransportPair(x.clock, x.a, x.b, x.pair.ab, x.pair.ba, {
      onSegment: (from, seg) => {
        if (from === 'a') windows.push(((seg.segment[14] << 8) | seg.segment[15]) << 7);
      },
    });
    const { client, elapsed } = exchange(x, 1000, 32 * MB, 600_000);
    const st = client.stats();
    assert.equal(st.windowScale.receive, 7);
    assert.ok(st.receiveBufferCapacity >= 1 * MB, `receive buffer grew to ${st.receiveBufferCapacity}`);
    assert.ok(Math.max(...windows) > 1 * MB, `advertised window reached ${Math.max(...windows)} bytes`);
    // 32 MiB at 12.5 MB/s is 2.7 s of serialization; allow for slow start and the handshake.
    assert.ok(elapsed < 4500, `took ${elapsed} ms of simulated time`);
  });

  test('the window keeps growing when queueing inflates the RTT far beyond the handshake sample (receiver RTT from timestamps)', () => {
    const x = setup({ seed: 13, link: { delayMs: 5, rateBytesPerMs: 5000, queueBytes: 1 * MB } });
    const { client } = exchange(x, 1000, 16 * MB, 600_000);
    assert.ok(client.stats().receiveBufferCapacity >= 1 * MB, `receive buffer grew to ${client.stats().receiveBufferCapacity}`);
  });

  test('with a 64 KiB cap (no window scaling), the same path is window-limited', () => {
    const x = setup({ seed: 7, client: { windowScaling: false }, link: { delayMs: 40, rateBytesPerMs: 12500, queueBytes: 2 * MB } });
    const { elapsed } = exchange(x, 1000, 2 * MB, 600_000);
    // At most 65535 bytes per 80 ms round trip: 2 MiB needs at least 2.5 s.
    assert.ok(elapsed > ((2 * MB) / 65535) * 80 * 0.95, `took ${elapsed} ms`);
  });
});

describe('path MTU discovery across the link', () => {
  test('a hop that only carries 1280-byte packets answers with packet-too-big; the transfer completes with smaller segments', () => {
    let x: Setup;
    let icmps = 0;
    const filter = (from: 'a' | 'b', seg: TransportSegment, now: number): TransportSegment | undefined => {
      const ipSize = seg.segment.length + 20;
      if (ipSize <= 1280) return seg;
      icmps++;
      const sender = from === 'a' ? x.a : x.b;
      const tcp = seg.segment;
      // The ICMP error goes straight back to the sender (a router right behind it).
      sender.handleIcmpError(
        { kind: 'packet-too-big', mtu: 1280, src: seg.src, dst: seg.dst, srcPort: (tcp[0] << 8) | tcp[1], dstPort: (tcp[2] << 8) | tcp[3] },
        now,
      );
      return undefined;
    };
    x = setup({ seed: 8, link: { delayMs: 10 }, pair: { filter } });
    const { client, server } = exchange(x, 2 * MB, 2 * MB, 600_000);
    assert.ok(icmps > 0);
    assert.equal(client.stats().mss, 1280 - 40 - 12);
    assert.equal(server.stats().mss, 1280 - 40 - 12);
  });
});

describe('many connections and failures through the table', () => {
  test('20 parallel connections each exchange their own bytes', () => {
    const x = setup({ seed: 9, link: { loss: 0.01, delayMs: 5 } });
    const clients: Endpoint[] = [];
    const servers: Endpoint[] = [];
    const data = (i: number, dir: number) => deterministicBytes(50_000 + i * 1000, 100 + i * 2 + dir);
    for (let i = 0; i < 20; i++) {
      const s = x.a.connect({ localAddress: x.aAddr, remoteAddress: x.bAddr, remotePort: 443 }, x.clock.now);
      clients.push(new Endpoint(s, data(i, 0), data(i, 1)));
    }
    x.pair.runUntil(
      () => {
        for (;;) {
          const s = x.listener.accept();
          if (!s) break;
          const i = clients.findIndex((c) => c.socket.localPort === s.remotePort);
          servers.push(new Endpoint(s, data(i, 1), data(i, 0)));
        }
        for (const e of [...clients, ...servers]) e.step();
        return servers.length === 20 && [...clients, ...servers].every((e) => e.done);
      },
      x.clock.now + 600_000,
      '20 exchanges',
    );
    assert.equal(new Set(clients.map((c) => c.socket.localPort)).size, 20);
  });

  test('connecting to a port nobody listens on is refused', () => {
    const x = setup({ seed: 10, link: { delayMs: 5 } });
    const s = x.a.connect({ localAddress: x.aAddr, remoteAddress: x.bAddr, remotePort: 444 }, x.clock.now);
    x.pair.runUntil(() => s.state === 'CLOSED', x.clock.now + 1000, 'refusal');
    assert.equal(s.error?.code, 'refused');
  });

  test('a peer that disappears mid-transfer: the sender times out after its retransmissions', () => {
    let dead = false;
    const x = setup({ seed: 11, link: { delayMs: 5 }, pair: { filter: (_f, seg) => (dead ? undefined : seg) } });
    const s = x.a.connect({ localAddress: x.aAddr, remoteAddress: x.bAddr, remotePort: 443 }, x.clock.now);
    x.pair.runUntil(() => s.state === 'ESTABLISHED', x.clock.now + 1000, 'connect');
    s.send(new Uint8Array(100_000));
    dead = true;
    x.pair.runUntil(() => s.state === 'CLOSED', x.clock.now + 1_000_000, 'timeout');
    assert.equal(s.error?.code, 'timeout');
  });

  test('abort() on one side surfaces as a reset on the other', () => {
    const x = setup({ seed: 12, link: { delayMs: 5 } });
    const c = x.a.connect({ localAddress: x.aAddr, remoteAddress: x.bAddr, remotePort: 443 }, x.clock.now);
    let srv: TcpSocket | undefined;
    x.pair.runUntil(() => !!(srv ??= x.listener.accept()), x.clock.now + 1000, 'accept');
    c.abort();
    x.pair.runUntil(() => srv!.state === 'CLOSED', x.clock.now + 1000, 'reset');
    assert.equal(srv!.error?.code, 'reset');
  });
});

describe('hostile input', () => {
  test('30 000 random segments aimed at live connections in every state never throw; the tables still work afterwards', () => {
    const rng = new SeededRandom(99);
    const int = (n: number) => Math.floor(rng.next() * n);
    let attacks = 0;
    for (let round = 0; round < 15; round++) {
      const x = setup({ seed: 100 + round, link: { delayMs: 2 } });
      const c = x.a.connect({ localAddress: x.aAddr, remoteAddress: x.bAddr, remotePort: 443 }, x.clock.now);
      let srv: TcpSocket | undefined;
      x.pair.runUntil(() => !!(srv ??= x.listener.accept()) && c.state === 'ESTABLISHED', x.clock.now + 5000, 'connect');
      c.send(new Uint8Array(20_000));
      srv!.send(new Uint8Array(5_000));
      if (round % 3 === 1) c.close();
      if (round % 3 === 2) srv!.shutdownWrite();
      x.pair.runFor(x.clock.now + int(60));
      const target = rng.next() < 0.5 ? { table: x.b, sock: srv!, from: x.aAddr, to: x.bAddr } : { table: x.a, sock: c, from: x.bAddr, to: x.aAddr };
      for (let i = 0; i < 2000; i++) {
        attacks++;
        const near = (rng.next() < 0.7 ? 0 : int(2 ** 32)) >>> 0;
        const flags = int(256) & ~(rng.next() < 0.8 ? TcpFlag.RST : 0);
        const seg = emitTcp(
          {
            srcPort: target.sock.remotePort,
            dstPort: target.sock.localPort,
            seq: (near + int(200_000) - 100_000 + (rng.next() < 0.5 ? 0 : int(2 ** 32))) >>> 0,
            ack: int(2 ** 32) >>> 0,
            flags,
            window: int(65536),
            mss: rng.next() < 0.1 ? int(65536) : undefined,
            windowScale: rng.next() < 0.1 ? int(20) : undefined,
            sackPermitted: rng.next() < 0.1 ? true : undefined,
            tsVal: rng.next() < 0.5 ? int(2 ** 32) >>> 0 : undefined,
            tsEcr: int(2 ** 32) >>> 0,
            sackBlocks: rng.next() < 0.3 ? [int(2 ** 32) >>> 0, int(2 ** 32) >>> 0, int(2 ** 32) >>> 0, int(2 ** 32) >>> 0] : undefined,
            payload: new Uint8Array(rng.next() < 0.5 ? 0 : int(1400)),
          },
          target.from,
          target.to,
        );
        if (rng.next() < 0.05) seg[12] = int(256); // a broken data offset now and then
        target.table.receive(seg, target.from, target.to, x.clock.now);
        if (i % 50 === 0) x.pair.runFor(x.clock.now + int(400));
      }
      x.pair.runFor(x.clock.now + 200_000);
      for (const t of [x.a, x.b]) {
        for (const s of t.connections) assert.notEqual(s.state, 'CLOSED', 'closed sockets leave the table');
      }
      if (round % 5 === 0) exchange(x, 100_000, 100_000, 60_000);
    }
    assert.equal(attacks, 30_000);
  });
});

describe('TcpSocketTable reuseSegmentMemory (#19)', () => {
  test('each poll writes the previous poll\'s memory; a duplicate ACK queued between polls keeps its own and arrives intact', () => {
    const h = new ScriptedPeer({ reuseSegmentMemory: true });
    const sock = h.connect({ noDelay: true });
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: 1000, ack: syn.seq + 1, window: 65535 });
    h.expectOne({ flags: 'ACK' });
    const iss = syn.seq + 1;
    sock.send(new Uint8Array(500).fill(1));
    const [first] = h.table.poll(h.now);
    h.send({ flags: 'ACK', seq: 1001, ack: iss + 500 });
    sock.send(new Uint8Array(500).fill(2));
    const [second] = h.table.poll(h.now);
    assert.ok(second!.segment.buffer === first!.segment.buffer && second!.segment.byteOffset === first!.segment.byteOffset, 'the next poll writes the same bytes');
    h.send({ flags: 'ACK', seq: 1001, ack: iss + 1000 });
    // Out-of-order data: the duplicate ACK is built now, before the next poll (RFC 5681 §4.2).
    h.send({ flags: 'ACK', seq: 1501, ack: iss + 1000, payload: 100 });
    sock.send(new Uint8Array(4000).fill(3));
    const out = h.table.poll(h.now);
    assert.ok(out.length >= 3, `${out.length} segments`);
    for (const o of out) assert.equal(verifyTcpChecksum(o.segment, o.src, o.dst), true, 'every segment intact');
    const dup = parseTcp(out[0]!.segment);
    assert.ok(typeof dup !== 'string' && dup.payload.length === 0 && dup.ack === 1001, 'the duplicate ACK first');
    const regions = out.map((o) => [o.segment.byteOffset, o.segment.byteOffset + o.segment.length] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < regions.length; i++) assert.ok(regions[i]![0] >= regions[i - 1]![1], 'no two segments of one poll share memory');
  });
});
