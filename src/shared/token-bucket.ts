/**
 * Token buckets driven by the caller's clock (sans-IO: `now` in monotonic milliseconds, so tests
 * use a fake clock). One implementation for every rate limit wgweb keeps:
 *   - the ICMP errors the netstack generates (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f): a node must
 *     limit the rate of ICMP error messages);
 *   - the datagrams one relay session forwards toward its endpoint;
 *   - the demo's per-IP configuration requests ({@link KeyedTokenBuckets}).
 * (WireGuard's per-source handshake limiter, src/wireguard/handshake-rate-limiter.ts, keeps
 * wireguard-go's shape: integer-millisecond credit and a table that refuses when full.)
 *
 * Tokens accrue at `ratePerSecond` up to `burst`; each take spends one. A full bucket allows
 * `burst` takes back to back, while the long-run rate stays at `ratePerSecond`. A clock that
 * steps backwards adds nothing.
 */

/** Rate and depth of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket depth: how many can be spent at once after a quiet period (at least 1). */
  burst: number;
}

/** One token bucket. */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number | undefined = undefined;

  /** @throws {RangeError} when the rate is not a positive finite number or the burst is below 1. */
  constructor(options: TokenBucketOptions) {
    const { ratePerSecond, burst } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be a positive number, not ${ratePerSecond}`);
    if (!(Number.isFinite(burst) && burst >= 1)) throw new RangeError(`burst must be at least 1, not ${burst}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Takes one token at `now`; false (nothing taken) when the rate is exceeded. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens available at `now` (for stats, retry hints and tests). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    if (this.last === undefined) {
      this.last = now;
      return;
    }
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}

/**
 * One {@link TokenBucket} per key (a client IP), at most `maxKeys` of them: the least recently
 * used key is forgotten first, so a flood of new keys costs bounded memory (a forgotten key
 * starts again with a full bucket).
 */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  /** @throws {RangeError} for bad bucket options or a `maxKeys` below 1. */
  constructor(
    private readonly options: TokenBucketOptions,
    private readonly maxKeys: number,
  ) {
    new TokenBucket(options); // validates the options once, up front
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`maxKeys must be a positive integer, not ${maxKeys}`);
  }

  /**
   * Takes a token for `key` at `now`.
   * @returns 0 when allowed, else the fraction of a token still missing (in (0, 1]), from which
   *   the caller computes a retry hint in its own unit.
   */
  take(key: string, now: number): number {
    let bucket = this.buckets.get(key);
    if (bucket) this.buckets.delete(key);
    else bucket = new TokenBucket(this.options);
    this.buckets.set(key, bucket); // re-inserted: Map order is least recently used first
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.take(now)) return 0;
    return 1 - bucket.available(now);
  }

  /** Number of keys tracked. */
  get size(): number {
    return this.buckets.size;
  }
}
