/**
 * Client-side session tickets keyed by `host:port`, so the many connections of one page resume
 * instead of each paying a full handshake (and certificate check).
 *
 * - TLS 1.3 (RFC 8446 §4.6.1): the ticket, its PSK, age_add and lifetime; used once each
 *   (RFC 8446 §C.4: reuse would let observers link connections), the newest first.
 * - TLS 1.2 (RFC 5077): the opaque ticket with the master secret it stands for.
 *
 * A resumed connection inherits the certificate the full handshake verified; the cache remembers
 * that summary so the caller can show it. Entries are dropped when the trust settings change.
 */
export interface Tls13Ticket {
  version: 'tls13';
  cipherSuite: number;
  ticket: Uint8Array;
  psk: Uint8Array;
  ageAdd: number;
  /** Epoch ms when received. */
  receivedAt: number;
  lifetimeSeconds: number;
  /** What the full handshake verified (opaque to the cache). */
  certificate?: unknown;
}

export interface Tls12Ticket {
  version: 'tls12';
  cipherSuite: number;
  ticket: Uint8Array;
  masterSecret: Uint8Array;
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  receivedAt: number;
  lifetimeSeconds: number;
  certificate?: unknown;
}

export type SessionTicket = Tls13Ticket | Tls12Ticket;

/** At most this many tickets per key (OpenSSL sends two per full handshake). */
const PER_KEY = 4;
const MAX_KEYS = 256;

export class TlsTicketCache {
  private readonly entries = new Map<string, SessionTicket[]>();

  /** Remembers a ticket for `key` (`host:port` plus whatever else must match, e.g. trust options). */
  put(key: string, ticket: SessionTicket): void {
    let list = this.entries.get(key);
    if (!list) {
      if (this.entries.size >= MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
      list = [];
      this.entries.set(key, list);
    }
    list.push(ticket);
    if (list.length > PER_KEY) list.shift();
  }

  /** Takes the newest unexpired ticket for `key` (removing it: tickets are single-use). */
  take(key: string, nowMs: number): SessionTicket | undefined {
    const list = this.entries.get(key);
    if (!list) return undefined;
    while (list.length) {
      const t = list.pop()!;
      if (nowMs - t.receivedAt < t.lifetimeSeconds * 1000) {
        if (list.length === 0) this.entries.delete(key);
        return t;
      }
    }
    this.entries.delete(key);
    return undefined;
  }

  /** Forgets everything (trust settings changed). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    let n = 0;
    for (const l of this.entries.values()) n += l.length;
    return n;
  }
}
