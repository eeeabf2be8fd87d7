/**
 * The relay session with its downstream on a streaming `fetch()` body (`wgweb.v3.stream`,
 * src/shared/relay-stream-protocol.ts) and its upstream on the WebSocket, shaped as the event-style
 * {@link RelayWebSocket} that RelayTransport drives: the transport's state machine, framing,
 * reconnects and failover stay one piece of code for every carrier.
 *
 *   new FetchStreamSocket(url, offer)  ──▶ inner WebSocket, offering wgweb.v3.stream before wgweb.v3
 *     open ──▶ onopen at once (the downstream runs on the WebSocket until the stream attaches)
 *     relay chose wgweb.v3.stream? first message "stream <id>" ──▶ POST /relay/stream/<id>
 *       body read (BYOB into one reused buffer) ──▶ DatagramStreamReader (records cut anywhere)
 *         ──▶ onmessage({ data: batch }), a view valid until the next read
 *       body fails / ends / breaks the framing ──▶ the relay sends on the WebSocket again: carry on
 *       relay's text "stream written <ms>" (it first wrote into the body <ms> ago, by its clock)
 *         with ms ≥ `bufferedAfterMs` and still no body byte ──▶ a proxy holds the response back:
 *         abort the fetch (the relay sees the body go and sends on the WebSocket again)
 *     relay chose anything else ──▶ a plain WebSocket (the downstream never leaves it)
 *     send ──▶ inner.send (upstream on the WebSocket)
 *     close / inner closed ──▶ the fetch is aborted; onclose as the WebSocket reports it
 *
 * The hold-back check counts the relay's time, carried on the WebSocket, not the client's: a worker
 * or a machine too loaded to read for seconds reads the notices late too, so it keeps the stream; a
 * wall-clock deadline here gave the stream up on a loaded machine and then for the whole session.
 *
 * Every change of carrier goes to `onCarrier` (only while the connection is not closed: the slower
 * relays of an opening race are closed at their open and say nothing) with the reason of a
 * fallback. A stream that failed
 * before its first byte (fetch refused: CSP, network; an HTTP error: no endpoint behind a proxy; a
 * buffering proxy) is remembered per relay for the carrier's lifetime (one Session): later
 * connections to that relay do not ask again, so reconnects cost no stall and no refused fetch
 * each. A stream that ran and then ended is not remembered (the next connection asks again).
 *
 * Why (#19 item 3, docs/benchmarks.md): a browser pays per WebSocket message (a task each), while
 * a response body arrives through the network service's data pipe in large chunks. The transport
 * sees `protocol` as `wgweb.v3` and takes each run of records as it takes a v3 message.
 */
import type { RelayWebSocket, RelayWebSocketConstructor } from './relay-transport.ts';
import { DatagramStreamReader } from '../shared/datagram-stream-reader.ts';
import { RELAY_SUBPROTOCOL_V3, V3_DOWNSTREAM_BATCH_LIMITS } from '../shared/relay-protocol.ts';
import { parseStreamControlMessage, parseStreamWrittenNotice, relayStreamUrl, RELAY_SUBPROTOCOL_V3_STREAM } from '../shared/relay-stream-protocol.ts';

/** What carries a connection's downstream right now. */
export type DownstreamCarrier = 'fetch-stream' | 'websocket';

/** Why a connection's downstream is (back) on the WebSocket. */
export type CarrierFallbackCode =
  /** The relay did not select wgweb.v3.stream (an older relay, or `--no-fetch-stream`). */
  | 'not-offered'
  /** fetch() rejected: the page's CSP `connect-src`, CORS, or the network. */
  | 'fetch-failed'
  /** The relay (or a proxy in front of it) answered the POST with an HTTP error. */
  | 'http-error'
  /** The relay wrote into the body 5 s before a later notice on the WebSocket, nothing arrived: a proxy buffers the response. */
  | 'buffered'
  /** The body broke the record framing. */
  | 'malformed'
  /** The body ended or failed after it had carried data. */
  | 'ended'
  /** An earlier connection to this relay failed before its first byte (see the module comment). */
  | 'remembered';

/** A fallback to the WebSocket: a stable code and a sentence saying what happened. */
export interface CarrierFallback {
  readonly code: CarrierFallbackCode;
  readonly message: string;
}

/** The buffer a byte-stream body is read into, again and again (BYOB). */
export const STREAM_READ_BYTES = 256 * 1024;

/** Default of {@link FetchStreamCarrierOptions.bufferedAfterMs}. */
export const DEFAULT_STREAM_BUFFERED_AFTER_MS = 5000;

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
  /**
   * Each connection's downstream carrier as it changes (for `status().relay.carrier`), with the
   * reason when it is the WebSocket although the stream was wanted.
   */
  onCarrier?: (carrier: DownstreamCarrier, fallback?: CarrierFallback) => void;
  /**
   * A relay notice saying it first wrote into the body at least this long ago (ms, the relay's
   * clock; default {@link DEFAULT_STREAM_BUFFERED_AFTER_MS}) that arrives before any body byte
   * means a proxy buffers the response: the downstream goes back to the WebSocket. The relay sends
   * its notices for 10 s (STREAM_NOTICE_COUNT), so larger values never trigger.
   */
  bufferedAfterMs?: number;
}

/** What {@link FetchStreamSocket} needs resolved, plus the per-carrier memory of failed relays. */
export type FetchStreamSocketOptions = FetchStreamCarrierOptions & {
  WebSocketImpl: RelayWebSocketConstructor;
  fetch: FetchLike;
  /** Relays (by {@link relayKey}) whose stream failed before its first byte, with the reason. */
  failedRelays?: Map<string, CarrierFallback>;
};

/** A relay's identity for the memory of failed streams: origin and path, without the query. */
function relayKey(sessionUrl: string): string {
  try {
    const u = new URL(sessionUrl);
    return u.origin + u.pathname;
  } catch {
    return sessionUrl;
  }
}

/** Counters of one connection's stream, for tests. */
export interface FetchStreamStats {
  /** 'none': the relay did not offer a stream; 'running'; 'ended': it failed or ended (the WebSocket carries on). */
  readonly stream: 'none' | 'starting' | 'running' | 'ended';
  readonly chunks: number;
  readonly bytes: number;
  /** The body broke the framing (it was dropped; the WebSocket carries on). */
  readonly malformed: boolean;
  /** How the body is read: 'byob' into one reused buffer (byte streams), 'default' chunk by chunk. */
  readonly reader?: 'byob' | 'default';
  /** Why the downstream is on the WebSocket, when the stream was wanted and is not running. */
  readonly fallback?: CarrierFallback;
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
  readonly #onCarrier: FetchStreamCarrierOptions['onCarrier'];
  readonly #bufferedAfterMs: number;
  readonly #failedRelays: Map<string, CarrierFallback> | undefined;
  readonly #key: string;
  /** Why this connection did not ask for the stream (remembered failure), if so. */
  readonly #skipped: CarrierFallback | undefined;
  #fallback: CarrierFallback | undefined;
  #streamed = false;
  #controlSeen = false;
  #abort: AbortController | undefined;
  #state: FetchStreamStats['stream'] = 'none';
  #chunks = 0;
  #bytes = 0;
  #malformed = false;
  #reader: 'byob' | 'default' | undefined;
  /** close() was called: this connection reports no carrier any more (see {@link #report}). */
  #closed = false;

  constructor(url: string, protocols: string | string[] | undefined, options: FetchStreamSocketOptions) {
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    this.#key = relayKey(url);
    this.#failedRelays = options.failedRelays;
    const remembered = this.#failedRelays?.get(this.#key);
    // Asked for only where the batched v3 framing is offered (batching: false or 'v2' stay as they
    // are), and not again from a relay whose stream failed before its first byte.
    const at = list.indexOf(RELAY_SUBPROTOCOL_V3);
    if (at >= 0 && !remembered) list.splice(at, 0, RELAY_SUBPROTOCOL_V3_STREAM);
    this.#skipped = at >= 0 && remembered ? { code: 'remembered', message: `not asked for again: ${remembered.message}` } : undefined;
    this.#url = url;
    this.#fetch = options.fetch;
    this.#onCarrier = options.onCarrier;
    this.#bufferedAfterMs = options.bufferedAfterMs ?? DEFAULT_STREAM_BUFFERED_AFTER_MS;
    this.#platform = options.WebSocketImpl === (globalThis as { WebSocket?: unknown }).WebSocket;
    const inner = (this.#inner = new options.WebSocketImpl(url, list.length === 1 ? list[0] : list));
    inner.onopen = (ev: unknown) => {
      this.#streamed = inner.protocol === RELAY_SUBPROTOCOL_V3_STREAM;
      if (!this.#streamed && at >= 0) this.#fallback = this.#skipped ?? { code: 'not-offered', message: `the relay did not offer the fetch stream (it chose ${inner.protocol || 'no subprotocol'})` };
      // The user first: a connection it closes right here (the slower relay of an opening race)
      // reports nothing. Reported before, that loser's 'websocket' could land after the winner's
      // stream had attached and leave the session saying 'websocket' for good.
      this.onopen?.(ev);
      this.#report('websocket', this.#fallback);
    };
    inner.onmessage = (ev: { data: unknown }) => {
      // Closed by its user (a race's loser): a message still in flight starts no stream.
      if (this.#closed) return;
      // In wgweb.v3.stream the relay's only text messages are the stream's id (its first message)
      // and the notices that it wrote into the body.
      if (this.#streamed && typeof ev.data === 'string') {
        if (!this.#controlSeen) {
          this.#controlSeen = true;
          const id = parseStreamControlMessage(ev.data);
          if (id !== undefined) this.#start(id);
          return;
        }
        const since = parseStreamWrittenNotice(ev.data);
        if (since !== undefined) {
          this.#checkHeldBack(since);
          return;
        }
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
    this.#closed = true;
    this.#stop();
    this.#inner.close(code, reason);
  }

  /** The stream's counters. */
  stats(): FetchStreamStats {
    return {
      stream: this.#state,
      chunks: this.#chunks,
      bytes: this.#bytes,
      malformed: this.#malformed,
      ...(this.#reader ? { reader: this.#reader } : {}),
      ...(this.#fallback ? { fallback: this.#fallback } : {}),
    };
  }

  /**
   * A relay notice: it first wrote into the body `since` ms ago (its clock). Not one body byte
   * by `bufferedAfterMs`: a proxy holds the body back. The notice and the body's bytes leave the
   * relay in that order on two connections, so a client slow to read sees both late, not this.
   */
  #checkHeldBack(since: number): void {
    if (since < this.#bufferedAfterMs || this.#bytes > 0 || (this.#state !== 'starting' && this.#state !== 'running')) return;
    // Aborting closes the request; the relay sees its body go and sends on the WebSocket again.
    this.#abort?.abort();
    this.#ended({
      code: 'buffered',
      message: `nothing arrived on the stream although the relay had written into it ${since} ms before its notice on the WebSocket (a proxy that buffers responses?)`,
    });
  }

  #start(id: string): void {
    const abort = (this.#abort = new AbortController());
    this.#state = 'starting';
    let url: string;
    try {
      url = relayStreamUrl(this.#url, id);
    } catch (e) {
      this.#ended({ code: 'fetch-failed', message: `no stream URL for ${this.#url}: ${(e as Error).message}` });
      return;
    }
    this.#fetch(url, { method: 'POST', signal: abort.signal, cache: 'no-store' }).then(
      (res) => {
        if (abort.signal.aborted) return;
        if (!res.ok || !res.body) {
          abort.abort();
          this.#ended({ code: 'http-error', message: res.ok ? 'the stream answer had no body' : `the stream request was answered with HTTP ${res.status}` });
          return;
        }
        void this.#pump(res.body, abort);
      },
      (e: unknown) => {
        if (abort.signal.aborted) return;
        this.#ended({ code: 'fetch-failed', message: `fetch() of the stream failed (the page's Content-Security-Policy connect-src, CORS or the network): ${e instanceof Error ? e.message : String(e)}` });
      },
    );
  }

  /**
   * Reads the body until it ends or fails; each chunk's complete records go up as one message.
   * A byte stream (a browser's fetch body) is read BYOB into one {@link STREAM_READ_BYTES} buffer
   * again and again: Chromium otherwise hands over every chunk in new ArrayBuffer memory, and
   * writing fresh memory costs far more than the copy itself (docs/benchmarks.md #19 section 17).
   * So the records handed up are views valid until the next read; their receivers (the tunnel,
   * which decrypts in place, and the stack) keep nothing of them (NetInterface copies what its
   * socket queues hold). Other streams are read as they come.
   */
  async #pump(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<void> {
    this.#state = 'running';
    this.#report('fetch-stream');
    const parser = new DatagramStreamReader(V3_DOWNSTREAM_BATCH_LIMITS);
    const emit = (span: Uint8Array): void => {
      if (!abort.signal.aborted) this.onmessage?.({ data: span });
    };
    let byob: ReadableStreamBYOBReader | undefined;
    try {
      byob = body.getReader({ mode: 'byob' });
    } catch {
      // Not a byte stream: chunk by chunk.
    }
    const reader = byob ?? body.getReader();
    let buffer = byob ? new ArrayBuffer(STREAM_READ_BYTES) : undefined;
    this.#reader = byob ? 'byob' : 'default';
    try {
      for (;;) {
        // BYOB: the buffer moves into the read and comes back (same memory) in `value`.
        const { value, done } = byob ? await byob.read(new Uint8Array(buffer!)) : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        if (done || abort.signal.aborted || !value) break;
        if (byob) buffer = value.buffer as ArrayBuffer;
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
    if (this.#malformed) this.#ended({ code: 'malformed', message: 'the stream broke the record framing; it was dropped' });
    else if (!abort.signal.aborted) {
      this.#ended(
        this.#bytes > 0
          ? { code: 'ended', message: `the stream ended after ${this.#bytes} bytes` }
          : { code: 'ended', message: 'the stream ended before its first byte' },
      );
    }
  }

  /** The downstream is back on the WebSocket for good on this connection. */
  #ended(why: CarrierFallback): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#fallback = why;
    // Refused or held back before its first byte while the session lives: the stream does not work
    // with this relay from here, so later connections do not ask again (no stall, no refused fetch
    // per reconnect). An ending (the relay's session went too) says nothing about that.
    const remember = why.code === 'fetch-failed' || why.code === 'http-error' || why.code === 'buffered';
    if (remember && this.#bytes === 0 && this.#inner.readyState === 1) this.#failedRelays?.set(this.#key, why);
    if (this.#inner.readyState === 1) this.#report('websocket', why);
  }

  /**
   * Tells `onCarrier`, unless this connection was closed by its user: the carrier options are
   * shared by every connection of a session (a relay race opens several at once), so only a
   * connection still in use may speak for the session.
   */
  #report(carrier: DownstreamCarrier, why?: CarrierFallback): void {
    if (!this.#closed) this.#onCarrier?.(carrier, why);
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
  const resolved: FetchStreamSocketOptions = { ...options, WebSocketImpl: ws, fetch: f, failedRelays: new Map() };
  return class extends FetchStreamSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, resolved);
    }
  };
}
