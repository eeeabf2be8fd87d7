/**
 * The TLS record layer's framing (RFC 8446 §5.1, RFC 5246 §6.2): a 5-byte header (content type,
 * legacy version, length) and a body. {@link RecordBuffer} collects bytes from the stream and cuts
 * complete records with checked lengths; {@link emitRecord} frames outgoing bodies.
 *
 *   stream bytes ──▶ RecordBuffer.push ──▶ next() ──▶ { type, version, body } │ TlsDecodeError
 */
import { concatBytes } from '../../shared/bytes.ts';
import { ContentType, MAX_CIPHERTEXT_12 } from './tls-constants.ts';
import { TlsDecodeError } from './tls-codec.ts';

export const RECORD_HEADER_BYTES = 5;

/** One record as it came off the wire (body still protected once encryption is on). */
export interface TlsRecord {
  type: number;
  version: number;
  body: Uint8Array;
}

const KNOWN_TYPES = new Set<number>([ContentType.changeCipherSpec, ContentType.alert, ContentType.handshake, ContentType.applicationData]);

/**
 * Reassembles records from a byte stream. Chunks are kept as they came and joined only when a
 * record spans them, so a 16 KiB record arriving in MTU-sized pieces is copied once, not once per
 * piece.
 */
export class RecordBuffer {
  private chunks: Uint8Array[] = [];
  /** Offset into chunks[0] of the first unread byte. */
  private start = 0;
  private total = 0;
  /** Upper bound on a record body; the default admits any TLS 1.2 ciphertext (2^14 + 2048). */
  maxBody = MAX_CIPHERTEXT_12;

  /** Takes `bytes` over (kept as they are, not copied: do not change them afterwards). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.total += bytes.length;
  }

  /** Bytes received but not yet forming a complete record. */
  get pending(): number {
    return this.total;
  }

  /** Makes chunks[0] (from `start`) hold at least `n` bytes (n ≤ total), joining chunks as needed. */
  private contiguous(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.start >= n) return first;
    const joined = concatBytes(first.subarray(this.start), ...this.chunks.slice(1));
    this.chunks = [joined];
    this.start = 0;
    return joined;
  }

  /** Checks a header at `s` of `b` (5 bytes there); its body length. */
  private headerLength(b: Uint8Array, s: number): number {
    const type = b[s]!;
    const version = (b[s + 1]! << 8) | b[s + 2]!;
    const length = (b[s + 3]! << 8) | b[s + 4]!;
    if (!KNOWN_TYPES.has(type)) throw new TlsDecodeError(`received a record of unknown content type ${type} (is this a TLS server?)`, 10);
    if (b[s + 1] !== 3) throw new TlsDecodeError(`received a record with version ${version.toString(16)} (is this a TLS server?)`, 70);
    if (length > this.maxBody) throw new TlsDecodeError(`received a ${length}-byte record, more than the ${this.maxBody} allowed`, 22);
    return length;
  }

  /**
   * The next complete record, or undefined when more bytes are needed.
   * @throws {TlsDecodeError} for an unknown content type or an oversized record (record_overflow).
   */
  next(): TlsRecord | undefined {
    if (this.total < RECORD_HEADER_BYTES) return undefined;
    let b = this.contiguous(RECORD_HEADER_BYTES);
    const length = this.headerLength(b, this.start);
    if (this.total < RECORD_HEADER_BYTES + length) return undefined;
    b = this.contiguous(RECORD_HEADER_BYTES + length);
    const s = this.start;
    const type = b[s]!;
    const version = (b[s + 1]! << 8) | b[s + 2]!;
    // A view: the same memory peekComplete showed, so a record opened ahead is matched at once.
    const body = b.subarray(s + RECORD_HEADER_BYTES, s + RECORD_HEADER_BYTES + length);
    this.consume(RECORD_HEADER_BYTES + length);
    return { type, version, body };
  }

  /**
   * The complete records waiting, in order, without taking them (views, not copies): lets an
   * adapter decrypt them ahead of {@link next} (see RecordCipher.preopen). Stops quietly at
   * anything {@link next} would refuse.
   */
  peekComplete(): TlsRecord[] {
    const out: TlsRecord[] = [];
    if (this.total < RECORD_HEADER_BYTES) return out;
    // Peeking may join chunks; next() then finds them joined already.
    const b = this.contiguous(this.total);
    let s = this.start;
    while (b.length - s >= RECORD_HEADER_BYTES) {
      let length: number;
      try {
        length = this.headerLength(b, s);
      } catch {
        break;
      }
      if (b.length - s < RECORD_HEADER_BYTES + length) break;
      out.push({ type: b[s]!, version: (b[s + 1]! << 8) | b[s + 2]!, body: b.subarray(s + RECORD_HEADER_BYTES, s + RECORD_HEADER_BYTES + length) });
      s += RECORD_HEADER_BYTES + length;
    }
    return out;
  }

  private consume(n: number): void {
    this.total -= n;
    this.start += n;
    while (this.chunks.length && this.start >= this.chunks[0]!.length) {
      this.start -= this.chunks[0]!.length;
      this.chunks.shift();
    }
    if (this.chunks.length === 0) this.start = 0;
  }
}

/** A record: header + body. */
export function emitRecord(type: number, version: number, body: Uint8Array): Uint8Array {
  if (body.length > 0xffff) throw new RangeError(`a record body cannot exceed 65535 bytes (got ${body.length})`);
  const out = new Uint8Array(RECORD_HEADER_BYTES + body.length);
  out[0] = type;
  out[1] = version >>> 8;
  out[2] = version & 0xff;
  out[3] = body.length >>> 8;
  out[4] = body.length & 0xff;
  out.set(body, RECORD_HEADER_BYTES);
  return out;
}

/**
 * Reassembles handshake messages that span records, or several in one record (RFC 8446 §5.1):
 * a 4-byte header (type, 24-bit length) and the body.
 */
export class HandshakeBuffer {
  private buf = new Uint8Array(0);
  /** Refuses messages beyond this size (a certificate chain is the largest legitimate one). */
  maxMessage = 256 * 1024;

  push(bytes: Uint8Array): void {
    this.buf = concatBytes(this.buf, bytes);
  }

  get empty(): boolean {
    return this.buf.length === 0;
  }

  /** The next whole message: type, body and its full encoding (for the transcript). */
  next(): { type: number; body: Uint8Array; raw: Uint8Array } | undefined {
    if (this.buf.length < 4) return undefined;
    const len = (this.buf[1]! << 16) | (this.buf[2]! << 8) | this.buf[3]!;
    if (len > this.maxMessage) throw new TlsDecodeError(`a ${len}-byte handshake message exceeds the ${this.maxMessage}-byte limit`, 22);
    if (this.buf.length < 4 + len) return undefined;
    const raw = this.buf.slice(0, 4 + len);
    this.buf = this.buf.slice(4 + len);
    return { type: raw[0]!, body: raw.subarray(4), raw };
  }
}

/** A handshake message: type, 24-bit length, body. */
export function emitHandshake(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = (body.length >>> 16) & 0xff;
  out[2] = (body.length >>> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}
