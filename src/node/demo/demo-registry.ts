/**
 * Who may use the demo peer right now: one registration per client key pair handed out by
 * `GET /api/demo/config`, each with a tunnel address of its own. Sans-IO: the caller passes
 * `now` and what the tunnel saw, and applies the expiries it gets back (removing the peer).
 *
 *   register(publicKey, now) ──▶ next free host number ──▶ 10.44.0.N/32 + fd44::N/128
 *   sweep(now, activity) ──▶ registrations with no handshake within pendingTtl of issue, or no
 *                            datagram for idleTtl ──▶ released (address free again) ──▶ returned
 *
 * Host numbers are handed out round-robin, so an address freed by an expiry is the last one to be
 * reused: a stale client that wakes up finds its key gone rather than someone else's address.
 */
import { formatIp, type IpAddress, type IpPrefix } from '../../shared/ip-address.ts';

/** One client allowed to use the demo peer. */
export interface DemoRegistration {
  /** The client's public key, base64 (a Tunnel PeerId). */
  readonly publicKey: string;
  /** Host number inside the demo networks (2 for 10.44.0.2 / fd44::2). */
  readonly host: number;
  readonly address4: IpAddress;
  readonly address6: IpAddress;
  /** `now` of registration. */
  readonly issuedAt: number;
  /** Who asked (for logs and per-IP accounting), e.g. `127.0.0.1`. */
  readonly requestedBy: string | undefined;
  /** Last time traffic from the client was seen (issuedAt until then). */
  lastActivityAt: number;
  /** Whether a handshake (or any datagram) from the client was ever seen. */
  active: boolean;
  /** Received-bytes counter at the last sweep, to notice new traffic. */
  lastRxBytes: number;
}

/** What the tunnel knows about one peer, for {@link DemoRegistry.sweep}. */
export interface PeerActivity {
  /** Bytes received from the peer so far (handshakes included). */
  rxBytes: number;
}

export interface DemoRegistryOptions {
  /** The demo peer's IPv4 network (its own address is excluded). */
  network4: IpPrefix;
  network6: IpPrefix;
  /** The demo peer's own addresses, never handed out. */
  reserved: readonly IpAddress[];
  /** Registrations at once. */
  capacity: number;
  /** Withdraw a registration that saw no traffic this long after issue. */
  pendingTtlMs: number;
  /** Withdraw a registration whose traffic stopped this long ago. */
  idleTtlMs: number;
}

/** Why a registration ended. */
export type ExpiryReason = 'never-connected' | 'idle' | 'removed';

/** See the module comment. */
export class DemoRegistry {
  readonly capacity: number;
  readonly pendingTtlMs: number;
  readonly idleTtlMs: number;
  private readonly byKey = new Map<string, DemoRegistration>();
  private readonly byHost = new Map<number, DemoRegistration>();
  private readonly hosts: number[];
  private readonly base4: IpAddress;
  private readonly base6: IpAddress;
  private cursor = 0;

  /** @throws {RangeError} for networks too small for the capacity, or bad numbers. */
  constructor(options: DemoRegistryOptions) {
    const { network4, network6 } = options;
    if (network4.address.length !== 4 || network6.address.length !== 16) throw new RangeError('network4 must be IPv4 and network6 IPv6');
    if (network4.prefixLength < 16 || network4.prefixLength > 30) throw new RangeError(`network4 must be a /16 to /30, not /${network4.prefixLength}`);
    if (network6.prefixLength > 112) throw new RangeError(`network6 must be /112 or larger, not /${network6.prefixLength}`);
    for (const [name, v] of [
      ['pendingTtlMs', options.pendingTtlMs],
      ['idleTtlMs', options.idleTtlMs],
    ] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number of milliseconds, not ${v}`);
    }
    this.base4 = mask(network4);
    this.base6 = mask(network6);
    const hostBits = 32 - network4.prefixLength;
    const reserved = new Set(options.reserved.map((a) => hostNumber(a, a.length === 4 ? this.base4 : this.base6)));
    this.hosts = [];
    // Skip the network address (0) and, in IPv4, the broadcast address (all ones).
    for (let h = 1; h < 2 ** hostBits - 1; h++) if (!reserved.has(h)) this.hosts.push(h);
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${options.capacity}`);
    if (options.capacity > this.hosts.length) {
      throw new RangeError(`capacity ${options.capacity} does not fit ${formatIp(this.base4)}/${network4.prefixLength} (${this.hosts.length} free addresses)`);
    }
    this.capacity = options.capacity;
    this.pendingTtlMs = options.pendingTtlMs;
    this.idleTtlMs = options.idleTtlMs;
  }

  get size(): number {
    return this.byKey.size;
  }

  get full(): boolean {
    return this.byKey.size >= this.capacity;
  }

  /** Every registration, oldest first. */
  list(): DemoRegistration[] {
    return [...this.byKey.values()];
  }

  get(publicKey: string): DemoRegistration | undefined {
    return this.byKey.get(publicKey);
  }

  /** The registration holding `address` (IPv4 or IPv6), if any. */
  byAddress(address: IpAddress): DemoRegistration | undefined {
    const base = address.length === 4 ? this.base4 : this.base6;
    const h = hostNumber(address, base);
    if (h === undefined) return undefined;
    const r = this.byHost.get(h);
    return r && (address.length === 4 ? same(r.address4, address) : same(r.address6, address)) ? r : undefined;
  }

  /**
   * Registers a key with the next free address.
   * @returns undefined when {@link full}.
   * @throws {RangeError} when the key is already registered.
   */
  register(publicKey: string, now: number, requestedBy?: string): DemoRegistration | undefined {
    if (this.byKey.has(publicKey)) throw new RangeError('that public key is already registered');
    if (this.full) return undefined;
    let host: number | undefined;
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[(this.cursor + i) % this.hosts.length];
      if (!this.byHost.has(h)) {
        host = h;
        this.cursor = (this.cursor + i + 1) % this.hosts.length;
        break;
      }
    }
    if (host === undefined) return undefined;
    const r: DemoRegistration = {
      publicKey,
      host,
      address4: withHost(this.base4, host),
      address6: withHost(this.base6, host),
      issuedAt: now,
      requestedBy,
      lastActivityAt: now,
      active: false,
      lastRxBytes: 0,
    };
    this.byKey.set(publicKey, r);
    this.byHost.set(host, r);
    return r;
  }

  /** Releases a registration (its address becomes free). */
  release(publicKey: string): DemoRegistration | undefined {
    const r = this.byKey.get(publicKey);
    if (!r) return undefined;
    this.byKey.delete(publicKey);
    this.byHost.delete(r.host);
    return r;
  }

  /**
   * Notes traffic and releases what expired at `now`.
   * @param activity what the tunnel saw per public key (undefined: the peer is gone from it).
   * @returns the released registrations with the reason.
   */
  sweep(now: number, activity: (publicKey: string) => PeerActivity | undefined): { registration: DemoRegistration; reason: ExpiryReason }[] {
    const out: { registration: DemoRegistration; reason: ExpiryReason }[] = [];
    for (const r of [...this.byKey.values()]) {
      const a = activity(r.publicKey);
      if (!a) {
        this.release(r.publicKey);
        out.push({ registration: r, reason: 'removed' });
        continue;
      }
      this.observe(r, a, now);
      const reason: ExpiryReason | undefined = !r.active
        ? now - r.issuedAt >= this.pendingTtlMs
          ? 'never-connected'
          : undefined
        : now - r.lastActivityAt >= this.idleTtlMs
          ? 'idle'
          : undefined;
      if (reason) {
        this.release(r.publicKey);
        out.push({ registration: r, reason });
      }
    }
    return out;
  }

  /** Notes what the tunnel saw: new received bytes mean the client is alive at `now`. */
  observe(r: DemoRegistration, activity: PeerActivity, now: number): void {
    if (activity.rxBytes === r.lastRxBytes) return;
    r.lastRxBytes = activity.rxBytes;
    r.lastActivityAt = now;
    r.active = true;
  }

  /** When the registration expires if nothing more is heard from it. */
  expiresAt(r: DemoRegistration): number {
    return r.active ? r.lastActivityAt + this.idleTtlMs : r.issuedAt + this.pendingTtlMs;
  }
}

function mask(p: IpPrefix): IpAddress {
  const out = Uint8Array.from(p.address);
  for (let bit = p.prefixLength; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** `address` minus `base` in the low 16 bits, when the bytes before those equal `base`'s; else undefined. */
function hostNumber(address: IpAddress, base: IpAddress): number | undefined {
  if (address.length !== base.length) return undefined;
  const n = address.length;
  for (let i = 0; i < n - 2; i++) if (address[i] !== base[i]) return undefined;
  const h = ((address[n - 2] << 8) | address[n - 1]) - ((base[n - 2] << 8) | base[n - 1]);
  return h >= 0 ? h : undefined;
}

function withHost(base: IpAddress, host: number): IpAddress {
  const a = Uint8Array.from(base);
  const v = ((a[a.length - 2] << 8) | a[a.length - 1]) + host;
  a[a.length - 2] = v >> 8;
  a[a.length - 1] = v & 0xff;
  return a;
}

function same(a: IpAddress, b: IpAddress): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
