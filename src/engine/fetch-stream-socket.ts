/**
 * The relay session with its downstream on a streaming `fetch()` body (`wgweb.v3.stream`,
 * src/shared/relay-stream-protocol.ts) and its upstream on the WebSocket, shaped as the event-style
 * {@link RelayWebSocket} that RelayTransport drives: the transport's state machine, framing,
 * reconnects and failover stay one piece of code for every carrier.
 *
 *   new FetchStreamSocket(url, offer)  ──▶ inner WebSocket, offering wgweb.v3.stream before wgweb.v3
 *     open ──▶ onopen at once (the downstream runs on the WebSocket until the stream attaches)
 *     relay chose wgweb.v3.stream? first message "stream <id>" ──▶ POST /relay/stream/<id>
 *       body chunks ──▶ DatagramStreamReader (records cut anywhere) ──▶ onmessage({ data: batch })
 *       body fails / ends / breaks the framing ──▶ the relay sends on the WebSocket again: carry on
 *     relay chose anything else ──▶ a plain WebSocket (the downstream never leaves it)
 *     send ──▶ inner.send (upstream on the WebSocket)
 *     close / inner closed ──▶ the fetch is aborted; onclose as the WebSocket reports it
 *
 * Why (#19 item 3, docs/benchmarks.md): a browser pays per WebSocket message (a task each), while
 * a response body arrives through the network service's data pipe in large chunks. The transport
 * sees `protocol` as `wgweb.v3` and takes each run of records as it takes a v3 message.
 */
import type { RelayWebSocket, RelayWebSocketConstructor } from './relay-transport.ts';
import { DatagramStreamReader } from '../shared/datagram-stream-reader.ts';
import { RELAY_SUBPROTOCOL_V3, V3_DOWNSTREAM_BATCH_LIMITS } from '../shared/relay-protocol.ts';
import { parseStreamControlMessage, relayStreamUrl, RELAY_SUBPROTOCOL_V3_STREAM } from '../shared/relay-stream-protocol.ts';

/** What carries a connection's downstream right now. */
export type DownstreamCarrier = 'fetch-stream' | 'websocket';

/** The subset of `fetch` used here (the platform's, or a test double). */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; signal: AbortSignal; cache: 'no-store' },
) => Promise<{ readonly ok: boolean; readonly status: number; readonly body: ReadableStream<Uint8Array> | null }>;

/** Options of {@link fetchStreamCarrier}. */
export interface FetchStreamCarrierOptions {
  /** The WebSocket that carries the session and the upstream; default the platform's. */
  WebSocketImpl?: RelayWebSocketConstructor;
  /** Default the platform's `fetch`. */
  fetch?: FetchLike;
  /** Each connection's downstream carrier as it changes (for `status().relay.carrier`). */
  onCarrier?: (carrier: DownstreamCarrier) => void;
}

/** Counters of one connection's stream, for tests. */
export interface FetchStreamStats {
  /** 'none': the relay did not offer a stream; 'running'; 'ended': it failed or ended (the WebSocket carries on). */
  readonly stream: 'none' | 'starting' | 'running' | 'ended';
  readonly chunks: number;
  readonly bytes: number;
  /** The body broke the framing (it was dropped; the WebSocket carries on). */
  readonly malformed: boolean;
}

/** One relay connection: the session on a WebSocket, the downstream on a fetch stream when offered. */
export class FetchStreamSocket implements RelayWebSocket {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  readonly #inner: RelayWebSocket;
  readonly #platform: boolean;
  readonly #url: string;
  readonly #fetch: FetchLike;
  readonly #onCarrier: ((c: DownstreamCarrier) => void) | undefined;
  #streamed = false;
  #controlSeen = false;
  #abort: AbortController | undefined;
  #state: FetchStreamStats['stream'] = 'none';
  #chunks = 0;
  #bytes = 0;
  #malformed = false;

  constructor(url: string, protocols: string | string[] | undefined, options: Required<Pick<FetchStreamCarrierOptions, 'fetch'>> & FetchStreamCarrierOptions & { WebSocketImpl: RelayWebSocketConstructor }) {
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    // Asked for only where the batched v3 framing is offered (batching: false or 'v2' stay as they are).
    const at = list.indexOf(RELAY_SUBPROTOCOL_V3);
    if (at >= 0) list.splice(at, 0, RELAY_SUBPROTOCOL_V3_STREAM);
    this.#url = url;
    this.#fetch = options.fetch;
    this.#onCarrier = options.onCarrier;
    this.#platform = options.WebSocketImpl === (globalThis as { WebSocket?: unknown }).WebSocket;
    const inner = (this.#inner = new options.WebSocketImpl(url, list.length === 1 ? list[0] : list));
    inner.onopen = (ev: unknown) => {
      this.#streamed = inner.protocol === RELAY_SUBPROTOCOL_V3_STREAM;
      this.#onCarrier?.('websocket');
      this.onopen?.(ev);
    };
    inner.onmessage = (ev: { data: unknown }) => {
      // The relay's first message in wgweb.v3.stream names the stream; nothing else is text.
      if (this.#streamed && !this.#controlSeen && typeof ev.data === 'string') {
        this.#controlSeen = true;
        const id = parseStreamControlMessage(ev.data);
        if (id !== undefined) this.#start(id);
        return;
      }
      this.onmessage?.(ev);
    };
    inner.onerror = (ev: unknown) => this.onerror?.(ev);
    inner.onclose = (ev: unknown) => {
      this.#stop();
      this.onclose?.(ev);
    };
  }

  /** `wgweb.v3` when the relay chose `wgweb.v3.stream` (the same records), else the relay's choice. */
  get protocol(): string {
    const p = this.#inner.protocol ?? '';
    return p === RELAY_SUBPROTOCOL_V3_STREAM ? RELAY_SUBPROTOCOL_V3 : p;
  }

  get readyState(): number {
    return this.#inner.readyState;
  }

  get bufferedAmount(): number {
    return this.#inner.bufferedAmount;
  }

  get binaryType(): string {
    return this.#inner.binaryType;
  }

  /** Forwarded, except Node's 'nodebuffer' to the platform's WebSocket (which only warns about it). */
  set binaryType(v: string) {
    if (v === 'nodebuffer' && this.#platform) return;
    this.#inner.binaryType = v;
  }

  send(data: Uint8Array): void {
    this.#inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#stop();
    this.#inner.close(code, reason);
  }

  /** The stream's counters. */
  stats(): FetchStreamStats {
    return { stream: this.#state, chunks: this.#chunks, bytes: this.#bytes, malformed: this.#malformed };
  }

  #start(id: string): void {
    const abort = (this.#abort = new AbortController());
    this.#state = 'starting';
    let url: string;
    try {
      url = relayStreamUrl(this.#url, id);
    } catch {
      this.#ended();
      return;
    }
    this.#fetch(url, { method: 'POST', signal: abort.signal, cache: 'no-store' }).then(
      (res) => {
        if (abort.signal.aborted) return;
        if (!res.ok || !res.body) {
          this.#ended();
          return;
        }
        void this.#pump(res.body.getReader(), abort);
      },
      () => this.#ended(),
    );
  }

  /** Reads the body until it ends or fails; each chunk's complete records go up as one message. */
  async #pump(reader: ReadableStreamDefaultReader<Uint8Array>, abort: AbortController): Promise<void> {
    this.#state = 'running';
    this.#onCarrier?.('fetch-stream');
    const parser = new DatagramStreamReader(V3_DOWNSTREAM_BATCH_LIMITS);
    const emit = (span: Uint8Array): void => {
      if (!abort.signal.aborted) this.onmessage?.({ data: span });
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || abort.signal.aborted) break;
        this.#chunks++;
        this.#bytes += value.byteLength;
        if (!parser.push(value, emit)) {
          // The framing is lost: drop the body; the relay falls back to the WebSocket.
          this.#malformed = true;
          abort.abort();
          break;
        }
      }
    } catch {
      // Aborted or broken: the WebSocket carries on.
    }
    reader.cancel().catch(() => undefined);
    if (!abort.signal.aborted || this.#malformed) this.#ended();
  }

  #ended(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    if (this.#inner.readyState === 1) this.#onCarrier?.('websocket');
  }

  #stop(): void {
    this.#abort?.abort();
    this.#abort = undefined;
    if (this.#state === 'starting' || this.#state === 'running') this.#state = 'ended';
  }
}

/**
 * A RelayWebSocketConstructor whose connections put the downstream on a fetch stream where the
 * relay offers it, or undefined when the platform has no fetch or no WebSocket.
 */
export function fetchStreamCarrier(options: FetchStreamCarrierOptions = {}): RelayWebSocketConstructor | undefined {
  const ws = options.WebSocketImpl ?? (globalThis as { WebSocket?: RelayWebSocketConstructor }).WebSocket;
  const f = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch?.bind(globalThis);
  if (typeof ws !== 'function' || typeof f !== 'function') return undefined;
  const resolved = { ...options, WebSocketImpl: ws, fetch: f };
  return class extends FetchStreamSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, resolved);
    }
  };
}
