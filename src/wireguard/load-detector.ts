/**
 * Decides whether the device is "under load" (WireGuard paper §5.3), the condition under which a
 * responder demands a valid MAC2 (a cookie) before doing any Diffie-Hellman work.
 *
 * The kernel looks at the length of its handshake queue; a sans-IO core has no queue, so this
 * counts handshake messages in a sliding one-second window: at UNDER_LOAD_HANDSHAKES_PER_SECOND or
 * more the device is under load, and stays so for UNDER_LOAD_AFTER_TIME_MS afterwards, like
 * wireguard-go. Tests can override the decision with `TunnelOptions.underLoad`.
 */
import { UNDER_LOAD_AFTER_TIME_MS, UNDER_LOAD_HANDSHAKES_PER_SECOND } from './constants.ts';

/** Sliding-window counter of handshake messages. */
export class LoadDetector {
  private readonly times: Float64Array;
  private next = 0;
  private count = 0;
  private underLoadUntil = -Infinity;

  constructor(threshold = UNDER_LOAD_HANDSHAKES_PER_SECOND) {
    if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError('load threshold must be a positive integer');
    this.times = new Float64Array(threshold);
  }

  /** Counts one handshake message at `now`. */
  record(now: number): void {
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.times.length;
    if (this.count < this.times.length) this.count++;
    // The oldest of the last `threshold` messages is less than a second old: over the rate.
    if (this.count === this.times.length && now - this.times[this.next] < 1000) {
      this.underLoadUntil = now + UNDER_LOAD_AFTER_TIME_MS;
    }
  }

  /** True while under load. */
  underLoad(now: number): boolean {
    return now < this.underLoadUntil;
  }
}
