/**
 * A token bucket driven by the caller's clock, for rate-limiting the ICMP errors we generate
 * (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f): a node must limit the rate of ICMP error messages).
 */
export class TokenBucket {
  private readonly perMs: number;
  private readonly burst: number;
  private tokens: number;
  private last: number | undefined = undefined;

  /**
   * @param perSecond tokens added per second.
   * @param burst bucket size: how many can be spent at once after a quiet period.
   * @throws {RangeError} unless both are positive.
   */
  constructor(perSecond: number, burst: number) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`perSecond must be a positive number, not ${perSecond}`);
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`burst must be at least 1, not ${burst}`);
    this.perMs = perSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Takes one token if available at `now`; false when the rate is exceeded. */
  take(now: number): boolean {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    }
    if (this.last === undefined || now > this.last) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
