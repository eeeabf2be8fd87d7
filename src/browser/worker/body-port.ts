/**
 * A response body from the tunnel worker to the page over its own MessagePort, its bytes
 * transferred (never cloned), with a byte window for flow control instead of a pull per chunk.
 *
 *   worker: sendBodyOverPort(body, port)                   page: bodyFromPort(port) → ReadableStream
 *     read ──▶ { chunk } (buffer transferred) ──────────▶ enqueue
 *     wait one task (setTimeout 0) ──▶ read again          consumer reads ──▶ pull ──▶ { ack: bytes }
 *     { ack } ──▶ credit += bytes ◀───────────────────────
 *     end ──▶ { done } │ failure ──▶ { error: { code, message, detail } }        cancel ──▶ { cancel }
 *
 * Why not a transferred ReadableStream (what comlink passed before, #19): the HTML standard's
 * transferable streams clone every chunk (a copy into the message and one out of it, more
 * buffers for the garbage collector) and answer each chunk with a pull message. Here a chunk's
 * buffer moves to the page; after each chunk the worker lets the tasks already queued run (the
 * relay's messages of a bulk download) before it reads again, so the next read takes everything
 * they delivered as one chunk (up to tcp-stream-connection's READ_CHUNK), while the first bytes,
 * and those of a quiet stream, leave at once. The page acknowledges what its consumer took every
 * {@link ACK_BYTES} (and whenever its queue runs dry), so the worker reads at most
 * {@link BODY_WINDOW} bytes ahead: a page that stops reading stops the worker's reads, which
 * closes the TCP window (the backpressure the pull-based stream had).
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';

/** Bytes the worker may send beyond what the page's consumer has taken (implementation choice). */
export const BODY_WINDOW = 1 << 20;
/** The page acknowledges consumption in steps of this many bytes (and whenever its queue runs dry). */
export const ACK_BYTES = 128 * 1024;

/** Messages on a body port, worker → page. */
export type BodyToPage =
  | { readonly chunk: Uint8Array }
  | { readonly done: true }
  | { readonly error: { readonly code?: string; readonly message: string; readonly detail?: Record<string, unknown> } };

/** Messages on a body port, page → worker. */
export type BodyToWorker = { readonly ack: number } | { readonly cancel: string };

/** Timer used to end a batch of chunks; injectable for tests. */
export type TaskTimer = (fn: () => void, ms: number) => unknown;

/** A chunk the worker may transfer: one that is its buffer's only view, or else a copy of it. */
function ownedChunk(chunk: Uint8Array): Uint8Array {
  const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
  return whole ? chunk : chunk.slice();
}

function errorData(e: unknown): { code?: string; message: string; detail?: Record<string, unknown> } {
  if (e instanceof WgwebError) return { code: e.code, message: e.message, detail: e.detail };
  if (e instanceof Error) return { message: e.message || e.name };
  return { message: String(e) };
}

/**
 * Worker side: reads `body` and posts its bytes on `port` (see the module comment). The port is
 * closed when the body ends, fails or the page cancels it.
 */
export function sendBodyOverPort(body: ReadableStream<Uint8Array>, port: MessagePort, timer: TaskTimer = (fn, ms) => setTimeout(fn, ms)): void {
  const reader = body.getReader();
  let credit = BODY_WINDOW;
  let reading = false;
  let finished = false;

  const post = (message: BodyToPage, transfer: Transferable[] = []): void => {
    try {
      port.postMessage(message, transfer);
    } catch {
      // The page side is gone (its port closed): nothing to tell.
    }
  };
  const finish = (last: BodyToPage | undefined): void => {
    if (finished) return;
    finished = true;
    if (last) post(last);
    port.onmessage = null;
    port.close();
  };
  const nextTask = (): Promise<void> => new Promise((resolve) => timer(resolve, 0));
  const readOn = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      while (!finished && credit > 0) {
        const r = await reader.read();
        if (finished) return;
        if (r.done) return finish({ done: true });
        if (r.value.length === 0) continue;
        const chunk = ownedChunk(r.value);
        credit -= chunk.length;
        post({ chunk }, [chunk.buffer as ArrayBuffer]);
        // Let the tasks already queued run (the relay's messages of a bulk download) before the
        // next read, which then takes everything they delivered as one chunk.
        await nextTask();
      }
    } catch (e) {
      finish({ error: errorData(e) });
    } finally {
      reading = false;
    }
  };
  port.onmessage = (ev: MessageEvent<BodyToWorker>) => {
    const m = ev.data;
    if (finished || typeof m !== 'object' || m === null) return;
    if ('ack' in m && typeof m.ack === 'number' && m.ack > 0) {
      credit += m.ack;
      void readOn();
    } else if ('cancel' in m) {
      finish(undefined);
      reader.cancel(m.cancel).catch(() => {});
    }
  };
  void readOn();
}

/**
 * Page side: the body arriving on `port` as a standard stream (what `new Response(...)` takes).
 * Cancelling it cancels the worker's body (and closes its connection).
 */
export function bodyFromPort(port: MessagePort): ReadableStream<Uint8Array> {
  let enqueued = 0;
  let acked = 0;
  let ended = false;
  const end = (): void => {
    ended = true;
    port.onmessage = null;
    port.close();
  };
  // The queue may hold a window's worth; pull runs whenever it falls below half of that.
  const highWaterMark = BODY_WINDOW / 2;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        port.onmessage = (ev: MessageEvent<BodyToPage>) => {
          const m = ev.data;
          if (ended || typeof m !== 'object' || m === null) return;
          if ('chunk' in m) {
            enqueued += m.chunk.byteLength;
            controller.enqueue(m.chunk);
          } else if ('done' in m) {
            end();
            controller.close();
          } else if ('error' in m) {
            end();
            const { code, message, detail } = m.error;
            controller.error(code ? new WgwebError(code as ErrorCode, message, detail ?? {}) : new WgwebError(ErrorCode.INTERNAL, message));
          }
        };
      },
      pull(controller) {
        if (ended) return;
        // What the consumer took: everything enqueued minus what still waits in the queue.
        const queued = highWaterMark - (controller.desiredSize ?? 0);
        const taken = enqueued - queued;
        // Acknowledge in steps, and always when the queue ran dry (the worker may be waiting).
        if (taken - acked >= ACK_BYTES || (queued <= 0 && taken > acked)) {
          port.postMessage({ ack: taken - acked } satisfies BodyToWorker);
          acked = taken;
        }
      },
      cancel(reason) {
        if (ended) return;
        port.postMessage({ cancel: String(reason ?? 'cancelled') } satisfies BodyToWorker);
        end();
      },
    },
    { highWaterMark, size: (chunk) => chunk.byteLength },
  );
}
