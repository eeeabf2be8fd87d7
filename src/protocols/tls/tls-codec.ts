/**
 * Checked reading and writing of TLS presentation-language fields (RFC 8446 §3): fixed-width
 * integers and vectors with 1-, 2- or 3-byte length prefixes. A read past the end, or a vector
 * longer than its container, throws {@link TlsDecodeError}; the client turns that into a fatal
 * `decode_error` alert (RFC 8446 §6.2) instead of letting network bytes throw anywhere else.
 */

/** Malformed bytes from the peer; carries the alert to send (decode_error unless said otherwise). */
export class TlsDecodeError extends Error {
  constructor(
    message: string,
    readonly alert = 50,
  ) {
    super(message);
    this.name = 'TlsDecodeError';
  }
}

/** A cursor over received bytes; every read checks the remaining length. */
export class TlsReader {
  private pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    private readonly what = 'message',
  ) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new TlsDecodeError(`${this.what} is truncated (needed ${n} more bytes, ${this.remaining} left)`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = (this.bytes[this.pos]! << 16) | (this.bytes[this.pos + 1]! << 8) | this.bytes[this.pos + 2]!;
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = ((this.bytes[this.pos]! << 24) >>> 0) + ((this.bytes[this.pos + 1]! << 16) | (this.bytes[this.pos + 2]! << 8) | this.bytes[this.pos + 3]!);
    this.pos += 4;
    return v;
  }

  /** `n` bytes (a view, not a copy). */
  take(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A vector with a `lenBytes`-byte length prefix; `min`/`max` are the spec's bounds. */
  vector(lenBytes: 1 | 2 | 3, min = 0, max = Infinity): Uint8Array {
    const n = lenBytes === 1 ? this.u8() : lenBytes === 2 ? this.u16() : this.u24();
    if (n < min || n > max) throw new TlsDecodeError(`${this.what}: a field of ${n} bytes is outside ${min}..${max}`);
    return this.take(n);
  }

  /** A reader over a length-prefixed vector. */
  sub(lenBytes: 1 | 2 | 3, what = this.what): TlsReader {
    return new TlsReader(this.vector(lenBytes), what);
  }

  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  /** Refuses trailing bytes after a fully parsed structure. */
  end(): void {
    if (this.remaining !== 0) throw new TlsDecodeError(`${this.what} has ${this.remaining} unexpected trailing bytes`);
  }
}

/** Builds a message; vectors are opened and closed around their contents. */
export class TlsWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private readonly open: { at: number; lenBytes: number }[] = [];

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.grow(3);
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.u16(v >>> 16);
    return this.u16(v & 0xffff);
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Writes `b` with a length prefix. */
  vector(lenBytes: 1 | 2 | 3, b: Uint8Array): this {
    const max = lenBytes === 1 ? 0xff : lenBytes === 2 ? 0xffff : 0xffffff;
    if (b.length > max) throw new RangeError(`a ${lenBytes}-byte-length vector cannot hold ${b.length} bytes`);
    if (lenBytes === 1) this.u8(b.length);
    else if (lenBytes === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.bytes(b);
  }

  /** Starts a length-prefixed vector whose contents follow; close it with {@link end}. */
  begin(lenBytes: 1 | 2 | 3): this {
    this.open.push({ at: this.len, lenBytes });
    this.grow(lenBytes);
    this.len += lenBytes;
    return this;
  }

  end(): this {
    const o = this.open.pop();
    if (!o) throw new Error('TlsWriter.end without begin');
    const n = this.len - o.at - o.lenBytes;
    for (let i = 0; i < o.lenBytes; i++) this.buf[o.at + i] = (n >>> (8 * (o.lenBytes - 1 - i))) & 0xff;
    return this;
  }

  finish(): Uint8Array {
    if (this.open.length) throw new Error('TlsWriter.finish with an open vector');
    return this.buf.slice(0, this.len);
  }
}
