/**
 * The receive buffer: one byte ring for in-order data waiting for the application, with the
 * out-of-order data stored in place beyond it and tracked by a bounded assembler (RFC 9293
 * §3.10.7.4 "segment text"; RFC 2018 for reporting the islands as SACK blocks).
 *
 *   segment payload ──▶ write(offset from RCV.NXT) ──▶ ring (in place) + island list
 *                              └─ returns how far the contiguous data (RCV.NXT) advanced
 *   app recv() ──▶ read()/readInto() ──▶ frees window
 *
 * Positions are absolute stream offsets (bytes since the first data byte), so islands never need
 * renumbering. The ring is allocated lazily and doubled up to the current capacity, which the
 * socket raises while auto-tuning the window.
 */
import { MAX_OUT_OF_ORDER_RANGES } from './tcp-constants.ts';

/** How many recently touched islands are remembered for SACK ordering (RFC 2018 §4). */
const RECENT_ISLANDS = 4;

/** Bounded ring with an out-of-order assembler. */
export class ReceiveBuffer {
  private buf: Uint8Array;
  private head = 0;
  private len = 0;
  /** Absolute stream offset of the first unread byte. */
  private base = 0;
  /** Islands of out-of-order data: sorted, disjoint, non-adjacent absolute [start, end) pairs. */
  private starts: number[] = [];
  private ends: number[] = [];
  /** Absolute offsets of recently received out-of-order segments, most recent first. */
  private recent: number[] = [];
  private cap: number;
  private readonly maxRanges: number;

  constructor(capacity: number, maxRanges = MAX_OUT_OF_ORDER_RANGES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`receive buffer capacity must be a positive integer, not ${capacity}`);
    this.cap = capacity;
    this.maxRanges = maxRanges;
    this.buf = new Uint8Array(Math.min(capacity, 16 * 1024));
  }

  /** Current capacity (the most that may be buffered, in order or not). */
  get capacity(): number {
    return this.cap;
  }

  /** In-order bytes waiting to be read. */
  get readable(): number {
    return this.len;
  }

  /** Space beyond the in-order data: the receive window this buffer can honour. */
  get free(): number {
    return this.cap - this.len;
  }

  /** Number of out-of-order islands held. */
  get islandCount(): number {
    return this.starts.length;
  }

  /** Absolute stream offset just past the in-order data (corresponds to RCV.NXT). */
  get contiguousEnd(): number {
    return this.base + this.len;
  }

  /** Total bytes read by the application so far. */
  get totalRead(): number {
    return this.base;
  }

  /** Raises the capacity (never lowers it: the advertised right edge must not move left, RFC 9293 §3.8.6.2.1). */
  growCapacity(capacity: number): void {
    if (capacity > this.cap) this.cap = capacity;
  }

  /**
   * Stores `data` that starts `offset` bytes after RCV.NXT, clipped to the capacity. Returns how
   * many bytes became contiguous (how far RCV.NXT moves), or -1 when the data was not stored
   * because it would have opened one island too many.
   */
  write(offset: number, data: Uint8Array): number {
    const limit = this.cap - this.len;
    let end = offset + data.length;
    if (end > limit) end = limit;
    if (offset < 0 || end <= offset) return 0;
    const absStart = this.base + this.len + offset;
    const absEnd = absStart + (end - offset);
    if (offset > 0 && !this.addIsland(absStart, absEnd)) return -1;
    this.copyIn(offset, data, end - offset);
    if (offset > 0) return 0;
    // In order: extend the contiguous run and swallow the islands it now reaches.
    let contiguous = absEnd;
    const starts = this.starts;
    const ends = this.ends;
    let k = 0;
    while (k < starts.length && starts[k] <= contiguous) {
      if (ends[k] > contiguous) contiguous = ends[k];
      k++;
    }
    if (k > 0) {
      starts.splice(0, k);
      ends.splice(0, k);
    }
    const advanced = contiguous - (this.base + this.len);
    this.len += advanced;
    if (this.recent.length > 0) this.recent = this.recent.filter((p) => p >= contiguous);
    return advanced;
  }

  /** Copies up to `max` in-order bytes out and frees them; undefined when nothing is readable. */
  read(max = Infinity): Uint8Array | undefined {
    const n = Math.min(max, this.len);
    if (n <= 0) return undefined;
    const out = new Uint8Array(n);
    this.readInto(out);
    return out;
  }

  /** Copies in-order bytes into `dest` (as many as fit) and frees them; returns the count. */
  readInto(dest: Uint8Array): number {
    const n = Math.min(dest.length, this.len);
    if (n === 0) return 0;
    const buf = this.buf;
    const size = buf.length;
    const first = Math.min(n, size - this.head);
    dest.set(buf.subarray(this.head, this.head + first), 0);
    if (first < n) dest.set(buf.subarray(0, n - first), first);
    this.head += n;
    if (this.head >= size) this.head -= size;
    this.len -= n;
    this.base += n;
    if (this.len === 0 && this.starts.length === 0) this.head = 0;
    return n;
  }

  /** Frees up to `n` in-order bytes without copying them (data arriving after the application closed); returns the count. */
  discard(n: number): number {
    const k = Math.min(n, this.len);
    if (k <= 0) return 0;
    this.head += k;
    if (this.head >= this.buf.length) this.head -= this.buf.length;
    this.len -= k;
    this.base += k;
    if (this.len === 0 && this.starts.length === 0) this.head = 0;
    return k;
  }

  /**
   * Up to `max` islands as absolute [start, end) pairs for SACK blocks: the island holding the most
   * recently received segment first, then other recently reported ones, then the rest in order
   * (RFC 2018 §4).
   */
  sackRanges(max: number): number[] {
    const out: number[] = [];
    if (this.starts.length === 0 || max <= 0) return out;
    const used: number[] = [];
    for (const p of this.recent) {
      const k = this.islandIndex(p);
      if (k < 0 || used.includes(k)) continue;
      used.push(k);
      out.push(this.starts[k], this.ends[k]);
      if (used.length === max) return out;
    }
    for (let k = 0; k < this.starts.length && used.length < max; k++) {
      if (used.includes(k)) continue;
      used.push(k);
      out.push(this.starts[k], this.ends[k]);
    }
    return out;
  }

  /** Discards everything (reset/abort). */
  clear(): void {
    this.base += this.len;
    this.head = 0;
    this.len = 0;
    this.starts = [];
    this.ends = [];
    this.recent = [];
  }

  private islandIndex(pos: number): number {
    const starts = this.starts;
    for (let k = 0; k < starts.length; k++) if (pos >= starts[k] && pos < this.ends[k]) return k;
    return -1;
  }

  /** Records [s, e) as out-of-order data; false when it would exceed the island bound. */
  private addIsland(s: number, e: number): boolean {
    const starts = this.starts;
    const ends = this.ends;
    // First island that ends at or after s (touching counts, so adjacent islands merge).
    let i = 0;
    while (i < starts.length && ends[i] < s) i++;
    let j = i;
    while (j < starts.length && starts[j] <= e) j++;
    // Islands i..j-1 overlap or touch [s, e).
    if (j === i) {
      if (starts.length >= this.maxRanges) return false;
      starts.splice(i, 0, s);
      ends.splice(i, 0, e);
    } else {
      const ns = Math.min(s, starts[i]);
      const ne = Math.max(e, ends[j - 1]);
      starts.splice(i, j - i, ns);
      ends.splice(i, j - i, ne);
    }
    const recent = this.recent;
    const at = recent.indexOf(s);
    if (at >= 0) recent.splice(at, 1);
    recent.unshift(s);
    if (recent.length > RECENT_ISLANDS) recent.length = RECENT_ISLANDS;
    return true;
  }

  private copyIn(offset: number, data: Uint8Array, n: number): void {
    const need = this.len + offset + n;
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    const size = buf.length;
    let pos = this.head + this.len + offset;
    if (pos >= size) pos -= size;
    const first = Math.min(n, size - pos);
    buf.set(first === data.length ? data : data.subarray(0, first), pos);
    if (first < n) buf.set(data.subarray(first, n), 0);
  }

  private grow(needed: number): void {
    let size = this.buf.length;
    while (size < needed) size *= 2;
    if (size > this.cap) size = Math.max(this.cap, needed);
    const next = new Uint8Array(size);
    // Move everything up to the furthest island, in order, to the start of the new ring.
    const extent = this.starts.length > 0 ? this.ends[this.ends.length - 1] - this.base : this.len;
    const old = this.buf;
    const first = Math.min(extent, old.length - this.head);
    next.set(old.subarray(this.head, this.head + first), 0);
    if (first < extent) next.set(old.subarray(0, extent - first), first);
    this.buf = next;
    this.head = 0;
  }
}
