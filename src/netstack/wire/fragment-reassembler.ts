/**
 * Reassembly of fragmented IPv4 datagrams (RFC 791 §3.2, RFC 815) and IPv6 packets
 * (RFC 8200 §4.5), with hard limits so that a peer cannot make us hold unbounded state.
 *
 *   fragment ─▶ add(key, offset, more, data) ─▶ pending │ complete (data + first-fragment info)
 *   timer    ─▶ expire(now) ─▶ first-fragment info of timed-out datagrams (for ICMP Time Exceeded)
 *
 * Policy:
 * - Any overlap between fragments discards the whole datagram, and later fragments of it until its
 *   timeout (RFC 5722 for IPv6; applied to IPv4 too, since overlaps only serve evasion attacks).
 *   An exact duplicate (same offset, same length) is dropped alone (RFC 8200 §4.5 allows this).
 * - A non-final fragment whose length is not a multiple of 8 is dropped (RFC 8200 §4.5).
 * - A datagram longer than `maxLength`, or with conflicting ends, is discarded whole.
 * - The timer starts at the first fragment and is never extended (RFC 8200 §4.5: 60 s; Linux
 *   uses 30 s for both families, which we follow by default).
 * - At most `maxReassemblies` datagrams at once and `maxBufferedBytes` buffered in total: a new
 *   datagram evicts the oldest one (so a burst of lost fragments cannot block reassembly for a
 *   whole timeout).
 * Keys are opaque strings built by the caller (IPv4: source, destination, protocol, ID; IPv6:
 * source, destination, ID).
 */
import {
  FRAGMENT_MAX_BUFFERED_BYTES,
  FRAGMENT_MAX_PER_DATAGRAM,
  FRAGMENT_MAX_REASSEMBLIES,
  FRAGMENT_TIMEOUT_MS,
  MAX_DATAGRAM_LENGTH,
} from '../netstack-constants.ts';

/** Why fragments (or whole datagrams in reassembly) were dropped. */
export type ReassemblyDrop =
  | 'fragment-misaligned'
  | 'fragment-duplicate'
  | 'fragment-overlap'
  | 'fragment-too-long'
  | 'fragment-inconsistent'
  | 'fragment-of-discarded'
  | 'too-many-fragments'
  | 'reassembly-evicted'
  | 'reassembly-memory'
  | 'reassembly-timeout';

/** Limits of a {@link FragmentReassembler}. */
export interface FragmentReassemblerOptions {
  /** Datagrams in reassembly at once (default 16). */
  maxReassemblies?: number;
  /** Largest reassembled payload in bytes (default 65535). */
  maxLength?: number;
  /** Milliseconds from the first fragment to giving up (default 30000). */
  timeoutMs?: number;
  /** Fragments per datagram (default 64; a 1280-byte MTU needs 52 for 65535 bytes). */
  maxFragments?: number;
  /** Fragment bytes held across all datagrams (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Called once per drop, with its reason (for `stats().drops`). */
  onDrop?: (reason: ReassemblyDrop) => void;
}

/** A datagram put back together. */
export interface Reassembled<T> {
  /** The reassembled payload (a fresh buffer). */
  readonly data: Uint8Array;
  /** What the caller attached to the fragment at offset 0. */
  readonly first: T;
}

interface Piece {
  readonly offset: number;
  readonly end: number;
  readonly data: Uint8Array;
}

interface Entry<T> {
  readonly deadline: number;
  /** Sorted by offset, never overlapping. */
  pieces: Piece[];
  /** Sum of piece lengths. */
  received: number;
  /** Known once the last fragment (MF = 0) arrived, else -1. */
  total: number;
  first: T | undefined;
  /** True once the fragment at offset 0 arrived. */
  hasFirst: boolean;
  /** Discarded (overlap, inconsistency): later fragments are dropped until the deadline. */
  discarded: boolean;
}

/** Puts fragments back together; one instance per address family. */
export class FragmentReassembler<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxReassemblies: number;
  private readonly maxLength: number;
  private readonly timeoutMs: number;
  private readonly maxFragments: number;
  private readonly maxBufferedBytes: number;
  private readonly onDrop: (reason: ReassemblyDrop) => void;
  private buffered = 0;

  constructor(options: FragmentReassemblerOptions = {}) {
    this.maxReassemblies = positive(options.maxReassemblies ?? FRAGMENT_MAX_REASSEMBLIES, 'maxReassemblies');
    this.maxLength = positive(options.maxLength ?? MAX_DATAGRAM_LENGTH, 'maxLength');
    this.timeoutMs = positive(options.timeoutMs ?? FRAGMENT_TIMEOUT_MS, 'timeoutMs');
    this.maxFragments = positive(options.maxFragments ?? FRAGMENT_MAX_PER_DATAGRAM, 'maxFragments');
    this.maxBufferedBytes = positive(options.maxBufferedBytes ?? FRAGMENT_MAX_BUFFERED_BYTES, 'maxBufferedBytes');
    this.onDrop = options.onDrop ?? (() => {});
  }

  /** Datagrams currently held (in reassembly or remembered as discarded). */
  get size(): number {
    return this.entries.size;
  }

  /** Fragment bytes currently held. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds one fragment. `data` is copied, so the caller may reuse its buffer.
   * @param offset byte offset of `data` in the datagram's payload (a multiple of 8 on the wire).
   * @param more the More Fragments flag.
   * @param first caller data to keep from the fragment at offset 0 (ignored for other offsets);
   * it comes back with the datagram and from {@link expire}.
   * @returns the datagram once complete, otherwise `undefined` (pending or dropped: drops are
   * reported through `onDrop`).
   */
  add(key: string, offset: number, more: boolean, data: Uint8Array, first: T | undefined, now: number): Reassembled<T> | undefined {
    const end = offset + data.length;
    if (more && (data.length === 0 || (data.length & 7) !== 0)) {
      this.onDrop('fragment-misaligned');
      return undefined;
    }
    let entry = this.entries.get(key);
    if (entry?.discarded) {
      this.onDrop('fragment-of-discarded');
      return undefined;
    }
    if (end > this.maxLength) {
      if (entry) this.discard(entry);
      this.onDrop('fragment-too-long');
      return undefined;
    }
    if (!entry) {
      while (this.entries.size >= this.maxReassemblies) this.evictOldest();
      entry = { deadline: now + this.timeoutMs, pieces: [], received: 0, total: -1, first: undefined, hasFirst: false, discarded: false };
      this.entries.set(key, entry);
    }

    // Where the datagram ends: fixed by the last fragment, and nothing may lie beyond it.
    if (!more) {
      if (entry.total >= 0 && entry.total !== end) return this.reject(entry, 'fragment-inconsistent');
      const last = entry.pieces[entry.pieces.length - 1];
      if (last && last.end > end) return this.reject(entry, 'fragment-inconsistent');
    } else if (entry.total >= 0 && end >= entry.total) {
      return this.reject(entry, 'fragment-inconsistent');
    }

    // Insertion point, then overlap with the neighbours (pieces never overlap each other).
    const pieces = entry.pieces;
    let i = pieces.length;
    while (i > 0 && pieces[i - 1].offset >= offset) i--;
    const next = pieces[i];
    if (next && next.offset === offset && next.end === end) {
      this.onDrop('fragment-duplicate');
      return undefined;
    }
    const prev = pieces[i - 1];
    if ((prev && prev.end > offset) || (next && next.offset < end)) return this.reject(entry, 'fragment-overlap');
    if (pieces.length >= this.maxFragments) return this.reject(entry, 'too-many-fragments');

    while (this.buffered + data.length > this.maxBufferedBytes) {
      const oldest = this.oldestOtherThan(entry);
      if (!oldest) {
        this.onDrop('reassembly-memory');
        return undefined;
      }
      this.evict(oldest[0], oldest[1]);
    }

    pieces.splice(i, 0, { offset, end, data: data.slice() });
    entry.received += data.length;
    this.buffered += data.length;
    if (!more) entry.total = end;
    if (offset === 0) {
      entry.first = first;
      entry.hasFirst = true;
    }

    // Pieces never overlap, so covering [0, total) is the same as holding `total` bytes.
    if (entry.total < 0 || entry.received !== entry.total) return undefined;
    const out = new Uint8Array(entry.total);
    for (const p of pieces) out.set(p.data, p.offset);
    this.buffered -= entry.received;
    this.entries.delete(key);
    return { data: out, first: entry.first as T };
  }

  /**
   * Forgets datagrams whose time is up.
   * @returns the first-fragment data of each timed-out datagram whose fragment 0 had arrived:
   * the caller answers those with ICMP Time Exceeded, code 1 (RFC 792, RFC 4443 §3.3).
   */
  expire(now: number): T[] {
    const out: T[] = [];
    for (const [key, entry] of this.entries) {
      // Deadlines grow with insertion order, so the first live one ends the scan.
      if (entry.deadline > now) break;
      this.entries.delete(key);
      this.buffered -= entry.received;
      if (entry.discarded) continue;
      this.onDrop('reassembly-timeout');
      if (entry.hasFirst) out.push(entry.first as T);
    }
    return out;
  }

  /** When {@link expire} next has work, or Infinity. */
  pollAt(): number {
    for (const entry of this.entries.values()) return entry.deadline;
    return Infinity;
  }

  private reject(entry: Entry<T>, reason: ReassemblyDrop): undefined {
    this.discard(entry);
    this.onDrop(reason);
    return undefined;
  }

  /** Frees the fragments but remembers the key, so stragglers are dropped too (RFC 5722). */
  private discard(entry: Entry<T>): void {
    this.buffered -= entry.received;
    entry.pieces = [];
    entry.received = 0;
    entry.first = undefined;
    entry.hasFirst = false;
    entry.discarded = true;
  }

  private evictOldest(): void {
    for (const [key, entry] of this.entries) {
      this.evict(key, entry);
      return;
    }
  }

  private evict(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    this.buffered -= entry.received;
    if (!entry.discarded) this.onDrop('reassembly-evicted');
  }

  private oldestOtherThan(keep: Entry<T>): [string, Entry<T>] | undefined {
    for (const kv of this.entries) if (kv[1] !== keep && kv[1].received > 0) return kv;
    return undefined;
  }
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, not ${n}`);
  return n;
}
