/**
 * The resolver's answer cache: positive answers for their TTL (RFC 1035 §3.2.1, capped), negative
 * answers (NXDOMAIN and NODATA) for the SOA-derived time of RFC 2308 §5. Bounded: the least
 * recently used entry goes first. Time is passed in (`now`, ms), never read from a clock.
 */
import type { IpAddress } from '../../shared/ip-address.ts';

/** What the cache stores for one (name, type). */
export type DnsCacheValue =
  | {
      kind: 'addresses';
      addresses: IpAddress[];
      /** The name the addresses belong to after following CNAMEs. */
      canonicalName: string;
      server: IpAddress;
    }
  | { kind: 'nxdomain'; server: IpAddress }
  | { kind: 'nodata'; server: IpAddress };

/** A hit: the stored value and the seconds it has left. */
export type DnsCacheHit = DnsCacheValue & { ttl: number };

export interface DnsCacheOptions {
  /** Entries kept at most (default 512); 0 disables caching. */
  maxEntries?: number;
  /** Upper bound on positive TTLs in seconds (default one day, as RFC 8767 §4 suggests for stale data). */
  maxTtlSeconds?: number;
  /** Upper bound on negative TTLs in seconds (default 3 hours, RFC 2308 §5). */
  maxNegativeTtlSeconds?: number;
}

interface Entry {
  value: DnsCacheValue;
  expiresAt: number;
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;

  constructor(options: DnsCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 512;
    this.maxTtl = options.maxTtlSeconds ?? 86_400;
    this.maxNegativeTtl = options.maxNegativeTtlSeconds ?? 10_800;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 0) {
      throw new RangeError(`maxEntries must be a non-negative integer, not ${options.maxEntries}`);
    }
  }

  private static key(name: string, type: number): string {
    return `${type} ${name.toLowerCase()}`;
  }

  /** The live entry for (name, type) at `now`, or `undefined`. */
  get(name: string, type: number, now: number): DnsCacheHit | undefined {
    const key = DnsCache.key(name, type);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-insert to mark it most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, e);
    return { ...e.value, ttl: Math.ceil((e.expiresAt - now) / 1000) };
  }

  /** Stores `value` for `ttlSeconds` (clamped); a TTL of 0 is not stored (RFC 1035 §3.2.1). */
  set(name: string, type: number, value: DnsCacheValue, ttlSeconds: number, now: number): void {
    if (this.maxEntries === 0) return;
    const cap = value.kind === 'addresses' ? this.maxTtl : this.maxNegativeTtl;
    const ttl = Math.min(Math.max(0, Math.floor(ttlSeconds)), cap);
    if (ttl === 0) return;
    const key = DnsCache.key(name, type);
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + ttl * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
