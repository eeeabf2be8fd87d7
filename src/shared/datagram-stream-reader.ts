/**
 * Reads the `wgweb.v3.stream` downstream body (relay-stream-protocol.ts): `wgweb.v2` records back
 * to back in one never-ending byte stream, arriving in chunks that cut records anywhere (a length
 * prefix included). Isomorphic, sans-IO.
 *
 *   push(chunk, emit) ──▶ a record carried over from the last chunk, completed? ──▶ emit(its record)
 *                     ──▶ the complete records of the chunk ──▶ emit(span) per run of at most
 *                         `limits` (bytes, records): views into the chunk, no copy
 *                     ──▶ a cut record at the end ──▶ copied aside until the next chunk completes it
 *                     ──▶ a zero length ──▶ the framing is lost: false, and every later push too
 *
 * Every span emitted is itself a well-formed `wgweb.v2`/`v3` batch message (parseDatagramBatch
 * reads it within `limits`), so the relay transport takes it as it takes a WebSocket message. A
 * span is a view into the chunk (or into a fresh buffer per carried record) that nothing here
 * touches afterwards, so receivers may decrypt in place; it is valid until the caller reuses the
 * chunk's memory (the fetch-stream carrier reads the next bytes into it). Memory is bounded: at
 * most one record (65537 bytes) is held between chunks, copied out of the chunk.
 */

import { BATCH_RECORD_HEADER } from './datagram-batch.ts';
import type { BatchLimits } from './relay-protocol.ts';

/** Splits a record stream into batch messages; see the module comment. */
export class DatagramStreamReader {
  private readonly limits: BatchLimits;
  /** The length prefix of a record cut inside it (0 to 1 bytes of it seen). */
  private readonly head = new Uint8Array(BATCH_RECORD_HEADER);
  private headLen = 0;
  /** A record cut after its prefix: its whole frame (prefix + datagram), filled to `partLen`. */
  private part: Uint8Array | undefined;
  private partLen = 0;
  private broken = false;
  /** Bytes taken in, for stats. */
  bytes = 0;

  /** @throws {RangeError} for limits that cannot hold the largest record. */
  constructor(limits: BatchLimits) {
    if (!(limits.maxMessage >= 0xffff + BATCH_RECORD_HEADER) || !(limits.maxDatagrams >= 1)) {
      throw new RangeError('limits must hold one record of 65535 bytes');
    }
    this.limits = limits;
  }

  /** True once a zero length broke the framing; nothing more is emitted. */
  get failed(): boolean {
    return this.broken;
  }

  /** Bytes of a cut record waiting for the next chunk. */
  get pendingBytes(): number {
    return this.part ? this.partLen : this.headLen;
  }

  /**
   * Takes the next chunk of the body and emits the complete records (spans are views into it: the
   * caller may reuse its memory once `push` returned and the spans' receivers are done). Returns
   * false once the framing is broken (never throws).
   */
  push(chunk: Uint8Array, emit: (span: Uint8Array) => void): boolean {
    if (this.broken) return false;
    this.bytes += chunk.length;
    const n = chunk.length;
    let at = 0;
    // 1. A record cut at the end of the last chunk.
    if (this.part === undefined && this.headLen > 0) {
      while (this.headLen < BATCH_RECORD_HEADER && at < n) this.head[this.headLen++] = chunk[at++];
      if (this.headLen < BATCH_RECORD_HEADER) return true;
      if (!this.startPart(this.head, 0)) return false;
      this.headLen = 0;
    }
    if (this.part !== undefined) {
      const take = Math.min(this.part.length - this.partLen, n - at);
      this.part.set(chunk.subarray(at, at + take), this.partLen);
      this.partLen += take;
      at += take;
      if (this.partLen < this.part.length) return true;
      const whole = this.part;
      this.part = undefined;
      this.partLen = 0;
      emit(whole);
    }
    // 2. The chunk's complete records, in spans within the limits.
    const { maxMessage, maxDatagrams } = this.limits;
    let start = at;
    let records = 0;
    while (n - at >= BATCH_RECORD_HEADER) {
      const len = (chunk[at] << 8) | chunk[at + 1];
      if (len === 0) {
        if (at > start) emit(chunk.subarray(start, at));
        this.broken = true;
        return false;
      }
      if (n - at - BATCH_RECORD_HEADER < len) break;
      if (records === maxDatagrams || at + BATCH_RECORD_HEADER + len - start > maxMessage) {
        emit(chunk.subarray(start, at));
        start = at;
        records = 0;
      }
      at += BATCH_RECORD_HEADER + len;
      records++;
    }
    if (at > start) emit(chunk.subarray(start, at));
    // 3. A cut record: kept (copied) until the next chunk completes it.
    if (n - at >= BATCH_RECORD_HEADER) {
      if (!this.startPart(chunk, at)) return false;
      this.part!.set(chunk.subarray(at, n));
      this.partLen = n - at;
    } else if (n > at) {
      this.head[0] = chunk[at];
      this.headLen = 1;
    }
    return true;
  }

  /** A record whose length prefix is at `src[at..at+2]`: allocates its frame. */
  private startPart(src: Uint8Array, at: number): boolean {
    const len = (src[at] << 8) | src[at + 1];
    if (len === 0) {
      this.broken = true;
      return false;
    }
    this.part = new Uint8Array(BATCH_RECORD_HEADER + len);
    this.part[0] = src[at];
    this.part[1] = src[at + 1];
    this.partLen = BATCH_RECORD_HEADER;
    return true;
  }
}
