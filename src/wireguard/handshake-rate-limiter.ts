/**
 * Per-source token bucket for handshake messages while under load (WireGuard paper §5.3: the
 * cookie proves the source address, the rate limit then bounds the work each address can cause).
 * Same shape as wireguard-go's ratelimiter: RATE_LIMIT_PER_SECOND with a burst of RATE_LIMIT_BURST.
 * Sans-IO: idle entries are swept lazily, at most once a second, when new messages arrive.
 */
import { RATE_LIMIT_BURST, RATE_LIMIT_MAX_SOURCES, RATE_LIMIT_PER_SECOND } from './constants.ts';

const COST_MS = 1000 / RATE_LIMIT_PER_SECOND;
const MAX_TOKENS_MS = COST_MS * RATE_LIMIT_BURST;
const SWEEP_INTERVAL_MS = 1000;

interface Bucket {
  tokens: number;
  last: number;
}

/** Token buckets keyed by source (an IP address in text form). */
export class HandshakeRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = -Infinity;

  /** Takes a token for `source`; false when the source is over its rate (or the table is full). */
  allow(source: string, now: number): boolean {
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
    let bucket = this.buckets.get(source);
    if (!bucket) {
      if (this.buckets.size >= RATE_LIMIT_MAX_SOURCES) return false;
      bucket = { tokens: MAX_TOKENS_MS, last: now };
      this.buckets.set(source, bucket);
    } else {
      bucket.tokens = Math.min(MAX_TOKENS_MS, bucket.tokens + Math.max(0, now - bucket.last));
      bucket.last = now;
    }
    if (bucket.tokens < COST_MS) return false;
    bucket.tokens -= COST_MS;
    return true;
  }

  /** Number of sources tracked. */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    // A bucket idle for a second has refilled completely: forgetting it changes nothing.
    for (const [key, bucket] of this.buckets) if (now - bucket.last >= SWEEP_INTERVAL_MS) this.buckets.delete(key);
  }
}
