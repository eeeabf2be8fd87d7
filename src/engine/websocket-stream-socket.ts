/**
 * The relay WebSocket over `WebSocketStream` (WHATWG WebSockets, the streams-based interface that
 * Chromium ships), shaped as the event-style {@link RelayWebSocket} that RelayTransport drives, so
 * the transport's state machine, framing and reconnects stay one piece of code for both carriers.
 *
 *   new WebSocketStreamSocket(url, protocols)
 *     opened ──▶ protocol, reader, writer ──▶ onopen
 *     reader.read() loop ──▶ onmessage({ data: ArrayBuffer | string }) per message
 *     send(bytes) ──▶ writer.write(bytes)   (bufferedAmount: bytes whose write has not settled)
 *     closed ──▶ onclose({ code, reason })  (a failed open or a broken stream: 1006, once)
 *     close(code, reason) ──▶ wss.close({ closeCode, reason }), or abort() while still opening
 *
 * Why (#19, docs/benchmarks.md): in Chromium every message of the event-style WebSocket is a task
 * of its own, while a stream's reads resolve as microtasks, several in one task when messages are
 * waiting, with backpressure instead of an unbounded event queue. The message-size sweep of
 * bench/browser-bench.ts measured it 1.1–2.2× the WebSocket's rate at 1452-byte messages.
 * Where the platform has no WebSocketStream (Firefox, Safari, Node) the transport keeps the
 * WebSocket ({@link webSocketStreamCarrier} returns undefined).
 */
import type { RelayWebSocket, RelayWebSocketConstructor } from './relay-transport.ts';

/** What `opened` resolves to (the subset used here). */
export interface WebSocketStreamConnection {
  readonly readable: ReadableStream<ArrayBuffer | string>;
  readonly writable: WritableStream<Uint8Array | ArrayBuffer | string>;
  readonly protocol: string;
}

/** What `closed` resolves to. */
export interface WebSocketStreamCloseInfo {
  readonly closeCode?: number;
  readonly reason?: string;
}

/** The subset of the platform's `WebSocketStream` used here. */
export interface WebSocketStreamLike {
  readonly opened: Promise<WebSocketStreamConnection>;
  readonly closed: Promise<WebSocketStreamCloseInfo>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

/** A `WebSocketStream` class (the platform's, or a test double). */
export type WebSocketStreamConstructor = new (url: string, options?: { protocols?: string[]; signal?: AbortSignal }) => WebSocketStreamLike;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** One relay connection over a WebSocketStream, with the WebSocket's event-style surface. */
export class WebSocketStreamSocket implements RelayWebSocket {
  /** Always ArrayBuffer for binary messages; kept for the interface (RelayTransport sets it). */
  binaryType = 'arraybuffer';
  protocol = '';
  readyState = CONNECTING;
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  #buffered = 0;
  #writer: WritableStreamDefaultWriter<Uint8Array | ArrayBuffer | string> | undefined;
  readonly #wss: WebSocketStreamLike;
  readonly #abort = new AbortController();
  #closeEmitted = false;

  constructor(url: string, protocols: string | string[] | undefined, impl: WebSocketStreamConstructor) {
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    this.#wss = new impl(url, { protocols: list, signal: this.#abort.signal });
    this.#wss.opened.then(
      (c) => this.#opened(c),
      () => this.#fail(),
    );
    this.#wss.closed.then(
      (info) => this.#closed(typeof info?.closeCode === 'number' ? info.closeCode : 1005, typeof info?.reason === 'string' ? info.reason : ''),
      () => this.#fail(),
    );
  }

  /** Bytes handed to send() whose write has not completed yet (the WebSocket's bufferedAmount). */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Sends one binary message. The bytes must not be modified afterwards (they are not copied). */
  send(data: Uint8Array): void {
    if (this.readyState === CONNECTING) throw new DOMException('still connecting', 'InvalidStateError');
    const writer = this.#writer;
    if (this.readyState !== OPEN || !writer) return;
    const n = data.byteLength;
    this.#buffered += n;
    writer.write(data).then(
      () => (this.#buffered -= n),
      () => (this.#buffered -= n),
    );
  }

  close(code?: number, reason?: string): void {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    if (this.readyState === CONNECTING) {
      this.readyState = CLOSING;
      this.#abort.abort();
      return;
    }
    this.readyState = CLOSING;
    this.#wss.close(code === undefined ? {} : { closeCode: code, reason: reason ?? '' });
  }

  #opened(c: WebSocketStreamConnection): void {
    if (this.readyState !== CONNECTING) return;
    this.readyState = OPEN;
    this.protocol = c.protocol ?? '';
    this.#writer = c.writable.getWriter();
    // A write error shows up as the connection closing; keep the writer's own rejection handled.
    this.#writer.closed.catch(() => {});
    this.onopen?.({});
    void this.#pump(c.readable.getReader());
  }

  /** Delivers every message as it is read; a stream error ends the connection (closed reports it). */
  async #pump(reader: ReadableStreamDefaultReader<ArrayBuffer | string>): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.readyState === CLOSED) return;
        this.onmessage?.({ data: value });
      }
    } catch {
      // The closed promise carries the outcome.
    }
  }

  #closed(code: number, reason: string): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }

  #fail(): void {
    if (this.#closeEmitted) return;
    this.onerror?.({});
    this.#closed(1006, '');
  }
}

/**
 * A RelayWebSocketConstructor over `impl` (default: the platform's WebSocketStream), or undefined
 * when there is none.
 */
export function webSocketStreamCarrier(impl?: WebSocketStreamConstructor): RelayWebSocketConstructor | undefined {
  const found = impl ?? (globalThis as { WebSocketStream?: WebSocketStreamConstructor }).WebSocketStream;
  if (typeof found !== 'function') return undefined;
  const ctor: WebSocketStreamConstructor = found;
  return class extends WebSocketStreamSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, ctor);
    }
  };
}
