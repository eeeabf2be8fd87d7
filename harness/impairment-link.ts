/**
 * An in-memory, seeded, deterministic lossy link for sans-IO transport tests, and a driver that
 * joins two {@link TransportLayer}s (e.g. two TcpSocketTables) across a pair of such links under a
 * fake clock.
 *
 *   A.poll ──▶ ImpairmentLink A→B (bottleneck queue, loss, duplication, delay, jitter, reordering) ──▶ B.receive
 *   B.poll ──▶ ImpairmentLink B→A ──────────────────────────────────────────────────────────────────▶ A.receive
 *
 * Everything random comes from one xorshift128+-style PRNG per link seeded by `seed`, and ties in
 * delivery time are broken by send order, so a run is a pure function of its inputs.
 * Not the same thing as impairment-hop.ts (a real UDP hop for interop tests).
 */
import type { IpAddress } from '../src/shared/ip-address.ts';
import { verifyTcpChecksum } from '../src/netstack/wire/tcp.ts';
import type { FakeClock } from './fake-clock.ts';

/** Small seeded PRNG (xorshift32 on a splitmix-mixed seed); [0, 1) floats. */
export class SeededRandom {
  private x: number;
  constructor(seed: number) {
    let z = (Math.imul(seed | 0, 0x9e3779b9) + 0x7f4a7c15) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    this.x = (z ^ (z >>> 16)) >>> 0 || 1;
  }
  /** Next float in [0, 1). */
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x / 0x1_0000_0000;
  }
  /** Bytes, for injecting as a deterministic `randomBytes`. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** How a link misbehaves. Probabilities are per packet. */
export interface ImpairmentOptions {
  seed: number;
  /** Probability that a packet is lost. */
  loss?: number;
  /** Probability that a packet is delivered twice. */
  duplicate?: number;
  /** Probability that a packet is held back by `reorderDelayMs` extra (so later ones overtake it). */
  reorder?: number;
  reorderDelayMs?: number;
  /** One-way propagation delay. */
  delayMs?: number;
  /** Uniform extra delay in [0, jitterMs). Order is kept (a path's queueing delay varies, it does not reorder) unless `jitterReorders`. */
  jitterMs?: number;
  jitterReorders?: boolean;
  /** Bottleneck rate in bytes per ms (e.g. 12500 = 100 Mbit/s); absent: infinitely fast. */
  rateBytesPerMs?: number;
  /** Drop-tail queue in front of the bottleneck, bytes (default 256 KiB when a rate is set). */
  queueBytes?: number;
}

/** What happened on a link. */
export interface LinkStats {
  sent: number;
  delivered: number;
  lost: number;
  queueDrops: number;
  duplicated: number;
  reordered: number;
}

interface InFlight<T> {
  at: number;
  order: number;
  packet: T;
}

/** One direction of an impaired link carrying packets of type T. */
export class ImpairmentLink<T> {
  readonly stats: LinkStats = { sent: 0, delivered: 0, lost: 0, queueDrops: 0, duplicated: 0, reordered: 0 };
  private readonly rng: SeededRandom;
  private readonly o: Required<Omit<ImpairmentOptions, 'rateBytesPerMs'>> & { rateBytesPerMs: number | undefined };
  private heap: InFlight<T>[] = [];
  private order = 0;
  /** When the bottleneck finishes serializing what is queued. */
  private busyUntil = 0;
  /** Latest in-order delivery time, so jitter alone never reorders. */
  private lastAt = 0;

  constructor(options: ImpairmentOptions) {
    this.rng = new SeededRandom(options.seed);
    this.o = {
      seed: options.seed,
      loss: options.loss ?? 0,
      duplicate: options.duplicate ?? 0,
      reorder: options.reorder ?? 0,
      reorderDelayMs: options.reorderDelayMs ?? 10,
      jitterReorders: options.jitterReorders ?? false,
      delayMs: options.delayMs ?? 0,
      jitterMs: options.jitterMs ?? 0,
      rateBytesPerMs: options.rateBytesPerMs,
      queueBytes: options.queueBytes ?? 256 * 1024,
    };
  }

  /** Puts a packet of `size` bytes on the link at `now`. */
  send(packet: T, size: number, now: number): void {
    this.stats.sent++;
    let departs = now;
    if (this.o.rateBytesPerMs !== undefined) {
      const start = Math.max(now, this.busyUntil);
      const queued = (start - now) * this.o.rateBytesPerMs;
      if (queued + size > this.o.queueBytes) {
        this.stats.queueDrops++;
        return;
      }
      this.busyUntil = start + size / this.o.rateBytesPerMs;
      departs = this.busyUntil;
    }
    if (this.rng.next() < this.o.loss) {
      this.stats.lost++;
      return;
    }
    const copies = this.rng.next() < this.o.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      let at = departs + this.o.delayMs + (this.o.jitterMs > 0 ? this.rng.next() * this.o.jitterMs : 0);
      if (!this.o.jitterReorders) {
        if (at < this.lastAt) at = this.lastAt;
        this.lastAt = at;
      }
      if (this.rng.next() < this.o.reorder) {
        at += this.o.reorderDelayMs;
        this.stats.reordered++;
      }
      this.push({ at, order: this.order++, packet });
    }
  }

  /** Time of the next delivery, Infinity when nothing is in flight. */
  nextDeliveryAt(): number {
    return this.heap.length > 0 ? this.heap[0].at : Infinity;
  }

  /** Packets due at `now`, in delivery order. */
  deliver(now: number): T[] {
    const out: T[] = [];
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      out.push(this.pop().packet);
      this.stats.delivered++;
    }
    return out;
  }

  private less(a: InFlight<T>, b: InFlight<T>): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(e: InFlight<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): InFlight<T> {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A segment as TransportLayer.poll returns it. */
export interface TransportSegment {
  src: IpAddress;
  dst: IpAddress;
  segment: Uint8Array;
}

/** The part of TransportLayer the driver needs. */
export interface DrivableTransport {
  receive(segment: Uint8Array, src: IpAddress, dst: IpAddress, now: number): void;
  poll(now: number): TransportSegment[];
  pollAt(): number;
}

/** Options of {@link TransportPair}. */
export interface TransportPairOptions {
  /** Drop (and count) segments whose TCP checksum is wrong, as NetInterface would. Default true. */
  verifyChecksums?: boolean;
  /** Observe every segment as it is put on a link (for assertions on the wire). */
  onSegment?: (from: 'a' | 'b', seg: TransportSegment, now: number) => void;
  /** Transform or drop (return undefined) a segment before it enters the link. */
  filter?: (from: 'a' | 'b', seg: TransportSegment, now: number) => TransportSegment | undefined;
}

/** Two transports joined by two impairment links, driven by a fake clock. */
export class TransportPair {
  readonly clock: FakeClock;
  readonly a: DrivableTransport;
  readonly b: DrivableTransport;
  readonly ab: ImpairmentLink<TransportSegment>;
  readonly ba: ImpairmentLink<TransportSegment>;
  badChecksums = 0;
  steps = 0;
  private readonly options: TransportPairOptions;

  constructor(
    clock: FakeClock,
    a: DrivableTransport,
    b: DrivableTransport,
    ab: ImpairmentLink<TransportSegment>,
    ba: ImpairmentLink<TransportSegment>,
    options: TransportPairOptions = {},
  ) {
    this.clock = clock;
    this.a = a;
    this.b = b;
    this.ab = ab;
    this.ba = ba;
    this.options = options;
  }

  /** Time of the next thing that will happen (timer or delivery). */
  nextEventAt(): number {
    return Math.min(this.a.pollAt(), this.b.pollAt(), this.ab.nextDeliveryAt(), this.ba.nextDeliveryAt());
  }

  /**
   * Advances the clock to the next event (never backwards), delivers due packets and polls both
   * sides. Returns false when nothing at all is scheduled.
   */
  step(): boolean {
    const t = this.nextEventAt();
    if (t === Infinity) return false;
    if (t > this.clock.now) this.clock.advanceTo(t);
    const now = this.clock.now;
    this.steps++;
    for (const p of this.ab.deliver(now)) this.hand(this.b, p, now);
    for (const p of this.ba.deliver(now)) this.hand(this.a, p, now);
    this.transmit('a', this.a.poll(now), this.ab, now);
    this.transmit('b', this.b.poll(now), this.ba, now);
    return true;
  }

  /**
   * Steps until `done()` is true; throws when the clock passes `deadlineMs` (absolute) or the
   * system goes idle first, with `what` in the message.
   */
  runUntil(done: () => boolean, deadlineMs: number, what = 'condition'): void {
    while (!done()) {
      if (this.nextEventAt() > deadlineMs) throw new Error(`${what} not reached by t=${deadlineMs} ms (now ${this.clock.now} ms)`);
      if (!this.step()) throw new Error(`${what} not reached: nothing left to happen at t=${this.clock.now} ms`);
    }
  }

  /** Steps until the clock reaches `until` (absolute ms) or nothing is scheduled before it. */
  runFor(until: number): void {
    while (this.nextEventAt() <= until) this.step();
    if (this.clock.now < until) this.clock.advanceTo(until);
  }

  private hand(to: DrivableTransport, p: TransportSegment, now: number): void {
    if (this.options.verifyChecksums !== false && !verifyTcpChecksum(p.segment, p.src, p.dst)) {
      this.badChecksums++;
      return;
    }
    to.receive(p.segment, p.src, p.dst, now);
  }

  private transmit(from: 'a' | 'b', segs: TransportSegment[], link: ImpairmentLink<TransportSegment>, now: number): void {
    for (let s of segs) {
      this.options.onSegment?.(from, s, now);
      if (this.options.filter) {
        const f = this.options.filter(from, s, now);
        if (!f) continue;
        s = f;
      }
      link.send(s, s.segment.length + (s.src.length === 4 ? 20 : 40), now);
    }
  }
}
