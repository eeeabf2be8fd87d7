/**
 * A scripted TCP peer for per-state tests of TcpSocketTable: the test hand-feeds segments (as the
 * remote host) and asserts the exact segments the table answers with, under a fake clock.
 *
 * ```ts
 * const h = new ScriptedPeer();
 * const sock = h.table.connect({ localAddress: h.local, remoteAddress: h.remote, remotePort: 80 }, h.now);
 * const syn = h.expectOne({ flags: 'SYN' });
 * h.send({ flags: 'SYN,ACK', seq: 1000, ack: syn.seq + 1 });
 * h.expectOne({ flags: 'ACK', seq: syn.seq + 1, ack: 1001 });
 * ```
 */
import assert from 'node:assert/strict';
import { parseIp, type IpAddress } from '../../src/shared/ip-address.ts';
import { emitTcp, parseTcp, TcpFlag, verifyTcpChecksum, type TcpRepr } from '../../src/netstack/wire/tcp.ts';
import { TcpSocketTable, type TcpSocketTableOptions } from '../../src/netstack/socket/tcp-socket-table.ts';
import type { TcpSocket, TcpSocketEvent } from '../../src/netstack/socket/tcp-socket.ts';
import { FakeClock } from '../../harness/fake-clock.ts';
import { SeededRandom } from '../../harness/impairment-link.ts';

const FLAG_NAMES: [number, string][] = [
  [TcpFlag.SYN, 'SYN'],
  [TcpFlag.RST, 'RST'],
  [TcpFlag.FIN, 'FIN'],
  [TcpFlag.PSH, 'PSH'],
  [TcpFlag.ACK, 'ACK'],
  [TcpFlag.URG, 'URG'],
];

/** "SYN,ACK" style name of a flag set, in a fixed order. */
export function flagNames(flags: number): string {
  return FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n).join(',');
}

function flagBits(names: string): number {
  let f = 0;
  for (const n of names.split(',').map((x) => x.trim()).filter(Boolean)) {
    const e = FLAG_NAMES.find(([, name]) => name === n);
    if (!e) throw new Error(`unknown flag ${n}`);
    f |= e[0];
  }
  return f;
}

/** What a test writes for a segment from the peer. */
export interface PeerSegment extends Partial<Omit<TcpRepr, 'flags' | 'payload'>> {
  flags: string;
  payload?: Uint8Array | number;
}

/** Expected fields of a segment from the table (unlisted fields are not checked). */
export interface Expected {
  flags?: string;
  seq?: number;
  ack?: number;
  window?: number;
  len?: number;
  sackBlocks?: number[] | undefined;
}

/** A table under test plus the remote end scripted by the test. */
export class ScriptedPeer {
  readonly clock: FakeClock;
  readonly table: TcpSocketTable;
  readonly local: IpAddress;
  readonly remote: IpAddress;
  /** Port the scripted peer uses unless a segment says otherwise. */
  peerPort = 40000;
  /** Our (table) port for injected segments; set by connect()/listen helpers. */
  localPort = 80;
  readonly events: { socket: TcpSocket; event: TcpSocketEvent; at: number }[] = [];

  constructor(options: TcpSocketTableOptions & { v6?: boolean; seed?: number; start?: number } = {}) {
    this.clock = new FakeClock(options.start ?? 10_000);
    const rng = new SeededRandom(options.seed ?? 1);
    this.table = new TcpSocketTable({ randomBytes: (n) => rng.bytes(n), ...options });
    this.local = parseIp(options.v6 ? 'fd00::1' : '10.0.0.1');
    this.remote = parseIp(options.v6 ? 'fd00::2' : '10.0.0.2');
  }

  get now(): number {
    return this.clock.now;
  }

  /** Records a socket's events into {@link events}. */
  watch(socket: TcpSocket): TcpSocket {
    socket.onEvent = (event, s) => this.events.push({ socket: s, event, at: this.clock.now });
    return socket;
  }

  /** Event names recorded for `socket` so far (and clears them). */
  takeEvents(socket: TcpSocket): TcpSocketEvent[] {
    const mine = this.events.filter((e) => e.socket === socket).map((e) => e.event);
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].socket === socket) this.events.splice(i, 1);
    return mine;
  }

  /** Active open from the table toward the peer. */
  connect(options: Parameters<TcpSocketTable['connect']>[0]['options'] = undefined, remotePort = 5000): TcpSocket {
    const s = this.table.connect({ localAddress: this.local, remoteAddress: this.remote, remotePort, options }, this.clock.now);
    this.localPort = s.localPort;
    this.peerPort = remotePort;
    return this.watch(s);
  }

  /** Injects one segment from the peer. */
  send(seg: PeerSegment): void {
    const payload = typeof seg.payload === 'number' ? new Uint8Array(seg.payload).fill(0x61) : (seg.payload ?? new Uint8Array(0));
    const repr: TcpRepr = {
      srcPort: seg.srcPort ?? this.peerPort,
      dstPort: seg.dstPort ?? this.localPort,
      seq: seg.seq ?? 0,
      ack: seg.ack ?? 0,
      flags: flagBits(seg.flags),
      window: seg.window ?? 65535,
      payload,
    };
    for (const k of ['mss', 'windowScale', 'sackPermitted', 'tsVal', 'tsEcr', 'sackBlocks', 'urgentPointer'] as const) {
      if (seg[k] !== undefined) (repr as unknown as Record<string, unknown>)[k] = seg[k];
    }
    if (repr.tsVal !== undefined && repr.tsEcr === undefined) repr.tsEcr = 0;
    this.table.receive(emitTcp(repr, this.remote, this.local), this.remote, this.local, this.clock.now);
  }

  /** Polls the table now and returns what it sent, parsed (checksums verified). */
  poll(): TcpRepr[] {
    const out: TcpRepr[] = [];
    for (const o of this.table.poll(this.clock.now)) {
      assert.equal(verifyTcpChecksum(o.segment, o.src, o.dst), true, 'segment checksum');
      const r = parseTcp(o.segment);
      if (typeof r === 'string') throw new Error(`table emitted a malformed segment: ${r}`);
      out.push(r);
    }
    return out;
  }

  /** Polls and asserts exactly one segment, matching `expected`. */
  expectOne(expected: Expected = {}): TcpRepr {
    const segs = this.poll();
    assert.equal(segs.length, 1, `expected one segment, got ${segs.length}: ${segs.map(describeSegment).join(' | ')}`);
    expectSegment(segs[0], expected);
    return segs[0];
  }

  /** Polls and asserts that nothing was sent. */
  expectNone(): void {
    const segs = this.poll();
    assert.equal(segs.length, 0, `expected silence, got ${segs.map(describeSegment).join(' | ')}`);
  }

  /** Advances the clock by `ms` (without polling). */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** Advances to the table's next wake time and returns it. */
  advanceToWake(): number {
    const t = this.table.pollAt();
    if (!Number.isFinite(t)) throw new Error('table is idle: no wake time');
    if (t > this.clock.now) this.clock.advanceTo(t);
    return this.clock.now;
  }
}

/** One-line description for assertion messages. */
export function describeSegment(r: TcpRepr): string {
  return `${flagNames(r.flags)} seq=${r.seq} ack=${r.ack} win=${r.window} len=${r.payload.length}${r.sackBlocks ? ` sack=${r.sackBlocks.join(',')}` : ''}`;
}

/** Asserts the listed fields of a segment. */
export function expectSegment(r: TcpRepr, e: Expected): void {
  const d = describeSegment(r);
  if (e.flags !== undefined) assert.equal(flagNames(r.flags), flagNames(flagBits(e.flags)), `flags of ${d}`);
  if (e.seq !== undefined) assert.equal(r.seq, e.seq >>> 0, `seq of ${d}`);
  if (e.ack !== undefined) assert.equal(r.ack, e.ack >>> 0, `ack of ${d}`);
  if (e.window !== undefined) assert.equal(r.window, e.window, `window of ${d}`);
  if (e.len !== undefined) assert.equal(r.payload.length, e.len, `length of ${d}`);
  if ('sackBlocks' in e) assert.deepEqual(r.sackBlocks, e.sackBlocks?.map((x) => x >>> 0), `SACK blocks of ${d}`);
}
