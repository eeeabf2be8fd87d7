/**
 * A WebSocket client connection over any {@link Dialer} (the tunnel's TCP in the worker and CLI,
 * Node sockets in tests): the thin I/O adapter around the sans-IO {@link WebSocketProtocol}.
 *
 *   WebSocketConnection.connect(url)
 *     └▶ lookup host ─▶ dialer.connectTcp ─▶ (wss: options.tls, the session's TLS connector)
 *        ─▶ write handshake request (websocket-handshake.ts)
 *     └▶ read response head ─▶ validate (101, Accept, subprotocol) ─▶ leftover bytes = first frames
 *   open:
 *     read loop:  tcp.readable ─▶ protocol.receive ─▶ pump
 *     pump:       protocol.pollEvent ─▶ queue ─▶ onmessage / onping / onpong / onerror / onclose
 *                 (a permessage-deflate message is inflated first, permessage-deflate.ts; events
 *                 behind it wait, so the order holds; a bad or too large one fails with 1007/1009)
 *                 protocol.pollTransmit ─▶ tcp.writable (one frame at a time: backpressure)
 *                 protocol.pollAt ─▶ one timer ─▶ handleTimeout (close handshake deadline)
 *                 protocol.shouldCloseTransport ─▶ FIN after the queued frames
 *     TCP ends ─▶ protocol.transportClosed ─▶ the final close event (code, reason, wasClean)
 *
 * `bufferedAmount` counts application bytes accepted by {@link send} and not yet handed to TCP.
 */
import { MAX_HANDSHAKE_HEAD_BYTES } from './websocket-constants.ts';
import { concatBytes, webCryptoRandomBytes } from '../../shared/bytes.ts';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import { tryParseIp, type IpAddress } from '../../shared/ip-address.ts';
import { SignalScope, raceSignal, unrefTimer } from '../../shared/signal-scope.ts';
import { formatSocketAddress, type Dialer, type TcpConnection } from '../../engine/dialer.ts';
import { HttpProtocolError, findHeadEnd, headScanResume, parseResponseHead } from '../http/http-response-parser.ts';
import { createHandshake, validateHandshakeResponse } from './websocket-handshake.ts';
import { CloseCode, WebSocketProtocol, type WebSocketEvent, type WebSocketProtocolStats, type WebSocketState } from './websocket-protocol.ts';
import type { TlsConnector } from '../http/http-client.ts';
import { InflateLimitError, PERMESSAGE_DEFLATE, PERMESSAGE_DEFLATE_OFFER, inflateMessage, parseDeflateResponse } from './permessage-deflate.ts';


export interface WebSocketConnectOptions {
  dialer: Dialer;
  /** Host names to addresses; literals need none. */
  lookup?: (host: string, signal?: AbortSignal) => Promise<IpAddress[]>;
  /** Secures the TCP connection for wss: URLs (the session's TLS connector); without it wss: fails with USAGE. */
  tls?: TlsConnector;
  /** wss: accept any server certificate (like curl -k); default false. */
  insecure?: boolean;
  /** Subprotocols, in order of preference. */
  protocols?: readonly string[];
  /** Extra handshake headers (Origin, Cookie, Authorization...). */
  headers?: Iterable<[string, string]> | Record<string, string>;
  signal?: AbortSignal;
  /** Gives up on connect plus handshake after this long (default 30 s). */
  timeoutMs?: number;
  /** Random bytes for the key and masks (default crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  maxMessageSize?: number;
  fragmentSize?: number;
  closeTimeoutMs?: number;
  /** Offer permessage-deflate (RFC 7692) for what the server sends (default true). */
  perMessageDeflate?: boolean;
}

/** The final state of a connection. */
export interface WebSocketCloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

function usage(message: string, url: string): WgwebError {
  return new WgwebError(ErrorCode.USAGE, message, { url });
}

/**
 * Parses and checks a WebSocket URL (WHATWG WebSockets §3.1 steps 1-7): ws: or wss: (or http: and
 * https:, which browsers accept and map to them) with no fragment.
 */
export function parseWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw usage(`"${String(input)}" is not a valid URL (write it like ws://10.0.0.2:8080/socket)`, String(input));
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw usage(`cannot open ${url.href}: a WebSocket URL starts with ws:// or wss://`, url.href);
  if (url.hash) throw usage(`cannot open ${url.href}: a WebSocket URL has no #fragment`, url.href);
  return url;
}

/** See the module comment. */
export class WebSocketConnection {
  readonly url: string;
  /** The subprotocol the server chose ('' for none). */
  readonly protocol: string;
  /** The extensions in use ('' for none: this client offers none). */
  readonly extensions: string;
  readonly remote: string;
  /** Resolves with the final close information; never rejects. */
  readonly closed: Promise<WebSocketCloseInfo>;
  onmessage: ((data: string | Uint8Array) => void) | undefined;
  onping: ((data: Uint8Array) => void) | undefined;
  onpong: ((data: Uint8Array) => void) | undefined;
  /** The peer broke the protocol; a close event follows. */
  onerror: ((message: string) => void) | undefined;
  /** The peer started (or answered) the close handshake. */
  onclosing: ((code: number, reason: string) => void) | undefined;
  onclose: ((info: WebSocketCloseInfo) => void) | undefined;
  /** bufferedAmount went down (a frame reached TCP). */
  ondrain: (() => void) | undefined;
  /** Events taken from the protocol and not yet delivered (waiting behind a message being inflated). */
  private readonly queue: WebSocketEvent[] = [];
  private inflating = false;

  private readonly tcp: TcpConnection;
  private readonly protocolState: WebSocketProtocol;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly now: () => number;
  private inFlight = 0;
  private writing = false;
  private transportClosing = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt: number | undefined;
  private resolveClosed!: (info: WebSocketCloseInfo) => void;
  private finished = false;

  private constructor(url: URL, tcp: TcpConnection, protocol: WebSocketProtocol, chosen: { protocol: string; extensions: string }, now: () => number) {
    this.url = url.href;
    this.tcp = tcp;
    this.protocolState = protocol;
    this.protocol = chosen.protocol;
    this.extensions = chosen.extensions;
    this.now = now;
    this.remote = formatSocketAddress(tcp.remoteAddress, tcp.remotePort);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.writer = tcp.writable.getWriter();
    this.writer.closed.catch(() => {});
  }

  /**
   * Opens a connection: TCP, then the opening handshake.
   * @throws {WgwebError} USAGE (bad URL), DNS_*, CONNECTION_REFUSED, HOST_UNREACHABLE, TIMEOUT,
   *   ABORTED, WEBSOCKET_HANDSHAKE (the server did not agree to a WebSocket).
   * @throws {TypeError} for bad subprotocols or headers.
   */
  static async connect(input: string | URL, options: WebSocketConnectOptions): Promise<WebSocketConnection> {
    const url = parseWebSocketUrl(input);
    const secure = url.protocol === 'wss:';
    if (secure && !options.tls) throw usage(`cannot open ${url.href}: wss:// needs TLS, which this connection was not given; use ws://`, url.href);
    const random = options.random ?? webCryptoRandomBytes;
    const now = options.now ?? (() => performance.now());
    const offerDeflate = options.perMessageDeflate !== false && typeof DecompressionStream === 'function';
    const handshake = createHandshake(url, { protocols: options.protocols, headers: options.headers, extensions: offerDeflate ? PERMESSAGE_DEFLATE_OFFER : undefined }, random);
    const scope = new SignalScope(options.signal);
    const timeoutMs = options.timeoutMs ?? 30_000;
    scope.deadline(timeoutMs, () => new WgwebError(ErrorCode.TIMEOUT, `the WebSocket handshake with ${url.host} did not complete within ${timeoutMs} ms`, { url: url.href, timeoutMs }));
    const toError = (reason: unknown): unknown =>
      reason instanceof WgwebError ? reason : new WgwebError(ErrorCode.ABORTED, `opening ${url.href} was aborted`, { url: url.href }, { cause: reason });
    let tcp: TcpConnection | undefined;
    try {
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const port = url.port ? Number(url.port) : secure ? 443 : 80;
      let addresses: IpAddress[];
      const literal = tryParseIp(host);
      if (literal) addresses = [literal];
      else if (options.lookup) addresses = await raceSignal(options.lookup(host, scope.signal), scope.signal, toError);
      else throw new WgwebError(ErrorCode.DNS_FAILURE, `cannot look up ${host}: no DNS resolver is configured (use an IP address)`, { name: host });
      let firstError: unknown;
      for (const address of addresses) {
        try {
          tcp = await options.dialer.connectTcp(address, port, { signal: scope.signal });
          break;
        } catch (e) {
          firstError ??= e;
          if (scope.aborted) break;
        }
      }
      if (!tcp) throw scope.aborted ? toError(scope.signal.reason) : firstError ?? new WgwebError(ErrorCode.DNS_NXDOMAIN, `${host}: no address`, { name: host });
      // RFC 6455 §4.1 step 5 (wss): the TLS handshake first (SNI and certificate for the URL's host),
      // then the opening handshake inside it. A TLS failure is about the server: no other address is tried.
      if (secure) {
        const raw = tcp;
        const onTlsAbort = (): void => raw.abort(scope.signal.reason);
        scope.signal.addEventListener('abort', onTlsAbort, { once: true });
        try {
          tcp = await options.tls!(raw, { host, port, insecure: options.insecure === true, signal: scope.signal });
        } catch (e) {
          raw.abort(e);
          throw e;
        } finally {
          scope.signal.removeEventListener('abort', onTlsAbort);
        }
      }
      const conn = tcp;
      const onAbort = (): void => conn.abort(scope.signal.reason);
      scope.signal.addEventListener('abort', onAbort, { once: true });
      let head;
      let rest: Uint8Array;
      const reader = tcp.readable.getReader();
      try {
        const w = tcp.writable.getWriter();
        await w.write(handshake.request);
        w.releaseLock();
        ({ head, rest } = await readHead(reader, url.href));
      } finally {
        scope.signal.removeEventListener('abort', onAbort);
      }
      if (scope.aborted) throw toError(scope.signal.reason);
      let result = validateHandshakeResponse(handshake, head, offerDeflate ? [PERMESSAGE_DEFLATE] : []);
      let deflate = false;
      if (!('failure' in result) && result.extensions) {
        // RFC 7692 §7.1: the one extension we offered, once, with parameters that fit our offer.
        const accepted = result.extensions.split(',').map((e) => e.trim());
        const params = accepted.length === 1 ? parseDeflateResponse(accepted[0]!.slice(accepted[0]!.indexOf(';') + 1 || accepted[0]!.length)) : { failure: `the server accepted permessage-deflate ${accepted.length} times` };
        if ('failure' in params) result = { failure: params.failure };
        else deflate = true;
      }
      if ('failure' in result) {
        throw new WgwebError(ErrorCode.WEBSOCKET_HANDSHAKE, `the server at ${formatSocketAddress(conn.remoteAddress, conn.remotePort)} refused the WebSocket for ${url.href}: ${result.failure}`, {
          url: url.href,
          status: head.status,
        });
      }
      const protocol = new WebSocketProtocol({
        random,
        maxMessageSize: options.maxMessageSize,
        fragmentSize: options.fragmentSize,
        closeTimeoutMs: options.closeTimeoutMs,
        deflate,
      });
      const ws = new WebSocketConnection(url, conn, protocol, result, now);
      ws.start(reader, rest);
      return ws;
    } catch (e) {
      tcp?.abort(e);
      if (scope.aborted) throw toError(scope.signal.reason);
      if (e instanceof HttpProtocolError) {
        throw new WgwebError(ErrorCode.WEBSOCKET_HANDSHAKE, `malformed handshake response for ${url.href}: ${e.message}`, { url: url.href }, { cause: e });
      }
      throw e;
    } finally {
      scope.dispose();
    }
  }

  get readyState(): WebSocketState {
    return this.protocolState.state;
  }

  /** Application bytes accepted by {@link send} and not yet written to TCP. */
  get bufferedAmount(): number {
    return this.protocolState.bufferedAmount + this.inFlight;
  }

  get stats(): WebSocketProtocolStats {
    return this.protocolState.stats;
  }

  /** Sends a text (string) or binary message; false once closing (the data is dropped, as browsers do). */
  send(data: string | Uint8Array): boolean {
    const ok = typeof data === 'string' ? this.protocolState.sendText(data) : this.protocolState.sendBinary(data);
    this.pump();
    return ok;
  }

  ping(data?: Uint8Array): boolean {
    const ok = this.protocolState.ping(data);
    this.pump();
    return ok;
  }

  /** Starts the close handshake (code 1000 or 3000-4999 and the like; see WebSocketProtocol.close). */
  close(code?: number, reason?: string): void {
    this.protocolState.close(this.now(), code, reason);
    this.pump();
  }

  /** Drops the connection at once (TCP reset): the close event reports 1006. */
  abort(reason?: unknown): void {
    this.tcp.abort(reason);
    this.protocolState.transportClosed(this.now());
    this.pump();
  }

  private start(reader: ReadableStreamDefaultReader<Uint8Array>, initial: Uint8Array): void {
    if (initial.length) this.protocolState.receive(initial, this.now());
    this.pump();
    void (async () => {
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          this.protocolState.receive(r.value, this.now());
          this.pump();
        }
      } catch {
        // A reset: the close event says 1006.
      }
      this.tcp.close();
      this.protocolState.transportClosed(this.now());
      this.pump();
    })();
    void this.tcp.closed.then(() => {
      this.protocolState.transportClosed(this.now());
      this.pump();
    });
  }

  /** Runs everything the protocol has ready: events, frames to write, timers, transport close. */
  private pump(): void {
    this.deliverEvents();
    if (!this.writing) void this.flush();
    this.schedule();
  }

  private deliverEvents(): void {
    for (let e = this.protocolState.pollEvent(); e; e = this.protocolState.pollEvent()) this.queue.push(e);
    while (!this.inflating) {
      const e = this.queue.shift();
      if (!e) return;
      if (e.type === 'compressed') {
        this.inflating = true;
        void this.inflate(e.data, e.binary);
        return;
      }
      try {
        switch (e.type) {
          case 'message':
            this.onmessage?.(e.data);
            break;
          case 'ping':
            this.onping?.(e.data);
            break;
          case 'pong':
            this.onpong?.(e.data);
            break;
          case 'error':
            this.onerror?.(e.message);
            break;
          case 'closing':
            this.onclosing?.(e.code, e.reason);
            break;
          case 'close':
            this.finish({ code: e.code, reason: e.reason, wasClean: e.wasClean });
            break;
        }
      } catch {
        // A listener's failure must not stop the connection.
      }
    }
  }

  /** Inflates one permessage-deflate message, delivers it, then the events that waited behind it. */
  private async inflate(compressed: Uint8Array, binary: boolean): Promise<void> {
    let data: string | Uint8Array | undefined;
    let failure: [number, string, string] | undefined;
    try {
      const bytes = await inflateMessage(compressed, this.protocolState.maxMessageSize);
      try {
        data = binary ? bytes : utf8Strict.decode(bytes);
      } catch {
        failure = [CloseCode.INVALID_PAYLOAD, 'bad-utf8', 'a text message that is not valid UTF-8'];
      }
    } catch (e) {
      // RFC 7692 §8 / RFC 6455 §7.4.1: too big is 1009 (the decompression-bomb guard); bad deflate data is 1007.
      failure =
        e instanceof InflateLimitError
          ? [CloseCode.MESSAGE_TOO_BIG, 'inflate-too-big', `a compressed message that inflates beyond ${this.protocolState.maxMessageSize} bytes`]
          : [CloseCode.INVALID_PAYLOAD, 'bad-deflate', 'a compressed message that is not valid deflate data'];
    }
    if (failure) {
      const [code, counter, what] = failure;
      this.protocolState.failMessage(this.now(), code, what, counter);
      // Messages that arrived behind it are not delivered: the connection failed at this one.
      for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.type === 'message' || this.queue[i]!.type === 'compressed') this.queue.splice(i, 1);
    }
    this.inflating = false;
    if (data !== undefined) {
      try {
        this.onmessage?.(data);
      } catch {
        // A listener's failure must not stop the connection.
      }
    }
    this.pump();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      for (let t = this.protocolState.pollTransmit(); t; t = this.protocolState.pollTransmit()) {
        this.inFlight += t.appBytes;
        try {
          await this.writer.write(t.bytes);
        } catch {
          this.inFlight = 0;
          this.protocolState.transportClosed(this.now());
          break;
        } finally {
          this.inFlight = Math.max(0, this.inFlight - t.appBytes);
        }
        if (t.appBytes) this.ondrain?.();
      }
    } finally {
      this.writing = false;
    }
    // Writes may have failed (events to deliver) or made the transport closable.
    this.deliverEvents();
    this.schedule();
  }

  private schedule(): void {
    if (this.protocolState.shouldCloseTransport && !this.writing && !this.transportClosing) {
      this.transportClosing = true;
      this.tcp.close();
    }
    const at = this.protocolState.pollAt();
    if (at === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.protocolState.handleTimeout(this.now());
      this.pump();
      if (this.protocolState.shouldCloseTransport && this.protocolState.state !== 'closed') {
        // The peer never finished the close handshake: reset rather than wait for its FIN too.
        this.tcp.abort();
        this.protocolState.transportClosed(this.now());
        this.pump();
      }
    }, Math.max(0, at - this.now()));
    unrefTimer(this.timer);
  }

  private finish(info: WebSocketCloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolveClosed(info);
    this.onclose?.(info);
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads the handshake response head; what follows it is the first frame bytes. */
async function readHead(reader: ReadableStreamDefaultReader<Uint8Array>, url: string): Promise<{ head: ReturnType<typeof parseResponseHead>; rest: Uint8Array }> {
  let buf = new Uint8Array(0);
  let scanned = 0;
  for (;;) {
    const end = findHeadEnd(buf, scanned);
    if (end >= 0) {
      const head = parseResponseHead(buf.subarray(0, end), { maxHeaderBytes: MAX_HANDSHAKE_HEAD_BYTES, maxHeaderCount: 256 });
      return { head, rest: buf.slice(end) };
    }
    if (buf.length > MAX_HANDSHAKE_HEAD_BYTES) throw new HttpProtocolError(`the response headers are larger than ${MAX_HANDSHAKE_HEAD_BYTES} bytes`);
    scanned = headScanResume(buf.length);
    const r = await reader.read();
    if (r.done) {
      throw new WgwebError(ErrorCode.WEBSOCKET_HANDSHAKE, `the server closed the connection before answering the WebSocket handshake for ${url}`, { url, received: buf.length });
    }
    buf = concatBytes(buf, r.value);
  }
}
