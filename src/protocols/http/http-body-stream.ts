/**
 * A response body as a pull-based `ReadableStream` over an {@link HttpConnection}: bytes are read
 * from the connection only when the consumer asks (highWaterMark 0), so a slow reader slows the
 * TCP receive window instead of filling memory.
 *
 *   consumer read ─▶ pull ─▶ conn.read ─▶ framing (Content-Length | chunked | until close)
 *                                      └▶ end of body ─▶ onEnd(ok) (connection back to the pool) ─▶ close
 *   cancel / abort signal / error ─▶ onEnd(error) (connection discarded)
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { ChunkedDecoder } from './chunked-decoder.ts';
import type { HttpConnection } from './http-connection.ts';
import type { BodyFraming } from './http-response-parser.ts';
import { concatBytes } from '../../shared/bytes.ts';

export type BodyEnd = { ok: true; bodyBytes: number } | { ok: false; bodyBytes: number; error: unknown; cancelled: boolean };

export interface BodyStreamOptions {
  conn: HttpConnection;
  framing: Exclude<BodyFraming, { kind: 'none' }>;
  /** Fires when the request is aborted or times out; the stream then errors with `abortError()`. */
  signal: AbortSignal;
  abortError: () => unknown;
  /** Turns internal errors (protocol, reset) into what the consumer sees. */
  mapError: (e: unknown) => unknown;
  /** Names the request in messages: `GET http://10.0.0.2/file`. */
  describe: string;
  maxTrailerBytes: number;
  /** Called exactly once, before the stream closes or errors. */
  onEnd: (end: BodyEnd) => void;
}

export function createBodyStream(o: BodyStreamOptions): ReadableStream<Uint8Array> {
  const { conn, framing } = o;
  const chunked = framing.kind === 'chunked' ? new ChunkedDecoder(o.maxTrailerBytes) : undefined;
  let received = 0;
  let ended = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;

  const end = (result: BodyEnd): void => {
    if (ended) return;
    ended = true;
    o.signal.removeEventListener('abort', onAbort);
    o.onEnd(result);
  };
  const fail = (error: unknown): void => {
    if (ended) return;
    end({ ok: false, bodyBytes: received, error, cancelled: false });
    try {
      controllerRef?.error(error);
    } catch {
      // already closed
    }
  };
  const onAbort = (): void => fail(o.abortError());

  const closedEarly = (cause?: unknown): WgwebError => {
    const how = cause ? 'reset' : 'closed';
    if (framing.kind === 'length') {
      return new WgwebError(
        ErrorCode.HTTP_CLOSED_EARLY,
        `the server ${how} the connection after ${received} of ${framing.length} body bytes (${o.describe})`,
        cause ? { received, expected: framing.length, reset: true } : { received, expected: framing.length },
        cause ? { cause } : undefined,
      );
    }
    return new WgwebError(
      ErrorCode.HTTP_CLOSED_EARLY,
      `the server ${how} the connection in the middle of the chunked body, after ${chunked!.bodyBytes} body bytes (${o.describe})`,
      cause ? { received: chunked!.bodyBytes, reset: true } : { received: chunked!.bodyBytes },
      cause ? { cause } : undefined,
    );
  };
  // A reset in the middle of a delimited body is, to the user, the server dying mid-body: report
  // it as HTTP_CLOSED_EARLY with the byte count (the reset stays the cause). Close-delimited
  // bodies have no expected length, so there a reset stays CONNECTION_RESET.
  const mapBodyError = (e: unknown): unknown => {
    const mapped = o.mapError(e);
    const isReset = (mapped as { code?: unknown })?.code === ErrorCode.CONNECTION_RESET;
    return isReset && framing.kind !== 'close' ? closedEarly(mapped) : mapped;
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        if (o.signal.aborted) onAbort();
        else o.signal.addEventListener('abort', onAbort, { once: true });
      },
      async pull(controller) {
        try {
          for (;;) {
            if (ended) return;
            const chunk = await conn.read();
            if (ended) return; // aborted while reading
            if (chunk === undefined) {
              if (framing.kind === 'close') {
                end({ ok: true, bodyBytes: received });
                controller.close();
                return;
              }
              throw closedEarly();
            }
            if (framing.kind === 'length') {
              const take = Math.min(framing.length - received, chunk.length);
              if (take < chunk.length) conn.unread(chunk.subarray(take));
              received += take;
              controller.enqueue(chunk.subarray(0, take));
              if (received === framing.length) {
                end({ ok: true, bodyBytes: received });
                controller.close();
              }
              return;
            }
            if (chunked) {
              const out = chunked.push(chunk);
              received += chunk.length - out.rest.length;
              let produced = false;
              for (const d of out.data) {
                if (d.length === 0) continue;
                controller.enqueue(d);
                produced = true;
              }
              if (out.done) {
                if (out.rest.length > 0) conn.unread(out.rest);
                end({ ok: true, bodyBytes: received });
                controller.close();
                return;
              }
              if (produced) return;
              continue; // only framing so far: read on
            }
            received += chunk.length;
            controller.enqueue(chunk);
            return;
          }
        } catch (e) {
          fail(o.signal.aborted ? o.abortError() : mapBodyError(e));
        }
      },
      cancel(reason) {
        end({ ok: false, bodyBytes: received, error: reason, cancelled: true });
      },
    },
    { highWaterMark: 0 },
  );
}

/** A body already in memory, as a stream (small responses are taken whole from the buffer). */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Content codings this client decodes (RFC 9110 §8.4.1): x-gzip is gzip's old alias. */
export type ContentCoding = 'gzip' | 'deflate';

/** The single coding to undo for a Content-Encoding value, or `undefined` to pass the body through. */
export function decodableCoding(contentEncoding: string | null): ContentCoding | undefined {
  if (!contentEncoding) return undefined;
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  if (codings.length !== 1) return undefined;
  if (codings[0] === 'gzip' || codings[0] === 'x-gzip') return 'gzip';
  if (codings[0] === 'deflate') return 'deflate';
  return undefined;
}

/** RFC 1950 §2.2: CM = 8 and the header check (CMF·256 + FLG divisible by 31). */
function isZlibHeader(b: Uint8Array): boolean {
  return b.length >= 2 && (b[0] & 0x0f) === 8 && ((b[0] << 8) | b[1]) % 31 === 0;
}

/**
 * Undoes `coding` with the platform's `DecompressionStream`. "deflate" should be zlib-wrapped
 * (RFC 9110 §8.4.1.2) but some servers send raw deflate; the first two bytes tell them apart.
 */
export function decodeContent(raw: ReadableStream<Uint8Array>, coding: ContentCoding, mapError: (e: unknown) => unknown): ReadableStream<Uint8Array> {
  const rawReader = raw.getReader();
  let decoded: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let empty = false;

  const init = async (): Promise<void> => {
    let head = new Uint8Array(0);
    let done = false;
    while (head.length < 2) {
      const r = await rawReader.read();
      if (r.done) {
        done = true;
        break;
      }
      head = concatBytes(head, r.value);
    }
    if (head.length === 0 && done) {
      // An empty body with a Content-Encoding (seen on some error pages): nothing to decode.
      empty = true;
      return;
    }
    const format: CompressionFormat = coding === 'gzip' ? 'gzip' : isZlibHeader(head) ? 'deflate' : 'deflate-raw';
    let first: Uint8Array | undefined = head;
    const source = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          if (first) {
            c.enqueue(first);
            first = undefined;
            if (done) c.close();
            return;
          }
          const r = await rawReader.read();
          if (r.done) c.close();
          else c.enqueue(r.value);
        },
        cancel(reason) {
          return rawReader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    decoded = source.pipeThrough(new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>).getReader();
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!decoded && !empty) await init();
          if (empty || !decoded) {
            controller.close();
            return;
          }
          for (;;) {
            const r = await decoded.read();
            if (r.done) {
              controller.close();
              return;
            }
            if (r.value.length > 0) {
              controller.enqueue(r.value);
              return;
            }
          }
        } catch (e) {
          controller.error(mapError(e));
        }
      },
      cancel(reason) {
        return decoded ? decoded.cancel(reason) : rawReader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
