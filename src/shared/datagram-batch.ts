/**
 * The `wgweb.v2` / `wgweb.v3` framing: several UDP datagrams in one binary WebSocket message. Isomorphic.
 *
 *   message = record+            (at least one record, no trailing bytes)
 *   record  = length  datagram   (length: u16 big-endian, 1..65535; datagram: exactly that many bytes)
 *
 * Why: in a browser every WebSocket message is its own task, so one message per 1452-byte datagram
 * caps a bulk download at the browser's message rate long before the CPU is busy; a batch of
 * datagrams costs one task. The datagrams inside stay separate UDP datagrams (each one shape-checked
 * and forwarded, or dropped and counted, on its own); only the framing is shared. Limits
 * ({@link BatchLimits}): bytes and records per message, {@link V2_BATCH_LIMITS} (64 KiB, 64) unless the
 * caller passes others (`wgweb.v3` relay → client: 256 KiB, 256; see relay-protocol.ts).
 *
 *   parseDatagramBatch(bytes, limits)   → { ok, datagrams: views into bytes } | { ok: false, reason }
 *   new DatagramBatchWriter(limits)     records appended one by one, take() → one message
 */

import { V2_BATCH_LIMITS, type BatchLimits } from './relay-protocol.ts';

/** The largest datagram one record can carry (its length is a u16). */
const MAX_RECORD_DATAGRAM = 0xffff;

/** Bytes of a record's length prefix. */
export const BATCH_RECORD_HEADER = 2;

/** The outcome of {@link parseDatagramBatch}. */
export type DatagramBatch =
  | { readonly ok: true; readonly datagrams: Uint8Array[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Splits one batch message (`wgweb.v2`/`v3`, bounded by `limits`) into its datagrams (views into `bytes`, no copies). The whole
 * message is checked before anything is returned, so a malformed message forwards nothing.
 * Never throws.
 */
export function parseDatagramBatch(bytes: Uint8Array, limits: BatchLimits = V2_BATCH_LIMITS): DatagramBatch {
  const n = bytes.length;
  const { maxMessage, maxDatagrams } = limits;
  if (n === 0) return { ok: false, reason: 'empty message (a batch holds at least one datagram)' };
  if (n > maxMessage) return { ok: false, reason: `message of ${n} bytes (at most ${maxMessage})` };
  const datagrams: Uint8Array[] = [];
  let at = 0;
  while (at < n) {
    if (datagrams.length === maxDatagrams) return { ok: false, reason: `more than ${maxDatagrams} datagrams in one message` };
    if (n - at < BATCH_RECORD_HEADER) return { ok: false, reason: `truncated length at byte ${at}` };
    const len = (bytes[at] << 8) | bytes[at + 1];
    at += BATCH_RECORD_HEADER;
    if (len === 0) return { ok: false, reason: `zero-length datagram at byte ${at - BATCH_RECORD_HEADER}` };
    if (len > n - at) return { ok: false, reason: `datagram of ${len} bytes at byte ${at - BATCH_RECORD_HEADER} runs past the end (${n - at} left)` };
    datagrams.push(bytes.subarray(at, at + len));
    at += len;
  }
  return { ok: true, datagrams };
}

/** Options of {@link DatagramBatchWriter}. */
export interface DatagramBatchWriterOptions {
  /**
   * Build every message in the same buffer: {@link DatagramBatchWriter.take} returns a view that is
   * valid only until the next {@link DatagramBatchWriter.add}. For senders that copy the message
   * before they return (a browser's `WebSocket.send()`), where a fresh ArrayBuffer per message
   * (≈ 16 per uploaded MB, each zeroed, accounted and swept) was the largest item of the upload's
   * tunnel worker profile (#19). Default false: each message gets a buffer of its own (`ws` may
   * queue what it was given).
   */
  readonly reuseBuffer?: boolean;
}

/**
 * Builds batch messages record by record, copying each datagram in as it is added (callers
 * may reuse their buffers right away). The buffer starts at the previous message's size and
 * doubles, so a lone keepalive does not cost a 64 KiB allocation.
 */
export class DatagramBatchWriter {
  /** The bounds every message this writer builds respects. */
  readonly limits: BatchLimits;
  /** The largest datagram a record of this writer can carry. */
  readonly maxDatagram: number;
  /** Messages share one buffer (see {@link DatagramBatchWriterOptions.reuseBuffer}). */
  readonly reuseBuffer: boolean;

  /** @throws {RangeError} for limits that cannot hold one record. */
  constructor(limits: BatchLimits = V2_BATCH_LIMITS, options: DatagramBatchWriterOptions = {}) {
    if (!Number.isInteger(limits.maxMessage) || limits.maxMessage <= BATCH_RECORD_HEADER) throw new RangeError(`maxMessage must be an integer above ${BATCH_RECORD_HEADER}`);
    if (!Number.isInteger(limits.maxDatagrams) || limits.maxDatagrams < 1) throw new RangeError('maxDatagrams must be a positive integer');
    this.limits = limits;
    this.maxDatagram = Math.min(MAX_RECORD_DATAGRAM, limits.maxMessage - BATCH_RECORD_HEADER);
    this.reuseBuffer = options.reuseBuffer === true;
  }

  private buf: Uint8Array = new Uint8Array(0);
  private used = 0;
  private records = 0;
  /** The last message's size: the next buffer starts there (a bulk flow has similar batches). */
  private sizeHint = 4096;

  /** Datagrams in the pending message. */
  get count(): number {
    return this.records;
  }

  /** Bytes of the pending message. */
  get byteLength(): number {
    return this.used;
  }

  /** Whether a datagram of `length` bytes still fits the pending message. */
  fits(length: number): boolean {
    return this.records < this.limits.maxDatagrams && this.used + BATCH_RECORD_HEADER + length <= this.limits.maxMessage;
  }

  /**
   * Appends one datagram. Check {@link fits} first (and {@link take} the message when it does not).
   * @throws {RangeError} for an empty datagram, one that cannot fit any message, or a full batch.
   */
  add(datagram: Uint8Array): void {
    const len = datagram.length;
    if (len === 0) throw new RangeError('a batch record cannot be empty');
    if (len > this.maxDatagram) throw new RangeError(`a ${len}-byte datagram does not fit a batch message (at most ${this.maxDatagram})`);
    if (!this.fits(len)) throw new RangeError('the batch is full: take() it first');
    const need = this.used + BATCH_RECORD_HEADER + len;
    if (need > this.buf.length) {
      let size = Math.max(this.sizeHint, this.buf.length);
      while (size < need) size *= 2;
      const bigger = new Uint8Array(Math.min(size, this.limits.maxMessage));
      bigger.set(this.buf.subarray(0, this.used));
      this.buf = bigger;
    }
    this.buf[this.used] = len >>> 8;
    this.buf[this.used + 1] = len & 0xff;
    this.buf.set(datagram, this.used + BATCH_RECORD_HEADER);
    this.used = need;
    this.records++;
  }

  /**
   * The pending message, or `undefined` when empty. Without `reuseBuffer` a view the writer no
   * longer touches (the next message gets a fresh buffer); with it, a view the next {@link add}
   * overwrites, so send or copy it first.
   */
  take(): Uint8Array | undefined {
    if (this.records === 0) return undefined;
    const message = this.buf.subarray(0, this.used);
    this.sizeHint = Math.max(4096, this.used);
    if (!this.reuseBuffer) this.buf = new Uint8Array(0);
    this.used = 0;
    this.records = 0;
    return message;
  }
}
