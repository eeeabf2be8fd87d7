/**
 * The SSH data types (RFC 4251 §5): byte, boolean, uint32, uint64, string, mpint, name-list.
 *
 *   SshReader: a cursor over a payload with checked lengths; reading past the end throws
 *              {@link SshDecodeError}, which the client turns into a counted drop / disconnect
 *   SshWriter: appends the same types into a growing buffer; `finish()` returns the bytes
 *
 * The reader never trusts a length field: every `string` is bounded by what is left.
 */

/** A payload was shorter than its length fields claim, or held a bad value (network input). */
export class SshDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshDecodeError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Reads SSH data types from a payload (RFC 4251 §5). */
export class SshReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array, start = 0) {
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (n > this.remaining) throw new SshDecodeError(`truncated: wanted ${n} bytes, ${this.remaining} left`);
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  boolean(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  uint64(): bigint {
    const hi = this.uint32();
    const lo = this.uint32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A `string` as bytes (a view, not a copy). */
  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  /** A `string` decoded as UTF-8 (RFC 4251 §5 "string", used for ISO-10646 text). */
  text(): string {
    return decoder.decode(this.string());
  }

  /** A `name-list` (comma-separated US-ASCII names). */
  nameList(): string[] {
    const s = this.text();
    return s.length === 0 ? [] : s.split(',');
  }

  /** An `mpint` as a non-negative bigint (negative values are a decode error: SSH never sends them here). */
  mpint(): bigint {
    const b = this.string();
    if (b.length === 0) return 0n;
    if (b[0]! & 0x80) throw new SshDecodeError('negative mpint');
    return bytesToBigint(b);
  }

  rest(): Uint8Array {
    return this.raw(this.remaining);
  }
}

/** Writes SSH data types (RFC 4251 §5). */
export class SshWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  boolean(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  uint32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    b[this.len] = v >>> 24;
    b[this.len + 1] = v >>> 16;
    b[this.len + 2] = v >>> 8;
    b[this.len + 3] = v;
    this.len += 4;
    return this;
  }

  uint64(v: bigint): this {
    return this.uint32(Number((v >> 32n) & 0xffffffffn)).uint32(Number(v & 0xffffffffn));
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  string(v: Uint8Array | string): this {
    const bytes = typeof v === 'string' ? encoder.encode(v) : v;
    return this.uint32(bytes.length).raw(bytes);
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  /** An `mpint`: two's complement big-endian, minimal, with a leading zero when the top bit is set. */
  mpint(v: bigint): this {
    return this.string(mpintBytes(v));
  }

  /** An mpint from unsigned big-endian bytes (e.g. a shared secret), stripped and sign-padded. */
  mpintFromUnsigned(bytes: Uint8Array): this {
    let i = 0;
    while (i < bytes.length && bytes[i] === 0) i++;
    const body = bytes.subarray(i);
    if (body.length > 0 && body[0]! & 0x80) {
      this.uint32(body.length + 1).byte(0);
      return this.raw(body);
    }
    return this.string(body);
  }

  get length(): number {
    return this.len;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Big-endian unsigned bytes to a bigint. */
export function bytesToBigint(b: Uint8Array): bigint {
  let hex = '';
  for (const x of b) hex += x.toString(16).padStart(2, '0');
  return hex.length ? BigInt('0x' + hex) : 0n;
}

/** A non-negative bigint to big-endian bytes, `length` long (left-padded) or minimal. */
export function bigintToBytes(v: bigint, length?: number): Uint8Array {
  if (v < 0n) throw new RangeError('bigintToBytes takes a non-negative value');
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (v === 0n) hex = '';
  const n = length ?? hex.length / 2;
  if (hex.length / 2 > n) throw new RangeError(`value does not fit in ${n} bytes`);
  const out = new Uint8Array(n);
  const off = n - hex.length / 2;
  for (let i = 0; i < hex.length / 2; i++) out[off + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function mpintBytes(v: bigint): Uint8Array {
  if (v < 0n) throw new RangeError('negative mpints are not used by this client');
  if (v === 0n) return new Uint8Array(0);
  const b = bigintToBytes(v);
  if (b[0]! & 0x80) {
    const out = new Uint8Array(b.length + 1);
    out.set(b, 1);
    return out;
  }
  return b;
}

/** Builds one payload: `ssh((w) => w.byte(5).string('ssh-userauth'))`. */
export function sshPayload(build: (w: SshWriter) => unknown): Uint8Array {
  const w = new SshWriter();
  build(w);
  return w.finish();
}
