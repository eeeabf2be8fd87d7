/**
 * A token bucket (one per relay session) for datagrams from the browser toward the endpoint.
 * Sans-IO: the caller passes the current time, so tests drive it with a fake clock.
 *
 * Tokens accrue at `ratePerSecond` up to `burst`; each datagram takes one. A full bucket lets a
 * client send `burst` datagrams back to back (a browser event loop delivers in bursts), while the
 * long-run rate stays at `ratePerSecond`.
 */
export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number | undefined;

  /**
   * @throws {RangeError} when the rate or burst is not a positive finite number.
   */
  constructor(options: { ratePerSecond: number; burst: number }) {
    const { ratePerSecond, burst } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) throw new RangeError(`rate must be a positive number, not ${ratePerSecond}`);
    if (!(Number.isFinite(burst) && burst >= 1)) throw new RangeError(`burst must be at least 1, not ${burst}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
  }

  /**
   * Takes one token at time `now` (milliseconds, monotonic).
   * @returns true when the datagram may pass, false when it must be dropped.
   */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Tokens available at `now` (for stats and tests). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    if (this.last === undefined) {
      this.last = now;
      return;
    }
    // A clock that steps backwards (it should not; we use a monotonic one) adds nothing.
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
