/**
 * A small HTTP/1.1 server on wgweb's own TCP stack: the demo peer's web site runs on it, so every
 * page a visitor sees was parsed, framed and sent by the netstack acting as a server.
 *
 *   TcpListener 'connection' ──accept()──▶ TcpStreamConnection (WHATWG streams over the socket)
 *     loop per connection:
 *       ByteReader.readHead ──parseRequestHead──▶ 4xx/5xx + close  (garbage, limits)
 *                           └─▶ HttpRequest (body: ReadableStream, length- or chunk-framed)
 *       handler(request) ──▶ HttpResponse ──▶ head + body (Content-Length, or chunked when the
 *                                              length is unknown; nothing for HEAD/204/304)
 *       keep-alive? unread body small enough to drain? ──▶ next request : FIN
 *
 * Limits: head size, header count and target length (431/414), a read timeout per wait (a first
 * request must come within `headTimeoutMs`, later ones within `idleTimeoutMs`), requests per
 * connection, concurrent connections (more are reset at once). Bodies of any size stream through
 * with TCP flow control; nothing is buffered beyond what a handler asks for.
 */
import { concatBytes } from '../../../shared/bytes.ts';
import { ChunkedDecoder } from '../../../protocols/http/chunked-decoder.ts';
import type { TcpListener } from '../../../netstack/socket/tcp-listener.ts';
import type { TcpSocket } from '../../../netstack/socket/tcp-socket.ts';
import { TcpStreamConnection } from '../../../engine/tcp-stream-connection.ts';
import type { IpAddress } from '../../../shared/ip-address.ts';
import { ByteReader, READ_TIMEOUT } from './byte-reader.ts';
import {
  DEFAULT_REQUEST_HEAD_LIMITS,
  fieldValue,
  isRequestHeadError,
  parseRequestHead,
  type RequestHead,
  type RequestHeadLimits,
} from './http-request-head.ts';

/** An error a handler throws to answer with a status (413, 404, ...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** One request, as a handler sees it. Header names are lower case. */
export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  /** Path as sent (percent-encoding kept). */
  readonly path: string;
  /** Query string without `?`. */
  readonly query: string;
  readonly minorVersion: number;
  readonly headers: readonly [string, string][];
  /** First value of a header (lower-case name). */
  header(name: string): string | undefined;
  /** Content-Length of the body, undefined when chunked or absent. */
  readonly bodyLength: number | undefined;
  /** True when the request has a body (length > 0 or chunked). */
  readonly hasBody: boolean;
  /** The body, streamed from the connection (empty when none). Read it at most once. */
  readonly body: ReadableStream<Uint8Array>;
  /**
   * Reads the whole body into memory.
   * @throws {HttpError} 413 when it is longer than `maxBytes`, 400 when it is malformed or cut.
   */
  readBody(maxBytes: number): Promise<Uint8Array>;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  readonly localAddress: IpAddress;
  readonly localPort: number;
  /** The TCP connection (for its stats on teaching pages). */
  readonly socket: TcpSocket;
  /** 1 for the first request on this connection, 2 for the next (keep-alive) ... */
  readonly sequence: number;
}

/** Body of a response: text (UTF-8), bytes, or a stream. */
export type HttpBody = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** What a handler returns. */
export interface HttpResponse {
  status: number;
  /** Header values; an array writes the field once per value (Set-Cookie). */
  headers?: Record<string, string | readonly string[]>;
  body?: HttpBody;
  /** Byte length of a streamed body: sent as Content-Length (the stream must match it). */
  length?: number;
}

export type HttpHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

export interface HttpServerOptions {
  listener: TcpListener;
  /** Asks the event loop to poll (socket writes, reads that opened the window). */
  wake: () => void;
  handler: HttpHandler;
  /** Sent in the `Server` field (default `wgweb-demo`). */
  serverName?: string;
  limits?: Partial<RequestHeadLimits>;
  /** Wait for a connection's first request head (default 20 s). */
  headTimeoutMs?: number;
  /** Wait between requests and for each piece of a body (default 60 s). */
  idleTimeoutMs?: number;
  /** Requests served on one connection before it is closed (default 1000). */
  maxRequestsPerConnection?: number;
  /** Connections served at once; more are reset (default 256). */
  maxConnections?: number;
  /** Unexpected handler errors (the client got a 500). */
  onError?: (error: unknown, request: HttpRequest | undefined) => void;
}

/** Counters of an {@link HttpServer}. */
export interface HttpServerStats {
  connections: number;
  acceptedConnections: number;
  refusedConnections: number;
  requests: number;
  /** Requests refused before a handler ran (bad head, limits). */
  badRequests: number;
  handlerErrors: number;
}

/** Unread body bytes the server reads and drops to keep a connection alive. */
const DRAIN_LIMIT = 64 * 1024;
/** Bodies up to this size go out in the same write as the head. */
const COALESCE_LIMIT = 16 * 1024;
const BODY_READ_CHUNK = 64 * 1024;
const CRLF = new Uint8Array([0x0d, 0x0a]);
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** Reason phrase for a status (empty for unknown ones, which RFC 9112 §4 allows). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

/** Serves HTTP/1.1 on a listener until {@link close}. */
export class HttpServer {
  private readonly listener: TcpListener;
  private readonly wake: () => void;
  private readonly handler: HttpHandler;
  private readonly serverName: string;
  private readonly limits: RequestHeadLimits;
  private readonly headTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxRequests: number;
  private readonly maxConnections: number;
  private readonly onError?: (error: unknown, request: HttpRequest | undefined) => void;
  private readonly live = new Set<TcpStreamConnection>();
  private readonly counters: Omit<HttpServerStats, 'connections'> = {
    acceptedConnections: 0,
    refusedConnections: 0,
    requests: 0,
    badRequests: 0,
    handlerErrors: 0,
  };
  private closed = false;

  constructor(options: HttpServerOptions) {
    this.listener = options.listener;
    this.wake = options.wake;
    this.handler = options.handler;
    this.serverName = options.serverName ?? 'wgweb-demo';
    this.limits = { ...DEFAULT_REQUEST_HEAD_LIMITS, ...options.limits };
    this.headTimeoutMs = options.headTimeoutMs ?? 20_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.maxRequests = options.maxRequestsPerConnection ?? 1000;
    this.maxConnections = options.maxConnections ?? 256;
    this.onError = options.onError;
    // The service boundary: what goes wrong accepting or serving is reported, never thrown on.
    this.listener.onEvent = () => {
      try {
        this.acceptAll();
      } catch (e) {
        this.onError?.(e, undefined);
      }
    };
    this.acceptAll();
  }

  stats(): HttpServerStats {
    return { connections: this.live.size, ...this.counters };
  }

  /** Stops listening and resets every open connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    for (const c of this.live) c.abort();
    this.live.clear();
    this.wake();
  }

  private acceptAll(): void {
    for (let socket = this.listener.accept(); socket; socket = this.listener.accept()) {
      if (this.closed || this.live.size >= this.maxConnections) {
        this.counters.refusedConnections++;
        socket.abort();
        this.wake();
        continue;
      }
      this.counters.acceptedConnections++;
      const conn = new TcpStreamConnection(socket, this.wake);
      this.live.add(conn);
      void this.serve(conn)
        .catch((e: unknown) => {
          this.onError?.(e, undefined);
          conn.abort();
        })
        .finally(() => this.live.delete(conn));
    }
  }

  private async serve(conn: TcpStreamConnection): Promise<void> {
    const reader = new ByteReader(conn.readable.getReader());
    const writer = conn.writable.getWriter();
    let graceful = true;
    try {
      for (let sequence = 1; sequence <= this.maxRequests && !this.closed; sequence++) {
        const read = await reader.readHead(this.limits.maxHeadBytes, sequence === 1 ? this.headTimeoutMs : this.idleTimeoutMs);
        if (read.kind === 'eof') break;
        if (read.kind === 'timeout') {
          // RFC 9110 §15.5.9: 408 when a request was started; an idle keep-alive just closes.
          if (reader.buffered > 0) await this.writeError(writer, 408, 'the request head did not arrive in time');
          break;
        }
        if (read.kind === 'truncated') break;
        if (read.kind === 'too-large') {
          this.counters.badRequests++;
          await this.writeError(writer, 431, `the request head is larger than ${this.limits.maxHeadBytes} bytes`);
          break;
        }
        const head = parseRequestHead(read.head, this.limits);
        if (isRequestHeadError(head)) {
          this.counters.badRequests++;
          await this.writeError(writer, head.status, head.message);
          break;
        }
        this.counters.requests++;
        const keepAlive = await this.exchange(conn, reader, writer, head, sequence);
        if (!keepAlive) break;
      }
    } catch {
      // The connection failed under us (reset, write to a closed socket): nothing left to answer.
      graceful = false;
    } finally {
      reader.cancel();
      if (graceful) {
        writer.close().catch(() => {});
        conn.close();
      } else {
        conn.abort();
      }
    }
  }

  /** One request/response exchange; resolves whether the connection may carry another one. */
  private async exchange(
    conn: TcpStreamConnection,
    reader: ByteReader,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    head: RequestHead,
    sequence: number,
  ): Promise<boolean> {
    let responseStarted = false;
    let continueSent = false;
    const body = new RequestBody(reader, head, this.idleTimeoutMs, async () => {
      if (!head.expectContinue || continueSent || responseStarted) return;
      continueSent = true;
      await writer.write(encoder.encode('HTTP/1.1 100 Continue\r\n\r\n'));
    });
    const socket = conn.socket;
    const request: HttpRequest = {
      method: head.method,
      target: head.target,
      path: head.path,
      query: head.query,
      minorVersion: head.minorVersion,
      headers: head.headers,
      header: (name) => fieldValue(head.headers, name.toLowerCase()),
      bodyLength: head.body.kind === 'length' ? head.body.length : undefined,
      hasBody: head.body.kind !== 'none',
      body: body.stream,
      readBody: (max) => body.readAll(max),
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      socket,
      sequence,
    };

    let response: HttpResponse;
    try {
      response = await this.handler(request);
    } catch (e) {
      if (e instanceof HttpError) {
        response = errorResponse(e.status, e.message);
      } else {
        this.counters.handlerErrors++;
        this.onError?.(e, request);
        response = errorResponse(500, 'the server failed while answering this request');
      }
    }
    if (body.failed) {
      // The body was malformed or cut: what the handler made of it is moot.
      response = errorResponse(400, body.failed);
    }

    let keepAlive = head.keepAlive && sequence < this.maxRequests && !this.closed;
    if (keepAlive && !body.finished) {
      // A small unread body is read and dropped so the next request can follow; a large one, or
      // one the client holds back for a 100 Continue we never sent, ends the connection instead.
      if (head.expectContinue && !continueSent) keepAlive = false;
      else keepAlive = await body.drain(DRAIN_LIMIT);
    }
    responseStarted = true;
    await this.writeResponse(writer, head, response, keepAlive);
    return keepAlive;
  }

  private async writeResponse(
    writer: WritableStreamDefaultWriter<Uint8Array>,
    req: Pick<RequestHead, 'method' | 'minorVersion'>,
    res: HttpResponse,
    keepAliveWanted: boolean,
  ): Promise<boolean> {
    let keepAlive = keepAliveWanted;
    const status = res.status;
    if (!Number.isInteger(status) || status < 200 || status > 999) throw new RangeError(`a final status is 200 to 999, not ${status}`);
    const noBody = req.method === 'HEAD' || status === 204 || status === 304;
    let fixed: Uint8Array | undefined;
    let stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | undefined;
    let length: number | undefined;
    if (res.body === undefined) fixed = EMPTY;
    else if (typeof res.body === 'string') fixed = encoder.encode(res.body);
    else if (res.body instanceof Uint8Array) fixed = res.body;
    else {
      stream = res.body;
      length = res.length;
    }
    if (fixed) length = fixed.length;
    const chunked = length === undefined && req.minorVersion === 1;
    // Without a length and without chunked coding (an HTTP/1.0 client), the end of the body is
    // the end of the connection (RFC 9112 §6.3 rule 8).
    if (length === undefined && !chunked && !noBody) keepAlive = false;

    const lines = [`HTTP/1.1 ${status} ${reasonPhrase(status)}`, `Date: ${new Date().toUTCString()}`, `Server: ${this.serverName}`];
    for (const [name, value] of Object.entries(res.headers ?? {})) {
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
      for (const v of typeof value === 'string' ? [value] : value) {
        if (/[\r\n\0]/.test(v) || /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(name)) throw new RangeError(`header ${name} has a forbidden character`);
        lines.push(`${name}: ${v}`);
      }
    }
    if (status !== 204 && !(status === 304)) {
      if (length !== undefined) lines.push(`Content-Length: ${length}`);
      else if (chunked) lines.push('Transfer-Encoding: chunked');
    }
    lines.push(`Connection: ${keepAlive ? 'keep-alive' : 'close'}`);
    const headBytes = encoder.encode(lines.join('\r\n') + '\r\n\r\n');

    if (noBody) {
      if (stream) cancelBody(stream);
      await writer.write(headBytes);
      return keepAlive;
    }
    if (fixed) {
      if (fixed.length <= COALESCE_LIMIT) {
        await writer.write(concatBytes(headBytes, fixed));
      } else {
        await writer.write(headBytes);
        await writer.write(fixed);
      }
      return keepAlive;
    }
    await writer.write(headBytes);
    let sent = 0;
    const chunks = iterate(stream!);
    // A failing body is the handler's fault (counted, reported); a failing write is the client
    // going away, which is nobody's error. Either way the connection is reset, never ended
    // cleanly: the client must see a broken transfer, not a short "complete" one.
    const bodyFailed = (e: unknown): never => {
      this.counters.handlerErrors++;
      this.onError?.(e, undefined);
      throw e;
    };
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await chunks.next();
        } catch (e) {
          return bodyFailed(e);
        }
        if (next.done) break;
        const chunk = next.value;
        if (!(chunk instanceof Uint8Array)) return bodyFailed(new TypeError('a response body stream must yield Uint8Array chunks'));
        if (chunk.length === 0) continue;
        sent += chunk.length;
        if (length !== undefined && sent > length) return bodyFailed(new RangeError(`the response body is longer than its declared ${length} bytes`));
        await writer.write(chunked ? chunkFrame(chunk) : chunk);
      }
    } finally {
      void chunks.return(undefined).catch(() => {});
    }
    if (length !== undefined && sent !== length) return bodyFailed(new RangeError(`the response body ended after ${sent} of its declared ${length} bytes`));
    if (chunked) await writer.write(encoder.encode('0\r\n\r\n'));
    return keepAlive;
  }

  private async writeError(writer: WritableStreamDefaultWriter<Uint8Array>, status: number, message: string): Promise<void> {
    await this.writeResponse(writer, { method: 'GET', minorVersion: 1 }, errorResponse(status, message), false);
  }
}

/** A plain-text error response. */
export function errorResponse(status: number, message: string): HttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    body: `${status} ${reasonPhrase(status)}: ${message}\n`,
  };
}

function chunkFrame(chunk: Uint8Array): Uint8Array {
  return concatBytes(encoder.encode(chunk.length.toString(16) + '\r\n'), chunk, CRLF);
}

async function* iterate(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  } else {
    yield* body;
  }
}

function cancelBody(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): void {
  if (body instanceof ReadableStream) body.cancel().catch(() => {});
  else {
    const it = body[Symbol.asyncIterator]();
    void it.return?.();
  }
}

/** The body of one request: length- or chunk-framed bytes from the connection's reader. */
class RequestBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** Why the body is unusable (malformed chunking, cut short), if it is. */
  failed: string | undefined;
  private remaining: number;
  private readonly decoder: ChunkedDecoder | undefined;
  private done: boolean;
  private reading = false;

  constructor(
    private readonly reader: ByteReader,
    head: RequestHead,
    private readonly timeoutMs: number,
    private readonly beforeFirstRead: () => Promise<void>,
  ) {
    this.remaining = head.body.kind === 'length' ? head.body.length : 0;
    this.decoder = head.body.kind === 'chunked' ? new ChunkedDecoder(16 * 1024) : undefined;
    this.done = head.body.kind === 'none';
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const chunk = await this.next();
            if (chunk === undefined) controller.close();
            else controller.enqueue(chunk);
          } catch (e) {
            controller.error(e);
          }
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** True once every byte of the body was read from the connection. */
  get finished(): boolean {
    return this.done && !this.failed;
  }

  async readAll(maxBytes: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    const reader = this.stream.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        total += r.value.length;
        if (total > maxBytes) throw new HttpError(413, `the request body is larger than ${maxBytes} bytes`);
        parts.push(r.value);
      }
    } finally {
      reader.releaseLock();
    }
    return concatBytes(...parts);
  }

  /** Reads and drops up to `limit` unread bytes; true when the body then ended cleanly. */
  async drain(limit: number): Promise<boolean> {
    if (this.reading) return false; // a handler still holds the stream
    if (this.decoder === undefined && this.remaining > limit) return false;
    let dropped = 0;
    try {
      while (!this.done) {
        const chunk = await this.next();
        if (chunk === undefined) break;
        dropped += chunk.length;
        if (dropped > limit) return false;
      }
    } catch {
      return false;
    }
    return this.finished;
  }

  /** The next piece of body data, undefined at its end. @throws {HttpError} 400 on bad framing. */
  private async next(): Promise<Uint8Array | undefined> {
    if (this.done) return undefined;
    if (this.failed) throw new HttpError(400, this.failed);
    this.reading = true;
    try {
      await this.beforeFirstRead();
      for (;;) {
        const want = this.decoder ? BODY_READ_CHUNK : Math.min(this.remaining, BODY_READ_CHUNK);
        const raw = await this.reader.readSome(want, this.timeoutMs);
        if (raw === READ_TIMEOUT) return this.fail('the request body stalled');
        if (raw === undefined) return this.fail('the connection closed before the request body was complete');
        if (!this.decoder) {
          this.remaining -= raw.length;
          if (this.remaining === 0) this.done = true;
          return raw;
        }
        let out;
        try {
          out = this.decoder.push(raw);
        } catch {
          return this.fail('the chunked request body is malformed');
        }
        if (out.rest.length > 0) this.reader.unread(out.rest);
        if (out.done) this.done = true;
        if (out.data.length > 0) {
          return concatBytes(...out.data);
        }
        if (this.done) return undefined;
      }
    } finally {
      this.reading = false;
    }
  }

  private fail(message: string): never {
    this.failed = message;
    throw new HttpError(400, message);
  }
}
