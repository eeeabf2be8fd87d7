/**
 * The one event loop: the only place in wgweb's client that owns timers and drives the sans-IO
 * cores. Used by the browser worker, the CLI and the Node UDP peer alike.
 *
 * Flow of one step (every input runs the same step):
 *
 *   datagram from network ──▶ tunnel.receiveDatagram ──▶ inner packets ──▶ net.receive
 *   app call (socket write) ──┐                                               │
 *   timer fires ──────────────┴──▶ tunnel.tick / net.poll ──▶ IP packets ──▶ tunnel.sendPacket
 *                                                                              │
 *                        datagrams (data, handshakes, cookies, keepalives) ◀───┘──▶ output()
 *
 * then one timer is armed for min(tunnel.nextWakeAt(), net.pollAt()).
 *
 * Steps triggered by app calls are coalesced into a microtask so that a burst of socket writes
 * becomes one poll. Datagrams are batched the same way (receive coalescing, like the kernel's GRO):
 * the `ws` package hands over every message of a socket read in one synchronous burst, and feeding
 * them all to the stack before polling it turns one ACK per two segments into one per burst
 * (at most {@link MAX_DATAGRAMS_PER_STEP} datagrams). Browsers deliver one message per task, so
 * there the step still runs after every datagram.
 */
import type { Endpoint } from '../shared/ip-address.ts';
import type { NetInterface } from '../netstack/net-interface.ts';
import type { PeerId, Tunnel, TunnelEvent, TunnelResult } from '../wireguard/tunnel.ts';

/** Where encrypted datagrams go: the relay WebSocket, or a UDP socket. */
export type DatagramSink = (data: Uint8Array, endpoint: Endpoint, peer: PeerId) => void;

/** A monotonic clock in milliseconds (performance.now in browsers and Node). */
export type MonotonicClock = () => number;

/** Timer functions, injectable so tests can run the loop on a fake clock. */
export interface TimerFunctions {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface EventLoopOptions {
  tunnel: Tunnel;
  net: NetInterface;
  output: DatagramSink;
  clock?: MonotonicClock;
  timers?: TimerFunctions;
  /** Called for every tunnel event (handshake, cookie, rekey, keepalive ...). */
  onTunnelEvent?: (event: TunnelEvent) => void;
  /**
   * Called for every inner IP packet, in and out (packet capture, teaching views). The packet is
   * valid during the call only: an outgoing one is then sealed where it lies (sealInPlace), an
   * incoming one may be a view of a datagram buffer. Copy what you keep.
   */
  onPacket?: (direction: 'in' | 'out', packet: Uint8Array, at: number) => void;
  /**
   * Errors thrown inside a step the loop ran on its own (its timer, a wake-up): reported here and
   * contained, so one faulty socket owner cannot end the process. Without it they are rethrown.
   */
  onError?: (error: unknown) => void;
  /** Datagrams of one burst fed to the stack before a step must run; default {@link MAX_DATAGRAMS_PER_STEP}. */
  maxDatagramsPerStep?: number;
}

const defaultTimers: TimerFunctions = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Largest delay handed to setTimeout (browsers clamp above 2^31-1 ms). */
const MAX_TIMER_MS = 60_000;

/**
 * Datagrams fed to the tunnel and the stack before a step runs regardless of the pending
 * microtask. 16 full-size segments are ~22 KB per ACK, well under the 64 KB a Linux receiver's
 * GRO merges into one; measured in bench/tunnel-bench.ts (16 cuts the ACKs of a bulk download
 * from one per 2 segments to one per 16, and raised its throughput by about a third).
 */
export const MAX_DATAGRAMS_PER_STEP = 16;

/** Counters of an {@link EventLoop} since it was made (what each MB of a transfer costs in steps, #19). */
export interface EventLoopStats {
  /** Steps run (each polls the stack until quiet and re-arms the timer). */
  steps: number;
  /** `net.poll` calls (one or more per step). */
  polls: number;
  /** Inner IP packets handed to the tunnel. */
  packetsOut: number;
  /** Encrypted datagrams received. */
  datagramsIn: number;
  /** Datagrams handed to the output (data, handshakes, keepalives). */
  datagramsOut: number;
  /** Timers set (setTimeout calls; a kept timer is not counted again). */
  timersSet: number;
}

/** Drives a {@link Tunnel} and a {@link NetInterface} with real time and real I/O. */
export class EventLoop {
  readonly tunnel: Tunnel;
  readonly net: NetInterface;
  readonly clock: MonotonicClock;
  private readonly output: DatagramSink;
  private readonly timers: TimerFunctions;
  private readonly onTunnelEvent?: (event: TunnelEvent) => void;
  private readonly onPacket?: (direction: 'in' | 'out', packet: Uint8Array, at: number) => void;
  private readonly onError?: (error: unknown) => void;
  private timer: unknown = undefined;
  private timerAt = Infinity;
  private stepQueued = false;
  private closed = false;
  private running = false;
  /** Datagrams handled since the last step (see MAX_DATAGRAMS_PER_STEP). */
  private unpolled = 0;
  private readonly maxDatagramsPerStep: number;
  private readonly counters: EventLoopStats = { steps: 0, polls: 0, packetsOut: 0, datagramsIn: 0, datagramsOut: 0, timersSet: 0 };

  constructor(options: EventLoopOptions) {
    this.tunnel = options.tunnel;
    this.net = options.net;
    this.output = options.output;
    this.clock = options.clock ?? (() => performance.now());
    this.timers = options.timers ?? defaultTimers;
    this.onTunnelEvent = options.onTunnelEvent;
    this.onPacket = options.onPacket;
    this.onError = options.onError;
    this.maxDatagramsPerStep = options.maxDatagramsPerStep ?? MAX_DATAGRAMS_PER_STEP;
    if (!Number.isInteger(this.maxDatagramsPerStep) || this.maxDatagramsPerStep < 1) {
      throw new RangeError(`maxDatagramsPerStep must be a positive integer, not ${options.maxDatagramsPerStep}`);
    }
  }

  /** An encrypted datagram arrived from the network. */
  datagramIn(data: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    this.counters.datagramsIn++;
    const now = this.clock();
    this.handle(this.tunnel.receiveDatagram(data, from, now), now);
    // The step (stack output, ACKs, timer) waits for the rest of this burst; see the module comment.
    if (++this.unpolled >= this.maxDatagramsPerStep) this.step();
    else this.wake();
  }

  /** Starts a handshake now (the UI's "Connect", the CLI before its first packet). */
  connect(peer?: PeerId): void {
    if (this.closed) return;
    const now = this.clock();
    this.handle(this.tunnel.connect(now, peer), now);
    this.step();
  }

  /** Sends a keepalive now (our relay session reopened: the peer must learn the new source port). */
  keepalive(peer?: PeerId): void {
    if (this.closed) return;
    const now = this.clock();
    this.handle(this.tunnel.keepalive(now, peer), now);
    this.step();
  }

  /**
   * Something changed on the application side (a socket write, a new connection): run a step
   * soon. Calls in the same tick are coalesced.
   */
  wake(): void {
    if (this.closed || this.stepQueued) return;
    this.stepQueued = true;
    queueMicrotask(() => {
      this.stepQueued = false;
      this.guarded(() => this.step());
    });
  }

  /** Runs one step now: timers, socket output, then re-arms the single timer. */
  step(): void {
    if (this.closed || this.running) return;
    this.running = true;
    this.unpolled = 0;
    this.counters.steps++;
    try {
      const now = this.clock();
      if (this.tunnel.nextWakeAt() <= now) this.handle(this.tunnel.tick(now), now);
      // Sockets may produce more output once packets are delivered; loop until quiet, bounded
      // so one step can never starve the event loop.
      for (let round = 0; round < 64; round++) {
        const packets = this.net.poll(now);
        this.counters.polls++;
        if (packets.length === 0) break;
        this.counters.packetsOut += packets.length;
        for (const p of packets) {
          this.onPacket?.('out', p, now);
          this.handle(this.tunnel.sendPacket(p, now), now);
        }
      }
      this.arm(now);
    } finally {
      this.running = false;
    }
  }

  /** A copy of the counters. */
  stats(): EventLoopStats {
    return { ...this.counters };
  }

  /** Stops the timer; the tunnel's keys are zeroed by `tunnel.close()`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.tunnel.close();
  }

  private handle(result: TunnelResult, now: number): void {
    for (const e of result.events) this.onTunnelEvent?.(e);
    for (const p of result.packets) {
      this.onPacket?.('in', p.data, now);
      this.net.receive(p.data, now);
    }
    this.counters.datagramsOut += result.datagrams.length;
    for (const d of result.datagrams) this.output(d.data, d.endpoint, d.peer);
  }

  private arm(now: number): void {
    const at = Math.min(this.tunnel.nextWakeAt(), this.net.pollAt());
    // A timer that fires no later than needed is kept: TCP moves its retransmission and ACK
    // deadlines on nearly every segment, and re-arming each step cost a clearTimeout and a
    // setTimeout per step in a browser worker (#19). Firing early only runs a step, which re-arms.
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    const delay = Math.min(Math.max(0, at - now), MAX_TIMER_MS);
    this.counters.timersSet++;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.guarded(() => this.step());
    }, delay);
  }

  /** Runs `fn` from the loop's own callbacks: errors go to onError when there is one. */
  private guarded(fn: () => void): void {
    if (!this.onError) return fn();
    try {
      fn();
    } catch (e) {
      this.onError(e);
      // The step did not re-arm the timer: keep the loop alive for the next timeout.
      try {
        if (!this.closed && this.timer === undefined) this.arm(this.clock());
      } catch (again) {
        this.onError(again);
      }
    }
  }
}
