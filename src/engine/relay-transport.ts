/**
 * The client side of the relay: one WebSocket to `wgweb relay`, carrying the UDP flow to one
 * WireGuard endpoint. Isomorphic (browser Web Worker or Node with the `ws` package).
 *
 *   send(datagram) ──▶ open?        wgweb.v1: ws.send (one binary message = one datagram)
 *                                   wgweb.v2/v3: appended to a batch, sent in a microtask (or when full);
 *                                     replies to a received message (ACKs): after the messages
 *                                     already queued behind it (zero-delay timer, coalesceReplies)
 *                      connecting?  small bounded queue, flushed on open (else dropped, counted)
 *                      closed?      dropped (false)
 *   ws message ──▶ onDatagram(bytes) per datagram  (wgweb.v2/v3: per record of the batch)
 *                  (binary only: ArrayBuffer in browsers, a Buffer view from `ws`)
 *   ws close   ──▶ by close code (src/shared/relay-protocol.ts, RELAY_CLOSE_CODES):
 *                    refused (not allowed, bad request, ...)  → 'closed' + WgwebError RELAY_REFUSED
 *                    transient (relay restart, drop, full)    → 'reconnecting', backoff + jitter
 *                    draining (1012 service restart)          → 'reconnecting', at once
 *                    idle timeout                             → 'reconnecting', on the next send
 *                  never opened → RELAY_UNREACHABLE ('closed' after `connectAttempts` failures)
 *
 * Several relays (`relayUrl` a list): relays hold no session state, so a client that reconnects
 * through another relay is just a roaming WireGuard peer (paper §2.1). The first connection races
 * every relay and keeps the first to open (the best WebSocket-open RTT; the others are measured and
 * closed); when the relay in use drains (1012), drops or cannot be reached, the transport moves to
 * the next relay at once (lowest RTT first) and backs off only after every relay failed in a row.
 * The session (session.ts) sends a keepalive right after any reconnect so the peer learns the
 * relay's new UDP source at once, and the TCP connections inside the tunnel carry on.
 *
 * The framing is negotiated per connection (RFC 6455 §4.2.2): the transport offers wgweb.v3 (batches
 * up to 256 KiB from the relay), wgweb.v2 (batches up to 64 KiB, docs/relay.md) and wgweb.v1, and
 * reads the relay's choice from `ws.protocol`. Batching matters in browsers, where every WebSocket
 * message is a task of its own: one message per datagram capped a bulk download at the message rate.
 *
 * Besides the event loop this is the one client piece that owns I/O, so it owns timers too
 * (injectable for tests). Datagram loss is fine (UDP semantics: WireGuard retransmits handshakes,
 * TCP retransmits data); unbounded buffering is not.
 */

import { ErrorCode, WgwebError } from '../shared/errors.ts';
import type { Endpoint } from '../shared/ip-address.ts';
import { DatagramBatchWriter, parseDatagramBatch } from '../shared/datagram-batch.ts';
import {
  batchLimits,
  buildRelayUrl,
  describeCloseCode,
  RELAY_SUBPROTOCOL,
  RELAY_SUBPROTOCOL_V3,
  RELAY_SUBPROTOCOLS,
  relaySubprotocolOf,
  relayTokenProtocol,
  type BatchLimits,
} from '../shared/relay-protocol.ts';

/** Transport states, reported through `onState`. */
export type RelayTransportState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What accompanies a state change. */
export interface RelayStateDetail {
  /** The session URL (`ws://relay/wg?to=...`). */
  readonly url: string;
  /** Connection attempts so far (1 for the first). */
  readonly attempt: number;
  /** 'reconnecting': ms until the next attempt; absent when waiting for the next send (idle). */
  readonly retryInMs?: number;
  /** 'reconnecting' after an idle timeout: the next send() reconnects. */
  readonly onDemand?: boolean;
  /** The close code and reason from the relay that caused this state, if any. */
  readonly closeCode?: number;
  readonly closeReason?: string;
  /**
   * 'closed' by failure: RELAY_REFUSED, RELAY_UNREACHABLE or RELAY_CLOSED. 'reconnecting': the
   * cause, for display. Absent when close() was called.
   */
  readonly error?: WgwebError;
}

/** The subset of the WebSocket API used here (the DOM WebSocket and `ws` both provide it). */
export interface RelayWebSocket {
  binaryType: string;
  /** The subprotocol the server selected ('' or absent before open / when none). */
  readonly protocol?: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  // Event parameters are typed loosely so that both the DOM and the `ws` classes fit.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `globalThis.WebSocket`, or `WebSocket` from the `ws` package in Node. */
export type RelayWebSocketConstructor = new (url: string, protocols?: string | string[]) => RelayWebSocket;

/** Timer functions (same shape as the event loop's), injectable for tests. */
export interface TransportTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RelayTransportOptions {
  /**
   * The relay: `ws://host:8080`, `wss://relay.example/`, an `http(s)://` page URL, or a full `/wg`
   * URL; or a list of them (interchangeable relays: the fastest to open is used, the others are the
   * failover, see the module comment).
   */
  relayUrl: string | readonly string[];
  /** The WireGuard endpoint the relay should forward to (`host:port`, `[v6]:port`). */
  endpoint: Endpoint | string;
  /** Default `globalThis.WebSocket`; Node passes `WebSocket` from `ws`. */
  WebSocketImpl?: RelayWebSocketConstructor;
  /**
   * One datagram from the endpoint. Must not throw. The bytes are a view into a message buffer
   * that nothing else reads afterwards, so the receiver may overwrite them (the Session's tunnel
   * decrypts in place); they are valid only during the call (the fetch-stream carrier reads the
   * next body bytes into the same memory): a receiver that keeps them copies them.
   */
  onDatagram(data: Uint8Array): void;
  /** State changes (and each scheduled retry). May call close(). */
  onState?(state: RelayTransportState, detail: RelayStateDetail): void;
  /** First retry delay; default 250 ms; doubles per failure up to `maxRetryDelayMs`. */
  initialRetryDelayMs?: number;
  /** Default 30000 ms. */
  maxRetryDelayMs?: number;
  /** Failed attempts before giving up when the relay was never reached; default 1. */
  connectAttempts?: number;
  /** An attempt that has not opened by then counts as failed; default 10000 ms. */
  connectTimeoutMs?: number;
  /**
   * Offer the batched framings wgweb.v3 and wgweb.v2 (several datagrams per WebSocket message)
   * besides wgweb.v1; default true. `'v2'` offers wgweb.v2 and v1 only (64 KiB batches from the
   * relay, to compare). false offers wgweb.v1 alone (one message per datagram), e.g. for an old
   * relay behind a proxy that mangles subprotocol lists, or to compare.
   */
  batching?: boolean | 'v2';
  /**
   * wgweb.v2: a batch started while a received message is being handled (in its task, its
   * microtasks included: the TCP ACKs it causes) is flushed by a zero-delay timer instead of a
   * microtask. A browser delivers every WebSocket message as its own task, and the tasks already
   * queued run before a newly posted timer, so one upstream message carries the replies to every
   * message that was waiting instead of one message per received message (#19: each message costs
   * the renderer, the network service and the relay a task of their own). The delay is at most
   * the time to handle the messages already received. Default: on with the platform's WebSocket,
   * off with other implementations (the `ws` package delivers a whole socket read in one task,
   * and Node's timers would add a millisecond).
   */
  coalesceReplies?: boolean;
  /**
   * The WebSocket copies a message's bytes before `send()` returns, so wgweb.v2/v3 batches are
   * built in one reused buffer instead of a fresh ArrayBuffer per message (#19, the upload).
   * Default: on with the platform's WebSocket (a browser copies into its send buffer, as the
   * WebSocket standard's send() takes the bytes at the call), off with other implementations (`ws`
   * may queue the very buffer it was given; WebSocketStream's writer takes it asynchronously). The
   * session turns it on for the fetch-stream carrier, whose upstream is the platform's WebSocket.
   */
  sendCopies?: boolean;
  /**
   * An access token for a relay with --auth static|signed. Sent as the extra offered subprotocol
   * `wgweb.token.<token>` (never in the URL, which reaches logs); the relay never selects it.
   */
  token?: string;
  /** Datagrams kept while (re)connecting; default 16. 0 disables the queue. */
  maxQueue?: number;
  /** Above this many bytes waiting in the WebSocket, send() drops; default 4 MiB. */
  maxBufferedAmount?: number;
  timers?: TransportTimers;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

/** One relay of the list, for stats and the UI. */
export interface RelayCandidateStats {
  /** The session URL through this relay. */
  readonly url: string;
  /** WebSocket-open time of its last successful open, ms; undefined when never opened. */
  readonly rttMs?: number;
  /** Opens and failures (drops, refusals to open) so far. */
  readonly opens: number;
  readonly failures: number;
}

/** Counters for stats and tests. */
export interface RelayTransportStats {
  readonly state: RelayTransportState;
  /** The session URL of the relay in use (or last used). */
  readonly url: string;
  /** Every relay with its measured RTT; the one in use is `url`. */
  readonly relays: readonly RelayCandidateStats[];
  /** Moves from one relay to another (failovers). */
  readonly relayMoves: number;
  readonly attempts: number;
  /** The framing of the current (or last) connection; '' before the first open. */
  readonly protocol: string;
  /** WebSocket messages, which with wgweb.v2 carry several datagrams each. */
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly datagramsSent: number;
  readonly bytesSent: number;
  readonly datagramsReceived: number;
  readonly bytesReceived: number;
  /** Bytes waiting in the WebSocket now (its bufferedAmount; 0 when not open): the local send queue. */
  readonly bufferedAmount: number;
  /** The largest bufferedAmount a send() saw on this transport (#19: where the upload's queue sits). */
  readonly bufferedAmountPeak: number;
  readonly drops: {
    readonly closed: number;
    readonly queueFull: number;
    readonly backpressure: number;
    readonly text: number;
    /** wgweb.v2/v3 messages from the relay that broke the framing (dropped whole). */
    readonly malformed: number;
    /** wgweb.v2/v3: a datagram above 65533 bytes, which no batch can carry. */
    readonly tooBig: number;
  };
}

const defaultTimers: TransportTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const OPEN = 1;

interface Candidate {
  readonly url: string;
  rttMs?: number;
  opens: number;
  failures: number;
}

/** One relay session (WebSocket) to one WireGuard endpoint, with reconnects. */
export class RelayTransport {
  private readonly candidates: Candidate[];
  /** Index into candidates of the relay in use. */
  private current = 0;
  private relayMoves = 0;
  /** WebSockets of the opening race that have not opened yet (several relays, first connection). */
  private racing = new Set<RelayWebSocket>();
  private readonly impl: RelayWebSocketConstructor;
  private readonly onDatagram: (data: Uint8Array) => void;
  private readonly onStateCb?: (state: RelayTransportState, detail: RelayStateDetail) => void;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly connectAttempts: number;
  private readonly connectTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly maxBufferedAmount: number;
  private readonly offer: string | string[];
  private readonly coalesceReplies: boolean;
  private readonly sendCopies: boolean;
  private readonly timers: TransportTimers;
  private readonly random: () => number;

  private ws: RelayWebSocket | undefined;
  /** The negotiated framing of `ws`. */
  private protocol = '';
  /** wgweb.v2/v3: datagrams sent in this task, flushed as one message in a microtask. */
  private batch: DatagramBatchWriter | undefined;
  /** wgweb.v2/v3: the bounds of a batch from the relay. */
  private downLimits: BatchLimits | undefined;
  private flushQueued = false;
  /** True from a received message until the microtasks it queued have run (see coalesceReplies). */
  private inReceiveTask = false;
  private currentState: RelayTransportState = 'connecting';
  private queue: Uint8Array[] = [];
  private attempt = 0;
  /** Consecutive failures since the relay last delivered a datagram (drives the backoff). */
  private failures = 0;
  private everOpened = false;
  private openedThisAttempt = false;
  private waitingForSend = false;
  private retryTimer: unknown;
  private connectTimer: unknown;
  private sent = 0;
  private bytesSent = 0;
  private received = 0;
  private bytesReceived = 0;
  private messagesSent = 0;
  private messagesReceived = 0;
  private bufferedAmountPeak = 0;
  private readonly drops = { closed: 0, queueFull: 0, backpressure: 0, text: 0, malformed: 0, tooBig: 0 };

  /**
   * Starts connecting (in a microtask, so `onState` never runs before the constructor returns).
   * @throws {TypeError} for a bad relay URL or when no WebSocket implementation is available.
   * @throws {RangeError} for a bad endpoint.
   */
  constructor(options: RelayTransportOptions) {
    const bases = typeof options.relayUrl === 'string' ? [options.relayUrl] : [...options.relayUrl];
    if (bases.length === 0) throw new TypeError('relayUrl: give at least one relay URL');
    this.candidates = [...new Set(bases.map((b) => buildRelayUrl(b, options.endpoint)))].map((url) => ({ url, opens: 0, failures: 0 }));
    const impl = options.WebSocketImpl ?? (globalThis as { WebSocket?: RelayWebSocketConstructor }).WebSocket;
    if (!impl) throw new TypeError('no WebSocket implementation: in Node pass WebSocketImpl (WebSocket from the ws package)');
    if (typeof options.onDatagram !== 'function') throw new TypeError('onDatagram must be a function');
    this.impl = impl;
    this.onDatagram = options.onDatagram;
    this.onStateCb = options.onState;
    this.initialDelay = options.initialRetryDelayMs ?? 250;
    this.maxDelay = options.maxRetryDelayMs ?? 30_000;
    this.connectAttempts = options.connectAttempts ?? 1;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.maxQueue = options.maxQueue ?? 16;
    this.maxBufferedAmount = options.maxBufferedAmount ?? 4 << 20;
    // A single string for v1 alone: exactly what clients sent before wgweb.v2 existed.
    const framings =
      options.batching === false
        ? [RELAY_SUBPROTOCOL]
        : options.batching === 'v2'
          ? RELAY_SUBPROTOCOLS.filter((p) => p !== RELAY_SUBPROTOCOL_V3)
          : [...RELAY_SUBPROTOCOLS];
    if (options.token !== undefined) framings.push(relayTokenProtocol(options.token));
    this.offer = framings.length === 1 ? framings[0] : framings;
    this.coalesceReplies = options.coalesceReplies ?? impl === (globalThis as { WebSocket?: unknown }).WebSocket;
    this.sendCopies = options.sendCopies ?? impl === (globalThis as { WebSocket?: unknown }).WebSocket;
    this.timers = options.timers ?? defaultTimers;
    this.random = options.random ?? Math.random;
    if (!(this.initialDelay > 0) || !(this.maxDelay >= this.initialDelay)) throw new RangeError('retry delays must satisfy 0 < initial ≤ max');
    if (!(this.connectAttempts >= 1)) throw new RangeError('connectAttempts must be at least 1');
    queueMicrotask(() => {
      if (this.currentState === 'connecting' && !this.ws) this.connect();
    });
  }

  /** The session URL (including `?to=`) of the relay in use, or of the last one used. */
  get url(): string {
    return this.candidates[this.current].url;
  }

  /** The current state. */
  get state(): RelayTransportState {
    return this.currentState;
  }

  /**
   * Sends one datagram. UDP semantics: returns false when it was dropped (closed, queue full,
   * or the WebSocket is backed up), true when sent or queued for the connection being opened.
   * `data` is not kept: the caller may overwrite it as soon as this returns.
   * @throws {TypeError} when `data` is not a Uint8Array.
   */
  send(data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) throw new TypeError('send() takes a Uint8Array');
    const ws = this.ws;
    if (this.currentState === 'open' && ws && ws.readyState === OPEN) {
      const batch = this.batch;
      const buffered = ws.bufferedAmount;
      if (buffered > this.bufferedAmountPeak) this.bufferedAmountPeak = buffered;
      if (buffered + (batch?.byteLength ?? 0) > this.maxBufferedAmount) {
        this.drops.backpressure++;
        return false;
      }
      if (!batch) {
        // send() never keeps the caller's bytes (the Session builds the next datagrams in the same
        // memory, StackOptions.sinkCopies): a WebSocket that may hold them gets a copy.
        ws.send(this.sendCopies ? data : data.slice());
        this.messagesSent++;
      } else {
        if (data.length === 0) return true; // nothing to carry (and a v2 record cannot be empty)
        if (data.length > batch.maxDatagram) {
          // Cannot be framed; above IPv4's 65507-byte UDP payload it could not be sent anyway.
          this.drops.tooBig++;
          return false;
        }
        if (!batch.fits(data.length)) this.flush();
        // Copied into the batch, so the caller may reuse its buffer at once (as with ws.send).
        batch.add(data);
        // Everything the event loop emits in this task (a step's ACKs, a handshake and its queued
        // packets) leaves as one message once the task's synchronous work is done.
        if (!this.flushQueued) {
          this.flushQueued = true;
          const flush = (): void => {
            this.flushQueued = false;
            this.flush();
          };
          // Replies to received messages wait for the received messages already queued (see
          // coalesceReplies); everything else (app writes, handshakes, timers) leaves at once.
          if (this.coalesceReplies && this.inReceiveTask) this.timers.setTimeout(flush, 0);
          else queueMicrotask(flush);
        }
      }
      this.sent++;
      this.bytesSent += data.length;
      return true;
    }
    if (this.currentState === 'closed') {
      this.drops.closed++;
      return false;
    }
    if (this.queue.length >= this.maxQueue) {
      this.drops.queueFull++;
      return false;
    }
    // Copied: the caller may reuse its buffer before the connection opens.
    this.queue.push(data.slice());
    if (this.waitingForSend) {
      this.waitingForSend = false;
      this.connect();
    }
    return true;
  }

  /** Closes for good (normal closure, 1000). Idempotent; queued datagrams are discarded. */
  close(): void {
    if (this.currentState === 'closed') return;
    this.clearTimers();
    for (const ws of this.racing) {
      ws.onopen = ws.onclose = null;
      try {
        ws.close(1000, 'client closed');
      } catch {
        // still connecting
      }
    }
    this.racing.clear();
    this.detachAndClose(1000, 'client closed');
    this.queue = [];
    this.setState('closed', {});
  }

  /** Counters. */
  stats(): RelayTransportStats {
    return {
      state: this.currentState,
      url: this.url,
      relays: this.candidates.map((c) => ({ ...c })),
      relayMoves: this.relayMoves,
      attempts: this.attempt,
      protocol: this.protocol,
      messagesSent: this.messagesSent,
      messagesReceived: this.messagesReceived,
      datagramsSent: this.sent,
      bytesSent: this.bytesSent,
      datagramsReceived: this.received,
      bytesReceived: this.bytesReceived,
      bufferedAmount: this.ws && this.ws.readyState === OPEN ? this.ws.bufferedAmount : 0,
      bufferedAmountPeak: this.bufferedAmountPeak,
      drops: { ...this.drops },
    };
  }

  /** Hands one received message's datagrams to onDatagram (wgweb.v2: one call per record). */
  private deliver(ws: RelayWebSocket, bytes: Uint8Array): void {
    if (!this.batch) {
      this.received++;
      this.bytesReceived += bytes.length;
      this.onDatagram(bytes);
      return;
    }
    const parsed = parseDatagramBatch(bytes, this.downLimits);
    if (!parsed.ok) {
      this.drops.malformed++;
      return;
    }
    for (const d of parsed.datagrams) {
      // onDatagram may close() the transport (or a reconnect may replace ws): stop delivering.
      if (this.ws !== ws) return;
      this.received++;
      this.bytesReceived += d.length;
      this.onDatagram(d);
    }
  }

  /** wgweb.v2/v3: sends the pending batch as one message (dropped if the connection went away). */
  private flush(): void {
    const message = this.batch?.take();
    const ws = this.ws;
    if (!message || !ws || ws.readyState !== OPEN) return;
    ws.send(message);
    this.messagesSent++;
  }

  private connect(): void {
    this.clearTimers();
    this.attempt++;
    this.openedThisAttempt = false;
    // The first attempt announces 'connecting'; later ones were announced by scheduleRetry.
    this.setState(this.everOpened ? 'reconnecting' : 'connecting', {}, this.attempt === 1);
    if (this.attempt === 1 && this.candidates.length > 1) {
      this.race();
      return;
    }
    let ws: RelayWebSocket;
    try {
      ws = this.open(this.current);
    } catch (e) {
      // e.g. a browser refusing ws: from an https: page (mixed content).
      this.failed(undefined, undefined, e);
      return;
    }
    this.wire(ws);
  }

  /** A new WebSocket to candidate `i`, with the binary type set (see {@link wire}). */
  private open(i: number): RelayWebSocket {
    const ws = new this.impl(this.candidates[i].url, this.offer);
    // Binary messages as bytes. The `ws` package (Node) copies every message into a new
    // ArrayBuffer for 'arraybuffer' but hands over a view of the socket read for 'nodebuffer': in
    // a bulk download that copy was 8–9% of the client's CPU (docs/benchmarks.md). The platform's
    // own WebSocket only takes 'blob' | 'arraybuffer' (Chromium warns in the console about any
    // other value), so only other implementations are probed.
    if (this.impl !== (globalThis as { WebSocket?: unknown }).WebSocket) ws.binaryType = 'nodebuffer';
    if (ws.binaryType !== 'nodebuffer') ws.binaryType = 'arraybuffer';
    return ws;
  }

  /**
   * The first connection with several relays: opens all at once and keeps the first to open (the
   * lowest WebSocket-open RTT). The others are timed as they open and closed; their RTTs order the
   * failover. When none opens, the attempt has failed as a single one would.
   */
  private race(): void {
    const started = performance.now();
    let pending = this.candidates.length;
    const racers = new Map<RelayWebSocket, number>();
    const lose = (i: number): void => {
      this.candidates[i].failures++;
      if (--pending === 0 && this.ws === undefined && this.currentState !== 'closed') {
        this.racing.clear();
        this.failed(undefined, undefined, new Error('no relay of the list could be reached'));
      }
    };
    this.candidates.forEach((c, i) => {
      let ws: RelayWebSocket;
      try {
        ws = this.open(i);
      } catch {
        lose(i);
        return;
      }
      racers.set(ws, i);
      this.racing.add(ws);
      ws.onerror = () => {};
      ws.onmessage = null;
      ws.onclose = () => {
        ws.onclose = null;
        this.racing.delete(ws);
        lose(i);
      };
      ws.onopen = () => {
        this.racing.delete(ws);
        c.rttMs = Math.round((performance.now() - started) * 10) / 10;
        pending--;
        if (this.ws !== undefined || this.currentState === 'closed') {
          // A slower relay: measured, not used.
          c.opens++;
          ws.onclose = null;
          ws.close(1000, 'another relay answered first');
          return;
        }
        this.current = i;
        // The winner becomes the connection; then the open is handled as for a single relay.
        this.wire(ws, false);
        ws.onopen?.({});
      };
    });
    if (this.racing.size === 0 && this.ws === undefined && pending > 0) this.failed(undefined, undefined, new Error('no relay of the list could be opened'));
    // One deadline for the whole race, as for a single attempt.
    const timer = this.timers.setTimeout(() => {
      if (this.ws !== undefined || this.currentState === 'closed') return;
      for (const ws of this.racing) {
        ws.onopen = ws.onclose = null;
        try {
          ws.close();
        } catch {
          // still connecting: gone either way
        }
      }
      this.racing.clear();
      this.failed(undefined, undefined, new Error(`no relay answered within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    this.connectTimer = timer;
  }

  /**
   * Makes `ws` this transport's connection: its events drive the state machine.
   * @param timeOpen measure the open as the relay's RTT (false: the race measured it).
   */
  private wire(ws: RelayWebSocket, timeOpen = true): void {
    this.ws = ws;
    const started = performance.now();
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const c = this.candidates[this.current];
      c.opens++;
      if (timeOpen) c.rttMs = Math.round((performance.now() - started) * 10) / 10;
      if (this.connectTimer !== undefined) this.timers.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.openedThisAttempt = true;
      this.everOpened = true;
      // RFC 6455 §4.1: the protocol the server selected; an implementation without the attribute,
      // or a relay that predates v2, means one message per datagram.
      const protocol = relaySubprotocolOf(ws.protocol);
      this.protocol = protocol;
      const up = batchLimits(protocol, 'up');
      // The platform's WebSocket copies in send(), so each batch can be built in the same buffer.
      this.batch = up ? new DatagramBatchWriter(up, { reuseBuffer: this.sendCopies }) : undefined;
      this.downLimits = batchLimits(protocol, 'down');
      this.setState('open', {});
      const pending = this.queue;
      this.queue = [];
      for (const d of pending) if (this.currentState === 'open') this.send(d);
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.ws !== ws) return;
      const data = ev.data;
      let bytes: Uint8Array;
      if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
      // A Buffer from `ws`: re-viewed as a plain Uint8Array, whose slice() copies as callers expect.
      else if (data instanceof Uint8Array) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else {
        this.drops.text++;
        return;
      }
      // The relay delivered something: the path works, so the next failure starts a fresh backoff.
      this.failures = 0;
      this.messagesReceived++;
      if (this.coalesceReplies) {
        // Sends from here until the microtasks queued by this delivery have run are replies: the
        // event loop's step (and its ACKs) runs in a microtask queued during onDatagram, before
        // the one queued here, which ends the reply window.
        this.inReceiveTask = true;
        try {
          this.deliver(ws, bytes);
        } finally {
          queueMicrotask(() => (this.inReceiveTask = false));
        }
        return;
      }
      this.deliver(ws, bytes);
    };
    ws.onerror = () => {
      // Always followed by a close event, which carries the information.
    };
    ws.onclose = (ev: { code?: number; reason?: string }) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.batch = undefined;
      this.onClosed(typeof ev.code === 'number' ? ev.code : 1006, typeof ev.reason === 'string' ? ev.reason : '');
    };
    if (this.connectTimer !== undefined) this.timers.clearTimeout(this.connectTimer);
    this.connectTimer = this.timers.setTimeout(() => {
      if (this.ws !== ws || this.openedThisAttempt) return;
      this.detachAndClose();
      this.failed(undefined, undefined, new Error(`no answer within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
  }

  private onClosed(code: number, reason: string): void {
    if (this.connectTimer !== undefined) this.timers.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (this.currentState === 'closed') return;
    if (!this.openedThisAttempt) {
      this.failed(code, reason);
      return;
    }
    const info = describeCloseCode(code);
    const detail = { closeCode: code, closeReason: reason };
    const relaySaid = reason ? ` The relay said: "${reason}".` : '';
    if (info.retry === 'never') {
      const errCode = code === 1000 ? ErrorCode.RELAY_CLOSED : ErrorCode.RELAY_REFUSED;
      const error = new WgwebError(errCode, `${info.explanation}${relaySaid}`, { url: this.url, closeCode: code, closeName: info.name, reason });
      this.queue = [];
      this.setState('closed', { ...detail, error });
      return;
    }
    const error = new WgwebError(ErrorCode.RELAY_CLOSED, `${info.explanation}${relaySaid}`, {
      url: this.url,
      closeCode: code,
      closeName: info.name,
      reason,
    });
    if (info.retry === 'now') {
      // The relay drains (1012): it asked us to move, so there is nothing to back off from.
      this.candidates[this.current].failures++;
      this.failures = 0;
      this.moveToNextRelay();
      this.setState('reconnecting', { ...detail, retryInMs: 0, error }, true);
      this.connect();
      return;
    }
    if (info.retry === 'on-demand') {
      this.failures = 0;
      if (this.queue.length > 0) {
        this.connect();
        return;
      }
      this.waitingForSend = true;
      this.setState('reconnecting', { ...detail, onDemand: true, error });
      return;
    }
    this.scheduleRetry({ ...detail, error });
  }

  /** An attempt that never opened (unreachable, HTTP-level refusal, timeout, mixed content). */
  private failed(code: number | undefined, reason: string | undefined, cause?: unknown): void {
    const error = new WgwebError(
      ErrorCode.RELAY_UNREACHABLE,
      `Cannot connect to the relay at ${this.url.split('?')[0]}: check the relay URL and that the relay (wgweb relay) is running and reachable.`,
      { url: this.url, closeCode: code, reason },
      cause === undefined ? undefined : { cause },
    );
    const detail = { closeCode: code, closeReason: reason || undefined, error };
    if (!this.everOpened && this.attempt >= this.connectAttempts) {
      this.queue = [];
      this.setState('closed', detail);
      return;
    }
    this.scheduleRetry(detail);
  }

  private scheduleRetry(detail: Omit<RelayStateDetail, 'url' | 'attempt'>): void {
    this.failures++;
    this.candidates[this.current].failures++;
    // Several relays: a relay that failed is replaced by the next one at once; only when every
    // relay has failed in a row does the backoff start (still rotating through the list).
    if (this.candidates.length > 1) {
      this.moveToNextRelay();
      if (this.failures < this.candidates.length) {
        this.setState(this.everOpened ? 'reconnecting' : 'connecting', { ...detail, retryInMs: 0 }, true);
        this.connect();
        return;
      }
    }
    // Counted from the first failure that found no other relay to move to.
    const n = Math.max(1, this.failures - (this.candidates.length - 1));
    const base = Math.min(this.maxDelay, this.initialDelay * 2 ** Math.min(n - 1, 30));
    // "Equal jitter": half fixed, half random, so a relay restart is not met by a synchronized stampede.
    const delay = Math.round(base / 2 + (base / 2) * this.random());
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.currentState !== 'closed') this.connect();
    }, delay);
    // Before the relay was ever reached this is still the first connection, not a reconnect.
    this.setState(this.everOpened ? 'reconnecting' : 'connecting', { ...detail, retryInMs: delay }, true);
  }

  /** The next relay to try: the untried-or-fastest order of measured RTTs, wrapping around. */
  private moveToNextRelay(): void {
    if (this.candidates.length < 2) return;
    const order = this.candidates
      .map((c, i) => ({ i, rtt: c.rttMs ?? Number.POSITIVE_INFINITY }))
      .sort((a, b) => a.rtt - b.rtt || a.i - b.i)
      .map((x) => x.i);
    const at = order.indexOf(this.current);
    this.current = order[(at + 1) % order.length];
    this.relayMoves++;
  }

  private detachAndClose(code?: number, reason?: string): void {
    const ws = this.ws;
    if (!ws) return;
    // What was sent in this task still goes out ahead of the close frame, as it would with v1.
    this.flush();
    this.ws = undefined;
    this.batch = undefined;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Keep a no-op error handler: some implementations report the aborted handshake as an error.
    ws.onerror = () => {};
    try {
      ws.close(code, reason);
    } catch {
      // Closing a socket that is still connecting may throw in some implementations; it is gone either way.
    }
  }

  private clearTimers(): void {
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    if (this.connectTimer !== undefined) this.timers.clearTimeout(this.connectTimer);
    this.retryTimer = this.connectTimer = undefined;
  }

  private setState(state: RelayTransportState, detail: Omit<RelayStateDetail, 'url' | 'attempt'>, always = false): void {
    const changed = state !== this.currentState;
    this.currentState = state;
    if (changed || always) this.onStateCb?.(state, { url: this.url, attempt: this.attempt, ...detail });
  }
}
