/**
 * Path MTUs learned from ICMP "fragmentation needed" (RFC 1191) and ICMPv6 "packet too big"
 * (RFC 8201), per destination, bounded in size and aged out so that a path can grow again
 * (RFC 1191 §6.3 and RFC 8201 §4 suggest trying a larger MTU after about 10 minutes).
 */
import { toHex } from '../shared/bytes.ts';
import type { IpAddress } from '../shared/ip-address.ts';
import { PATH_MTU_CACHE_ENTRIES, PATH_MTU_LIFETIME_MS } from './netstack-constants.ts';

interface Entry {
  readonly mtu: number;
  readonly expiresAt: number;
}

/** Learned path MTUs; lookups fall back to the interface MTU. */
export class PathMtuCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly lifetimeMs: number;

  constructor(options: { maxEntries?: number; lifetimeMs?: number } = {}) {
    this.maxEntries = options.maxEntries ?? PATH_MTU_CACHE_ENTRIES;
    this.lifetimeMs = options.lifetimeMs ?? PATH_MTU_LIFETIME_MS;
  }

  /** Destinations with a learned MTU (expired ones included until looked up). */
  get size(): number {
    return this.entries.size;
  }

  /** The learned MTU towards `destination` at `now`, or `undefined`. */
  get(destination: IpAddress, now: number): number | undefined {
    if (this.entries.size === 0) return undefined;
    const key = toHex(destination);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.mtu;
  }

  /** Records `mtu` towards `destination` until `now + lifetime`; the oldest entry makes room. */
  set(destination: IpAddress, mtu: number, now: number): void {
    const key = toHex(destination);
    this.entries.delete(key);
    this.entries.set(key, { mtu, expiresAt: now + this.lifetimeMs });
    if (this.entries.size > this.maxEntries) {
      for (const k of this.entries.keys()) {
        this.entries.delete(k);
        break;
      }
    }
  }
}
