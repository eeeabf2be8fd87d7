/**
 * Connection quality over time (issue #15 item 7): a bounded ring of samples, one per interval
 * (default every 5 s for 1 h), of what a person asks when a tunnel "feels slow": how much flowed,
 * how long a round trip took, what got lost, how old the handshake is.
 *
 *   Session timer ──▶ QualityHistory.record(now, epochMs, totals) ──▶ one QualitySample
 *                      totals are cumulative counters (bytes, retransmits, drops) and gauges (RTTs)
 *                      ──▶ rates and counts are the difference to the previous totals / elapsed time
 *   Session.ping   ──▶ notePing(rttMs | undefined)  ──▶ folded into the next sample (average, lost)
 *   Session.quality() ──▶ snapshot(): the samples, oldest first, plus the interval and capacity
 *
 * Sans-IO: it reads no clock and owns no timer; the caller passes `now` (monotonic ms) and the
 * epoch time of the sample, so tests drive it with a fake clock. A counter that went backwards
 * (a relay transport replaced, a socket gone) counts as a fresh start, never as a negative rate.
 */

/** Cumulative counters and current gauges, read by the Session at each sample. */
export interface QualityTotals {
  /** WireGuard data bytes sent and received, all peers (`wg show` transfer). */
  txBytes: number;
  rxBytes: number;
  /** TCP segments retransmitted so far (a loss indicator inside the tunnel). */
  tcpRetransmits: number;
  /** Datagrams the relay transport dropped so far (queue full, backpressure, closed…). */
  relayDrops: number;
  /** WebSocket-open time of the relay in use (two round trips to it), when measured. */
  relayRttMs?: number;
  /** Smoothed RTT (RFC 6298 SRTT) of live TCP connections through the tunnel, averaged; absent without one. */
  tcpRttMs?: number;
  /** Epoch ms of the most recent completed handshake of any peer; absent before the first. */
  latestHandshakeAt?: number;
}

/** One point of the history. Rates are over the interval that ends at `at`. */
export interface QualitySample {
  /** Epoch ms at the end of the interval. */
  at: number;
  /** Length of the interval, ms (the first sample covers the time since the history began). */
  intervalMs: number;
  /** Throughput through the tunnel over the interval, bits per second. */
  txBps: number;
  rxBps: number;
  relayRttMs?: number;
  tcpRttMs?: number;
  /** Average RTT of ping replies in the interval; absent when nothing was pinged. */
  pingRttMs?: number;
  /** Pings sent (answered or not) and lost in the interval. */
  pingsSent: number;
  pingsLost: number;
  /** TCP segments retransmitted and relay datagrams dropped in the interval. */
  tcpRetransmits: number;
  relayDrops: number;
  /** ms since the latest handshake at `at`; absent before the first. */
  handshakeAgeMs?: number;
}

/** What {@link QualityHistory.snapshot} (and `Session.quality()`, `wgweb.quality()`) return. */
export interface QualityHistorySnapshot {
  intervalMs: number;
  capacity: number;
  samples: QualitySample[];
}

export interface QualityHistoryOptions {
  /** Time between samples, ms (default 5000); the Session's timer uses it. */
  intervalMs?: number;
  /** Samples kept; the oldest goes first (default 720: one hour of 5 s samples). */
  capacity?: number;
}

export const DEFAULT_QUALITY_INTERVAL_MS = 5000;
export const DEFAULT_QUALITY_CAPACITY = 720;

/** See the module comment. */
export class QualityHistory {
  readonly intervalMs: number;
  readonly capacity: number;
  private readonly ring: QualitySample[] = [];
  /** Index of the oldest sample once the ring is full. */
  private head = 0;
  private previous: { now: number; totals: QualityTotals } | undefined;
  private pingRtts: number[] = [];
  private pingsLost = 0;

  constructor(options: QualityHistoryOptions = {}) {
    const intervalMs = options.intervalMs ?? DEFAULT_QUALITY_INTERVAL_MS;
    const capacity = options.capacity ?? DEFAULT_QUALITY_CAPACITY;
    if (!(Number.isFinite(intervalMs) && intervalMs >= 100)) throw new RangeError(`the quality interval must be at least 100 ms, not ${intervalMs}`);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000) throw new RangeError(`the quality capacity must be 1 to 100000 samples, not ${capacity}`);
    this.intervalMs = intervalMs;
    this.capacity = capacity;
  }

  /**
   * Sets the baseline without adding a sample: the first {@link record} measures from here.
   * Without it, the first record only sets the baseline (no rate can be computed from one reading).
   */
  start(now: number, totals: QualityTotals): void {
    this.previous = { now, totals: { ...totals } };
  }

  /** A ping result for the next sample: its RTT, or `undefined` for a request that got no reply. */
  notePing(rttMs: number | undefined): void {
    if (rttMs === undefined) this.pingsLost++;
    else if (Number.isFinite(rttMs) && rttMs >= 0) this.pingRtts.push(rttMs);
    if (this.pingRtts.length > 10_000) this.pingRtts.splice(0, this.pingRtts.length - 10_000);
  }

  /**
   * Closes the interval that ends at `now` (monotonic ms; `at` is its epoch time) and adds its
   * sample. Returns the sample, or undefined for the first reading (baseline only) or when `now`
   * has not moved.
   */
  record(now: number, at: number, totals: QualityTotals): QualitySample | undefined {
    const prev = this.previous;
    this.previous = { now, totals: { ...totals } };
    if (!prev || !(now > prev.now)) return undefined;
    const elapsed = now - prev.now;
    const delta = (key: 'txBytes' | 'rxBytes' | 'tcpRetransmits' | 'relayDrops'): number => {
      const d = totals[key] - prev.totals[key];
      // Went backwards: the counter restarted (a new relay transport); count from zero.
      return d >= 0 ? d : Math.max(0, totals[key]);
    };
    const sample: QualitySample = {
      at,
      intervalMs: Math.round(elapsed),
      txBps: Math.round((delta('txBytes') * 8 * 1000) / elapsed),
      rxBps: Math.round((delta('rxBytes') * 8 * 1000) / elapsed),
      pingsSent: this.pingRtts.length + this.pingsLost,
      pingsLost: this.pingsLost,
      tcpRetransmits: delta('tcpRetransmits'),
      relayDrops: delta('relayDrops'),
    };
    if (totals.relayRttMs !== undefined) sample.relayRttMs = round1(totals.relayRttMs);
    if (totals.tcpRttMs !== undefined) sample.tcpRttMs = round1(totals.tcpRttMs);
    if (this.pingRtts.length) sample.pingRttMs = round1(this.pingRtts.reduce((a, b) => a + b, 0) / this.pingRtts.length);
    if (totals.latestHandshakeAt !== undefined) sample.handshakeAgeMs = Math.max(0, Math.round(at - totals.latestHandshakeAt));
    this.pingRtts = [];
    this.pingsLost = 0;
    if (this.ring.length < this.capacity) this.ring.push(sample);
    else {
      this.ring[this.head] = sample;
      this.head = (this.head + 1) % this.capacity;
    }
    return sample;
  }

  /** The samples, oldest first. */
  samples(): QualitySample[] {
    return [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
  }

  snapshot(): QualityHistorySnapshot {
    return { intervalMs: this.intervalMs, capacity: this.capacity, samples: this.samples() };
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
