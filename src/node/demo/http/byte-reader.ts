/**
 * A pull reader with push-back over a byte stream, for the HTTP server: heads are found in the
 * bytes read so far, the rest goes back ("unread") for the body or the next pipelined request.
 *
 *   ReadableStream ──read()──▶ pending bytes ──readHead()──▶ head bytes (rest stays pending)
 *                                            └─readSome(n)─▶ body bytes
 *
 * Every read waits at most `timeoutMs` (a stalled client must not hold a connection forever);
 * a timeout resolves as {@link READ_TIMEOUT}, never as an exception.
 */
import { concatBytes } from '../../../shared/bytes.ts';
import { findHeadEnd } from './http-request-head.ts';

/** A read gave up waiting. */
export const READ_TIMEOUT = Symbol('read-timeout');

/** What {@link ByteReader.readHead} found. */
export type HeadRead =
  | { kind: 'head'; head: Uint8Array }
  /** The stream ended with nothing (or only empty lines) pending: a clean close between requests. */
  | { kind: 'eof' }
  /** The stream ended in the middle of a head. */
  | { kind: 'truncated' }
  | { kind: 'too-large' }
  | { kind: 'timeout' };

export class ByteReader {
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Bytes read from the stream and not yet consumed. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Puts bytes back in front of what is pending. */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.pending.length === 0) {
      this.pending = bytes;
      return;
    }
    this.pending = concatBytes(bytes, this.pending);
  }

  /**
   * Reads until a complete head (up to the empty line) is pending and returns it; the bytes after
   * it stay pending.
   */
  async readHead(maxBytes: number, timeoutMs: number): Promise<HeadRead> {
    let scanned = 0;
    for (;;) {
      const end = findHeadEnd(this.pending, Math.max(0, scanned - 3));
      if (end >= 0) {
        const head = this.pending.subarray(0, end);
        this.pending = this.pending.subarray(end);
        return { kind: 'head', head };
      }
      scanned = this.pending.length;
      if (this.pending.length > maxBytes) return { kind: 'too-large' };
      if (this.ended) {
        const onlyBlank = this.pending.every((b) => b === 0x0d || b === 0x0a);
        return onlyBlank ? { kind: 'eof' } : { kind: 'truncated' };
      }
      const chunk = await this.readChunk(timeoutMs);
      if (chunk === READ_TIMEOUT) return { kind: 'timeout' };
      if (chunk === undefined) continue; // ended: loop once more to classify what is pending
      this.append(chunk);
    }
  }

  /** Up to `max` bytes (pending ones first); undefined at the end of the stream. */
  async readSome(max: number, timeoutMs: number): Promise<Uint8Array | undefined | typeof READ_TIMEOUT> {
    if (this.pending.length === 0) {
      if (this.ended) return undefined;
      const chunk = await this.readChunk(timeoutMs);
      if (chunk === READ_TIMEOUT || chunk === undefined) return chunk;
      this.pending = chunk;
    }
    const n = Math.min(max, this.pending.length);
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** Stops reading; the underlying stream is cancelled. */
  cancel(): void {
    this.ended = true;
    this.reader.cancel().catch(() => {});
  }

  private append(chunk: Uint8Array): void {
    if (this.pending.length === 0) {
      this.pending = chunk;
      return;
    }
    this.pending = concatBytes(this.pending, chunk);
  }

  private async readChunk(timeoutMs: number): Promise<Uint8Array | undefined | typeof READ_TIMEOUT> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<typeof READ_TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(READ_TIMEOUT), timeoutMs);
      // A connection waiting for its client must not keep the process alive on its own.
      (timer as { unref?: () => void }).unref?.();
    });
    try {
      const r = await Promise.race([this.reader.read(), timeout]);
      if (r === READ_TIMEOUT) return r;
      if (r.done) {
        this.ended = true;
        return undefined;
      }
      return r.value;
    } catch {
      // A reset connection reads as the end of the stream; the writer side reports the failure.
      this.ended = true;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
