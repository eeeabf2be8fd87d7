/**
 * The send buffer: one byte ring holding everything written by the application and not yet
 * acknowledged (RFC 9293 §3.3.1: from SND.UNA onward, sent or not).
 *
 *   app send() ──▶ write() (accepts what fits) ──▶ ring ──▶ copyOut(offset) into each segment
 *   ACK advances SND.UNA ──▶ consume(n)
 *
 * The ring is allocated small and doubled on demand up to the capacity, so an idle socket costs
 * little and a bulk sender pays a handful of copies in total, never per segment.
 */

/** Bounded byte ring; offsets are relative to the oldest unacknowledged byte. */
export class SendBuffer {
  private buf: Uint8Array;
  private head = 0;
  private len = 0;
  /** Upper bound on buffered bytes. */
  readonly capacity: number;

  constructor(capacity: number, initialAllocation = Math.min(capacity, 16 * 1024)) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`send buffer capacity must be a positive integer, not ${capacity}`);
    this.capacity = capacity;
    this.buf = new Uint8Array(Math.max(1, Math.min(initialAllocation, capacity)));
  }

  /** Bytes held (sent and unacknowledged, plus unsent). */
  get length(): number {
    return this.len;
  }

  /** Bytes that {@link write} would accept now. */
  get free(): number {
    return this.capacity - this.len;
  }

  /** Appends as much of `data` as fits; returns how many bytes were taken. */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.capacity - this.len);
    if (n === 0) return 0;
    if (this.len + n > this.buf.length) this.grow(this.len + n);
    const buf = this.buf;
    const size = buf.length;
    let tail = this.head + this.len;
    if (tail >= size) tail -= size;
    const first = Math.min(n, size - tail);
    buf.set(first === data.length ? data : data.subarray(0, first), tail);
    if (first < n) buf.set(data.subarray(first, n), 0);
    this.len += n;
    return n;
  }

  /** Copies `length` bytes starting `offset` bytes after the oldest byte into `dest` at `destOffset`. */
  copyOut(offset: number, length: number, dest: Uint8Array, destOffset: number): void {
    if (offset < 0 || length < 0 || offset + length > this.len) {
      throw new RangeError(`copyOut(${offset}, ${length}) outside the ${this.len} buffered bytes`);
    }
    const buf = this.buf;
    const size = buf.length;
    let start = this.head + offset;
    if (start >= size) start -= size;
    const first = Math.min(length, size - start);
    dest.set(buf.subarray(start, start + first), destOffset);
    if (first < length) dest.set(buf.subarray(0, length - first), destOffset + first);
  }

  /** Drops the `n` oldest bytes (they were acknowledged). */
  consume(n: number): void {
    if (n < 0 || n > this.len) throw new RangeError(`consume(${n}) with ${this.len} bytes buffered`);
    this.len -= n;
    if (this.len === 0) {
      this.head = 0;
      return;
    }
    this.head += n;
    if (this.head >= this.buf.length) this.head -= this.buf.length;
  }

  /** Empties the buffer (abort/reset). */
  clear(): void {
    this.head = 0;
    this.len = 0;
  }

  private grow(needed: number): void {
    let size = this.buf.length;
    while (size < needed) size *= 2;
    if (size > this.capacity) size = this.capacity;
    const next = new Uint8Array(size);
    if (this.len > 0) this.copyOut(0, this.len, next, 0);
    this.buf = next;
    this.head = 0;
  }
}
