/**
 * A userspace UDP hop that impairs traffic on purpose (there is no netem here): loss, duplication,
 * reordering, delay and jitter, decided by a seeded PRNG so a failing run can be replayed.
 *
 *   client (relay, wireguard-go) ──UDP──▶ hop.endpoint ──[impair toTarget]──▶ target (a peer)
 *   client ◀──[impair toClient]── hop ◀──UDP── target
 *
 * Like a NAT it keeps one flow: datagrams from any source on the listening socket go to the target
 * from one connected socket, and what the target sends back goes to the latest client address.
 * Each direction has its own PRNG stream, its own profile and a bounded delay queue (overflow is
 * dropped and counted, never buffered without limit). Every datagram draws the same four random
 * numbers whatever the profile, so changing one knob does not reshuffle the others' decisions.
 *
 * ```ts
 * const hop = await startImpairmentHop({ target: peer.endpoint, seed: 7, loss: 0.03 });
 * t.after(() => hop.close());
 * // point the client at hop.endpoint instead of peer.endpoint
 * hop.update({ loss: 1 });   // blackhole: the peer now looks dead
 * ```
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Endpoint } from '../src/shared/ip-address.ts';

/** What happens to each datagram in one direction. Probabilities are 0..1. */
export interface Impairment {
  readonly loss?: number;
  readonly duplicate?: number;
  /** Chance that a datagram is held back and sent right after the next one. */
  readonly reorder?: number;
  readonly delayMs?: number;
  /** Uniform ± around delayMs (never below 0). */
  readonly jitterMs?: number;
}

export type HopDirection = 'toTarget' | 'toClient';

export interface ImpairmentHopOptions extends Impairment {
  readonly target: Endpoint;
  /** Where clients send; default 127.0.0.1 and an ephemeral port. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** PRNG seed; default 1. */
  readonly seed?: number;
  /** Overrides merged over the shared fields for one direction. */
  readonly toTarget?: Impairment;
  readonly toClient?: Impairment;
  /** Most datagrams waiting in one direction's delay queue. Default 4096. */
  readonly maxQueue?: number;
}

export interface DirectionStats {
  readonly received: number;
  readonly receivedBytes: number;
  readonly forwarded: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly delayed: number;
  readonly queueDrops: number;
  /** toClient only: datagrams from the target before any client spoke. */
  readonly noClient: number;
  readonly sendErrors: number;
}

export interface HopStats {
  readonly toTarget: DirectionStats;
  readonly toClient: DirectionStats;
  /** The latest client address, if any. */
  readonly client: Endpoint | undefined;
}

export interface ImpairmentHop {
  /** Where clients send (the hop's listening socket). */
  readonly endpoint: Endpoint;
  stats(): HopStats;
  /** Replaces the profile of one or both directions from now on (e.g. `{ loss: 1 }` to blackhole). */
  update(impairment: Impairment, direction?: HopDirection | 'both'): void;
  close(): Promise<void>;
}

/** A small seeded PRNG (xorshift32 after a mixing step); returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let x = Math.imul((seed | 0) ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0 || 0x6b43a9b5;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function checkImpairment(i: Impairment, where: string): Required<Impairment> {
  const prob = (v: number | undefined, name: string): number => {
    const n = v ?? 0;
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new RangeError(`${where}${name} must be a probability 0..1, got ${v}`);
    return n;
  };
  const ms = (v: number | undefined, name: string): number => {
    const n = v ?? 0;
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`${where}${name} must be a non-negative number of ms, got ${v}`);
    return n;
  };
  return {
    loss: prob(i.loss, 'loss'),
    duplicate: prob(i.duplicate, 'duplicate'),
    reorder: prob(i.reorder, 'reorder'),
    delayMs: ms(i.delayMs, 'delayMs'),
    jitterMs: ms(i.jitterMs, 'jitterMs'),
  };
}

interface Queued {
  readonly due: number;
  readonly seq: number;
  readonly data: Buffer;
}

/** Min-heap on (due, seq): delayed datagrams in release order, arrival order among equals. */
class DueQueue {
  private readonly items: Queued[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Queued | undefined {
    return this.items[0];
  }
  private less(a: Queued, b: Queued): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
  push(q: Queued): void {
    const a = this.items;
    a.push(q);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): Queued | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.items.length = 0;
  }
}

class Direction {
  profile: Required<Impairment>;
  private readonly rng: () => number;
  private readonly queue = new DueQueue();
  private timer: NodeJS.Timeout | undefined;
  private held: Buffer | undefined;
  private heldTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private closed = false;
  readonly s = {
    received: 0,
    receivedBytes: 0,
    forwarded: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    delayed: 0,
    queueDrops: 0,
    noClient: 0,
    sendErrors: 0,
  };

  constructor(
    profile: Required<Impairment>,
    seed: number,
    private readonly maxQueue: number,
    private readonly send: (data: Buffer) => boolean,
  ) {
    this.profile = profile;
    this.rng = seededRandom(seed);
  }

  handle(data: Buffer): void {
    if (this.closed) return;
    this.s.received++;
    this.s.receivedBytes += data.length;
    const p = this.profile;
    const rLoss = this.rng();
    const rDup = this.rng();
    const rReorder = this.rng();
    const rJitter = this.rng();
    if (rLoss < p.loss) {
      this.s.lost++;
      return;
    }
    const copies = rDup < p.duplicate ? 2 : 1;
    if (copies === 2) this.s.duplicated++;
    const delay = Math.max(0, p.delayMs + (p.jitterMs ? (rJitter * 2 - 1) * p.jitterMs : 0));
    for (let c = 0; c < copies; c++) {
      if (c === 0 && rReorder < p.reorder) {
        this.hold(data);
        continue;
      }
      if (delay === 0 && this.queue.size === 0) this.emit(data);
      else this.enqueue(performance.now() + delay, data);
    }
  }

  private hold(data: Buffer): void {
    if (this.held) this.releaseHeld();
    this.s.reordered++;
    this.held = data;
    // If no later datagram comes along, let it go anyway (it is late, not lost).
    this.heldTimer = setTimeout(() => this.releaseHeld(), Math.max(10, this.profile.delayMs * 2));
  }

  private releaseHeld(): void {
    const h = this.held;
    this.held = undefined;
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (h) this.transmit(h);
  }

  private enqueue(due: number, data: Buffer): void {
    if (this.queue.size >= this.maxQueue) {
      this.s.queueDrops++;
      return;
    }
    this.s.delayed++;
    this.queue.push({ due, seq: this.seq++, data });
    this.arm();
  }

  private arm(): void {
    const head = this.queue.peek();
    if (this.timer || !head || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = performance.now();
      for (let q = this.queue.peek(); q && q.due <= now + 0.5; q = this.queue.peek()) this.emit(this.queue.pop()!.data);
      this.arm();
    }, Math.max(0, head.due - performance.now()));
  }

  private transmit(data: Buffer): void {
    if (this.closed) return;
    if (this.send(data)) this.s.forwarded++;
  }

  /** Sends `data`, then a held-back datagram (which thereby arrives after it: reordered). */
  private emit(data: Buffer): void {
    this.transmit(data);
    if (this.held) this.releaseHeld();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.queue.clear();
    this.held = undefined;
  }
}

function bindSocket(sock: Socket, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, address: host, exclusive: true }, () => {
      sock.removeListener('error', reject);
      resolve();
    });
  });
}

function growBuffers(sock: Socket): void {
  // The kernel caps these at net.core.[rw]mem_max; a bigger buffer only helps bulk benchmarks.
  try {
    sock.setRecvBufferSize(4 * 1024 * 1024);
    sock.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    // keep the defaults
  }
}

/** Starts the hop; resolves once both sockets are bound (and the target socket connected). */
export async function startImpairmentHop(options: ImpairmentHopOptions): Promise<ImpairmentHop> {
  const { target } = options;
  if (!target || typeof target.host !== 'string' || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new RangeError(`target must be { host, port } with port 1..65535, got ${JSON.stringify(target)}`);
  }
  const shared: Impairment = {
    loss: options.loss,
    duplicate: options.duplicate,
    reorder: options.reorder,
    delayMs: options.delayMs,
    jitterMs: options.jitterMs,
  };
  const defined = (i: Impairment | undefined): Impairment =>
    Object.fromEntries(Object.entries(i ?? {}).filter(([, v]) => v !== undefined)) as Impairment;
  const profileTo = checkImpairment({ ...defined(shared), ...defined(options.toTarget) }, 'toTarget.');
  const profileBack = checkImpairment({ ...defined(shared), ...defined(options.toClient) }, 'toClient.');
  const seed = options.seed ?? 1;
  const maxQueue = options.maxQueue ?? 4096;
  const listenHost = options.listen?.host ?? '127.0.0.1';

  const front = createSocket(isIPv6(listenHost) ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  const back = createSocket(isIPv6(target.host) ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  let client: Endpoint | undefined;
  let closed = false;

  const toTarget = new Direction(profileTo, seed, maxQueue, (data) => {
    back.send(data, (err) => {
      if (err) toTarget.s.sendErrors++;
    });
    return true;
  });
  const toClient = new Direction(profileBack, seed ^ 0x2c1b3c6d, maxQueue, (data) => {
    if (!client) {
      toClient.s.noClient++;
      return false;
    }
    front.send(data, client.port, client.host, (err) => {
      if (err) toClient.s.sendErrors++;
    });
    return true;
  });

  try {
    await bindSocket(front, options.listen?.port ?? 0, listenHost);
    await bindSocket(back, 0, undefined);
    await new Promise<void>((resolve, reject) => {
      back.once('error', reject);
      back.connect(target.port, target.host, () => {
        back.removeListener('error', reject);
        resolve();
      });
    });
  } catch (e) {
    front.close();
    back.close();
    throw new Error(`impairment hop could not start (listen ${listenHost}, target ${target.host}:${target.port}): ${(e as Error).message}`, {
      cause: e,
    });
  }
  growBuffers(front);
  growBuffers(back);
  // ICMP errors surface as socket errors on connected UDP sockets; they are counted, not fatal.
  front.on('error', () => toClient.s.sendErrors++);
  back.on('error', () => toTarget.s.sendErrors++);
  front.on('message', (msg, rinfo) => {
    if (!client || client.port !== rinfo.port || client.host !== rinfo.address) client = { host: rinfo.address, port: rinfo.port };
    toTarget.handle(msg);
  });
  back.on('message', (msg) => toClient.handle(msg));

  const addr = front.address();
  return {
    endpoint: { host: addr.address, port: addr.port },
    stats: () => ({ toTarget: { ...toTarget.s }, toClient: { ...toClient.s }, client }),
    update(impairment: Impairment, direction: HopDirection | 'both' = 'both') {
      if (direction === 'both' || direction === 'toTarget') {
        toTarget.profile = checkImpairment({ ...toTarget.profile, ...defined(impairment) }, 'toTarget.');
      }
      if (direction === 'both' || direction === 'toClient') {
        toClient.profile = checkImpairment({ ...toClient.profile, ...defined(impairment) }, 'toClient.');
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      toTarget.close();
      toClient.close();
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => back.close(() => r()))]);
    },
  };
}
