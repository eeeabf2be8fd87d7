/**
 * A fetch-like HTTP/1.1 client (RFC 9110, RFC 9112) for servers inside the tunnel, over any
 * {@link Dialer}. Returns standard WHATWG `Response`s whose bodies stream from the connection.
 *
 *   fetch(url, init)
 *     └▶ exchange: pool.acquire(origin) ─▶ (new) resolver.lookup ─▶ dialer.connectTcp (each address)
 *          └▶ writeRequest (head + body: Content-Length or chunked)   ┐ concurrently
 *          └▶ readHead (1xx skipped, size/count limits)               ┘
 *          └▶ bodyFraming ─▶ body stream (pull-based) ─▶ gzip/deflate decoding ─▶ Response
 *          └▶ body read to the end ─▶ connection back to the pool (keep-alive) │ else discarded
 *          └▶ pooled connection found closed before any response byte ─▶ idempotent request sent once more
 *     └▶ 401 + WWW-Authenticate and URL credentials ─▶ the same request once more with Authorization (http-auth.ts)
 *     └▶ 301/302/303/307/308 + Location ─▶ next exchange (up to 20), or the 3xx itself (redirect: 'manual')
 *
 * Failures reach the caller as {@link WgwebError}s with codes a user can act on (CONNECTION_REFUSED,
 * TIMEOUT, DNS_*, HTTP_PROTOCOL, HTTP_CLOSED_EARLY, ABORTED, USAGE); mistakes in the call itself
 * (bad method, body with GET) as TypeError.
 */
import { MAX_INTERIM_RESPONSES, MAX_REDIRECTS, REDIRECT_DRAIN_LIMIT } from './http-constants.ts';
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { tryParseIp, type IpAddress } from '../../shared/ip-address.ts';
import { concatBytes } from '../../shared/bytes.ts';
import { Authenticator, chooseChallenge, parseChallenges, type Credentials } from './http-auth.ts';
import type { Dialer, TcpConnection } from '../../engine/dialer.ts';
import { ConnectionPool, type ConnectionPoolStats } from './connection-pool.ts';
import { HttpConnection } from './http-connection.ts';
import {
  HttpProtocolError,
  bodyFraming,
  findHeadEnd,
  headScanResume,
  headersTooLarge,
  headerList,
  parseResponseHead,
  type ResponseHead,
} from './http-response-parser.ts';
import { RequestBodyError, serializeRequestHead, writeRequest, type RequestBody } from './http-request-writer.ts';
import { bytesStream, createBodyStream, decodableCoding, decodeContent, type BodyEnd } from './http-body-stream.ts';
import { TimingRecorder, type HttpTiming } from './http-timing.ts';
import { SignalScope } from '../../shared/signal-scope.ts';

export type { HttpTiming } from './http-timing.ts';

/** Statuses whose Response must have a null body (Fetch "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** RFC 9110 §9.2.2: these may be sent again after a connection failure. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Fetch normalizes these methods to upper case; others are sent as written. */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Anything that turns a host name into addresses; {@link DnsResolver} fits. */
export interface HostResolver {
  lookup(name: string, options?: { signal?: AbortSignal }): Promise<IpAddress[]>;
}

/** What {@link TlsConnector} needs to secure one connection. */
export interface TlsConnectParams {
  /** The URL's host (DNS name or IP literal, no brackets): SNI and the name the certificate must match. */
  host: string;
  port: number;
  /** Skip certificate checks (the request's `insecure` option). */
  insecure: boolean;
  signal: AbortSignal;
}

/**
 * Runs a TLS handshake over an established TCP connection and returns the plaintext connection.
 * Kept behind this function so the TLS code loads only when the first https URL is fetched.
 */
export type TlsConnector = (tcp: TcpConnection, params: TlsConnectParams) => Promise<TcpConnection>;

export interface HttpClientOptions {
  dialer: Dialer;
  /** Enables https: URLs (default port 443); without it they fail with USAGE. */
  tls?: TlsConnector;
  /** Needed for host names; IP-literal URLs work without it. */
  resolver?: HostResolver;
  /** Sent as User-Agent unless the request sets one. */
  userAgent?: string;
  /** Parallel connections per origin (default 6, like browsers); further requests queue. */
  maxConnectionsPerOrigin?: number;
  /** How long an unused keep-alive connection is kept (default 30 s; a server's Keep-Alive timeout shortens it). */
  idleTimeoutMs?: number;
  /** Per-address TCP connect timeout (default 15 s). */
  connectTimeoutMs?: number;
  /** Limit on a response head: status line plus headers (default 64 KiB; trailers count separately). */
  maxHeaderBytes?: number;
  /** Limit on the number of response header lines (default 256). */
  maxHeaderCount?: number;
  /** Monotonic milliseconds for timings (default `performance.now`). */
  now?: () => number;
}

/** What {@link HttpClient.fetch} accepts besides the URL: a subset of Fetch's RequestInit, plus timeouts and timings. */
export interface HttpRequestInit {
  method?: string;
  headers?: HeadersInit;
  /** A stream is sent chunked unless a Content-Length header is given; it cannot be replayed for 307/308 redirects. */
  body?: string | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | null;
  redirect?: 'follow' | 'manual' | 'error';
  /** Aborts the request, including a body still streaming. */
  signal?: AbortSignal;
  /** Limit for the whole request, body included; the error has code TIMEOUT. */
  timeoutMs?: number;
  /** https: accept any certificate (like curl -k). Connections made so are pooled apart from checked ones. */
  insecure?: boolean;
  /** Receives one {@link HttpTiming} per exchange (redirect hops included) when it is over. */
  onTiming?: (timing: HttpTiming) => void;
  /**
   * Receives each final response head as sent (redirect hops included), before the body: header
   * names in their original case and fields a `Response` hides in browsers (Set-Cookie).
   */
  onResponseHead?: (head: HttpResponseHead) => void;
}

/** A response head as it came off the wire, for display. */
export interface HttpResponseHead {
  url: string;
  httpVersion: '1.0' | '1.1';
  status: number;
  statusText: string;
  /** Field lines in order, as sent. */
  headers: [string, string][];
}

export interface HttpClientStats extends ConnectionPoolStats {
  requests: number;
  /** Requests sent again after a pooled connection turned out to be closed. */
  retries: number;
}

interface ExchangeResult {
  response: Response;
  /** Settles (never rejects) when the body is over: read, failed or cancelled. */
  bodyDone: Promise<void>;
}

function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function usage(message: string, detail: Record<string, unknown> = {}): WgwebError {
  return new WgwebError(ErrorCode.USAGE, message, detail);
}

/** Rejects anything but http: (and https: with a TLS connector) with a sentence a user can act on. */
function checkScheme(url: URL, tls: boolean, context = ''): void {
  if (url.protocol === 'http:' || (url.protocol === 'https:' && tls)) return;
  const where = context ? `${context}: ` : '';
  if (url.protocol === 'https:') {
    throw usage(`${where}cannot fetch ${url.href}: this HTTP client has no TLS connector; use an http:// URL`, { url: url.href });
  }
  throw usage(`${where}cannot fetch ${url.href}: only http:// and https:// URLs can be fetched through the tunnel`, { url: url.href });
}

function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function keepAliveTimeoutMs(head: ResponseHead): number | undefined {
  for (const param of headerList(head, 'keep-alive')) {
    const m = /^timeout\s*=\s*"?(\d+)"?$/i.exec(param);
    // Leave a second of margin so we never send on a connection the server is about to close.
    if (m) return Math.max(0, Number(m[1]) * 1000 - 1000);
  }
  return undefined;
}

/** Fetch-like HTTP/1.1 client over a {@link Dialer}. */
export class HttpClient {
  private readonly dialer: Dialer;
  private readonly tls: TlsConnector | undefined;
  private readonly resolver: HostResolver | undefined;
  private readonly userAgent: string | undefined;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaderCount: number;
  private readonly now: () => number;
  private readonly pool: ConnectionPool;
  private requests = 0;
  private retries = 0;
  private isClosed = false;

  constructor(options: HttpClientOptions) {
    if (!options || !options.dialer) throw new TypeError('HttpClient needs a dialer');
    this.dialer = options.dialer;
    this.tls = options.tls;
    this.resolver = options.resolver;
    this.userAgent = options.userAgent;
    const maxConns = options.maxConnectionsPerOrigin ?? 6;
    if (!Number.isInteger(maxConns) || maxConns < 1) throw new RangeError(`maxConnectionsPerOrigin must be a positive integer, not ${maxConns}`);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    if (!(this.idleTimeoutMs >= 0)) throw new RangeError(`idleTimeoutMs must be 0 or more, not ${options.idleTimeoutMs}`);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    if (!(this.connectTimeoutMs > 0)) throw new RangeError(`connectTimeoutMs must be positive, not ${options.connectTimeoutMs}`);
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    if (!Number.isInteger(this.maxHeaderBytes) || this.maxHeaderBytes < 64) throw new RangeError(`maxHeaderBytes must be an integer of at least 64, not ${options.maxHeaderBytes}`);
    this.maxHeaderCount = options.maxHeaderCount ?? 256;
    if (!Number.isInteger(this.maxHeaderCount) || this.maxHeaderCount < 1) throw new RangeError(`maxHeaderCount must be a positive integer, not ${options.maxHeaderCount}`);
    this.now = options.now ?? (() => performance.now());
    this.pool = new ConnectionPool({ maxConnectionsPerOrigin: maxConns, idleTimeoutMs: this.idleTimeoutMs });
  }

  /** Connection and request counters. */
  stats(): HttpClientStats {
    return { ...this.pool.stats(), requests: this.requests, retries: this.retries };
  }

  /** Closes idle connections and refuses new requests; responses in flight finish normally. */
  close(): void {
    this.isClosed = true;
    this.pool.close();
  }

  /**
   * Sends a request and resolves with the response once its head arrived; the body streams.
   * `response.url` and `response.redirected` describe the final URL after redirects.
   * @throws {WgwebError} USAGE (not an http: URL), DNS_*, CONNECTION_REFUSED, HOST_UNREACHABLE,
   *   CONNECTION_RESET, TIMEOUT, ABORTED, HTTP_PROTOCOL, HTTP_CLOSED_EARLY.
   * @throws {TypeError} for a bad method, a body on GET/HEAD, or a request-body stream that fails.
   */
  async fetch(input: string | URL, init: HttpRequestInit = {}): Promise<Response> {
    if (this.isClosed) throw new TypeError('this HttpClient was closed');
    let url: URL;
    try {
      url = new URL(String(input));
    } catch {
      throw usage(`"${String(input)}" is not a valid URL (write it like http://10.0.0.2:8080/path)`, { url: String(input) });
    }
    checkScheme(url, this.tls !== undefined);
    let method = normalizeMethod(init.method ?? 'GET');
    const headers = new Headers(init.headers);
    // Like curl: credentials in the URL answer the server's 401 challenge, once, with the strongest
    // scheme it offers (Digest, RFC 7616, before Basic, RFC 7617); they are never sent unasked.
    let credentials: Credentials | undefined;
    if (url.username || url.password) {
      credentials = { username: safeDecode(url.username), password: safeDecode(url.password) };
      url.username = '';
      url.password = '';
      if (headers.has('authorization')) credentials = undefined; // the caller's own header wins
    }
    const credentialsOrigin = url.origin;
    let body = prepareBody(init.body, method, headers);
    const redirectMode = init.redirect ?? 'follow';
    if (redirectMode !== 'follow' && redirectMode !== 'manual' && redirectMode !== 'error') {
      throw new TypeError(`redirect must be "follow", "manual" or "error", not ${JSON.stringify(redirectMode)}`);
    }
    const scope = new SignalScope(init.signal);
    const startUrl = url.href;
    if (init.timeoutMs !== undefined) {
      if (!(init.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${init.timeoutMs}`);
      const ms = init.timeoutMs;
      scope.deadline(ms, () => new WgwebError(ErrorCode.TIMEOUT, `${startUrl} did not complete within ${ms} ms (timeoutMs)`, { url: startUrl, timeoutMs: ms }));
    }
    let redirected = false;
    try {
      for (let hop = 0; ; hop++) {
        const { response, bodyDone } = await this.exchange(url, method, headers, body, scope, init.onTiming, init.onResponseHead, init.insecure === true);
        if (response.status === 401 && credentials && url.origin === credentialsOrigin && body.kind !== 'stream') {
          const challenge = chooseChallenge(parseChallenges(response.headers.get('www-authenticate') ?? ''));
          if (challenge) {
            const authenticator = new Authenticator(challenge, credentials);
            credentials = undefined; // one answer: wrong credentials leave the server's 401 to the caller
            await discardBody(response);
            headers.set('authorization', authenticator.authorization(method, `${url.pathname || '/'}${url.search}`));
            hop--; // an authentication round, not a redirect
            continue;
          }
        }
        const location = response.headers.get('location');
        if (!isRedirectStatus(response.status) || location === null || redirectMode === 'manual') {
          Object.defineProperty(response, 'url', { value: url.href, enumerable: true });
          Object.defineProperty(response, 'redirected', { value: redirected, enumerable: true });
          bodyDone.then(() => scope.dispose());
          return response;
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          await discardBody(response);
          throw new WgwebError(ErrorCode.HTTP_PROTOCOL, `${url.href} redirected to an invalid Location (${JSON.stringify(location)})`, { url: url.href, location });
        }
        next.hash = next.hash || url.hash;
        await discardBody(response);
        if (redirectMode === 'error') {
          throw new WgwebError(ErrorCode.HTTP_PROTOCOL, `${url.href} redirects (${response.status}) to ${next.href}, and redirect is "error"`, {
            url: url.href,
            location: next.href,
            status: response.status,
          });
        }
        if (hop >= MAX_REDIRECTS) {
          throw new WgwebError(ErrorCode.HTTP_PROTOCOL, `too many redirects: more than ${MAX_REDIRECTS}, starting at ${startUrl}, the last one to ${next.href}`, {
            url: startUrl,
            location: next.href,
          });
        }
        checkScheme(next, this.tls !== undefined, `${url.href} redirects to ${next.href}`);
        const status = response.status;
        // Fetch §4.4 "HTTP-redirect fetch": 303 (except HEAD), and 301/302 after POST, become GET without a body.
        if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = { kind: 'none' };
          for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(h);
        } else if (body.kind === 'stream') {
          throw usage(`cannot follow the ${status} redirect from ${url.href} to ${next.href}: the request body was a stream and cannot be sent again`, {
            url: url.href,
            location: next.href,
          });
        }
        if (next.origin !== url.origin) headers.delete('authorization');
        if (next.username || next.password) {
          next.username = '';
          next.password = '';
        }
        url = next;
        redirected = true;
      }
    } catch (e) {
      scope.dispose();
      throw this.userError(e, scope, startUrl);
    }
  }

  /** The error the caller sees: abort/timeout reasons win over whatever the abort caused. */
  private userError(e: unknown, scope: SignalScope, url: string, remote?: string, method?: string): unknown {
    if (scope.aborted) return abortErrorFor(scope.signal.reason, url);
    if (e instanceof WgwebError) return e;
    if (e instanceof HttpProtocolError) {
      const who = remote ? `${remote} ` : '';
      return new WgwebError(ErrorCode.HTTP_PROTOCOL, `malformed HTTP response from ${who}(${method ?? 'GET'} ${url}): ${e.message}`, {
        url,
        remote,
      }, { cause: e });
    }
    if (e instanceof RequestBodyError) return new TypeError(e.message, { cause: e.cause });
    return e;
  }

  private async open(host: string, port: number, key: string, signal: AbortSignal, timing: TimingRecorder, tls?: { insecure: boolean }): Promise<HttpConnection> {
    let addresses: IpAddress[];
    const literal = tryParseIp(host);
    if (literal) {
      addresses = [literal];
    } else {
      if (!this.resolver) {
        throw new WgwebError(
          ErrorCode.DNS_FAILURE,
          `cannot look up ${host}: no DNS resolver is configured (add a DNS = line to your config, or use an IP address)`,
          { name: host },
        );
      }
      timing.mark('dnsStart');
      addresses = await this.resolver.lookup(host, { signal });
      timing.mark('dnsEnd');
      if (addresses.length === 0) throw new WgwebError(ErrorCode.DNS_NXDOMAIN, `${host}: no address`, { name: host });
    }
    timing.mark('connectStart');
    let firstError: unknown;
    for (const address of addresses) {
      if (signal.aborted) break;
      let tcp: TcpConnection;
      try {
        tcp = await this.dialer.connectTcp(address, port, { signal, timeoutMs: this.connectTimeoutMs });
      } catch (e) {
        firstError ??= e;
        continue;
      }
      timing.mark('connectEnd');
      if (!tls) return new HttpConnection(tcp, key);
      timing.mark('tlsStart');
      // A TLS failure is about the server, not this address: no point trying the next one.
      const secured = await this.tls!(tcp, { host, port, insecure: tls.insecure, signal });
      timing.mark('tlsEnd');
      return new HttpConnection(secured, key);
    }
    throw firstError ?? new WgwebError(ErrorCode.ABORTED, `connecting to ${host}:${port} was aborted`);
  }

  /** Reads the final response head (skipping 1xx), leaving any following bytes in `conn`. */
  private async readHead(conn: HttpConnection, url: string, timing: TimingRecorder, onFirstByte: () => void): Promise<ResponseHead> {
    let buf = new Uint8Array(0);
    let scanned = 0;
    let interim = 0;
    for (;;) {
      const end = findHeadEnd(buf, scanned);
      if (end >= 0) {
        const head = parseResponseHead(buf.subarray(0, end), { maxHeaderBytes: this.maxHeaderBytes, maxHeaderCount: this.maxHeaderCount });
        const rest = buf.subarray(end);
        if (head.status >= 100 && head.status < 200) {
          // RFC 9110 §15.2: interim responses (100 Continue, 103 Early Hints) precede the real one.
          // 101 would switch protocols, which this client never asks for.
          if (head.status === 101) throw new HttpProtocolError('the server switched protocols (101) although no Upgrade was requested');
          if (++interim > MAX_INTERIM_RESPONSES) throw new HttpProtocolError(`the server sent more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
          buf = rest;
          scanned = 0;
          continue;
        }
        conn.unread(rest);
        return head;
      }
      if (buf.length > this.maxHeaderBytes) throw headersTooLarge(this.maxHeaderBytes);
      scanned = headScanResume(buf.length);
      const chunk = await conn.read();
      if (chunk === undefined) {
        if (buf.length === 0) {
          throw new WgwebError(ErrorCode.HTTP_CLOSED_EARLY, `the server at ${conn.remote} closed the connection without sending a response (${url})`, {
            url,
            received: 0,
          });
        }
        throw new WgwebError(ErrorCode.HTTP_CLOSED_EARLY, `the server at ${conn.remote} closed the connection in the middle of the response headers (${url})`, {
          url,
          received: buf.length,
        });
      }
      if (buf.length === 0 && chunk.length > 0) {
        timing.mark('firstByte');
        onFirstByte();
      }
      buf = concatBytes(buf, chunk);
    }
  }

  private requestFields(url: URL, method: string, headers: Headers, body: RequestBody): [string, string][] {
    const fields: [string, string][] = [];
    // RFC 9112 §3.2: Host first; url.host carries the port only when it is not the default.
    fields.push(['Host', headers.get('host') ?? url.host]);
    if (!headers.has('user-agent') && this.userAgent) fields.push(['User-Agent', this.userAgent]);
    if (!headers.has('accept')) fields.push(['Accept', '*/*']);
    if (!headers.has('accept-encoding')) fields.push(['Accept-Encoding', 'gzip, deflate']);
    for (const [name, value] of headers) {
      if (name === 'host' || name === 'content-length' || name === 'transfer-encoding') continue;
      fields.push([name, value]);
    }
    if (body.kind === 'bytes') fields.push(['Content-Length', String(body.bytes.length)]);
    else if (body.kind === 'stream') {
      if (body.length !== undefined) fields.push(['Content-Length', String(body.length)]);
      else fields.push(['Transfer-Encoding', 'chunked']);
    } else if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      // RFC 9110 §8.6: a request that usually has content says explicitly that it has none.
      fields.push(['Content-Length', '0']);
    }
    return fields;
  }

  /** One request/response on one connection (plus one retry when a pooled connection was stale). */
  private async exchange(
    url: URL,
    method: string,
    headers: Headers,
    body: RequestBody,
    scope: SignalScope,
    onTiming: ((t: HttpTiming) => void) | undefined,
    onResponseHead: ((h: HttpResponseHead) => void) | undefined,
    insecure: boolean,
  ): Promise<ExchangeResult> {
    const host = hostOf(url);
    const secure = url.protocol === 'https:';
    const port = url.port ? Number(url.port) : secure ? 443 : 80;
    // Scheme and trust options are part of the pool key: an unchecked connection never serves a checked request.
    const key = `${secure ? 'https' : 'http'}://${host.toLowerCase()}:${port}${secure && insecure ? '#insecure' : ''}`;
    const tls = secure ? { insecure } : undefined;
    const target = `${url.pathname || '/'}${url.search}`;
    const head = serializeRequestHead(method, target, this.requestFields(url, method, headers, body));
    const timing = new TimingRecorder(url.href, method, this.now, onTiming);
    const describe = `${method} ${url.href}`;
    const requestWantsClose = (headers.get('connection') ?? '').toLowerCase().split(',').some((t) => t.trim() === 'close');
    this.requests++;

    for (let attempt = 0; ; attempt++) {
      let conn: HttpConnection;
      let reused: boolean;
      try {
        ({ conn, reused } = await this.pool.acquire(key, () => this.open(host, port, key, scope.signal, timing, tls), {
          signal: scope.signal,
          fresh: attempt > 0,
        }));
      } catch (e) {
        const err = this.userError(e, scope, url.href);
        timing.finish(scope.aborted ? 'cancelled' : 'error', err);
        throw err;
      }
      timing.timing.reusedConnection = reused;
      timing.timing.remoteAddress = conn.remote;
      if (secure) timing.timing.tls = tlsSummary(conn.tcp);
      conn.requests++;

      let writeFinished = false;
      let writeError: unknown;
      const written = writeRequest(conn, head, body).then(
        () => {
          writeFinished = true;
          timing.mark('requestSent');
        },
        (e) => {
          writeError = e;
          // The caller's body stream failed: abandon the connection so the read below ends too.
          if (e instanceof RequestBodyError) conn.abort(e);
        },
      );
      // Reading and writing run together: a server may answer (say 413) before reading the body.
      let gotBytes = false;
      let responseHead: ResponseHead;
      const onAbort = (): void => conn.abort(scope.signal.reason);
      scope.signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (scope.aborted) throw scope.signal.reason;
        responseHead = await this.readHead(conn, url.href, timing, () => (gotBytes = true));
      } catch (e) {
        scope.signal.removeEventListener('abort', onAbort);
        this.pool.discard(conn, e);
        await written;
        if (writeError instanceof RequestBodyError && !scope.aborted) {
          const err = this.userError(writeError, scope, url.href);
          timing.finish('error', err);
          throw err;
        }
        const connectionLost = e instanceof WgwebError && (e.code === ErrorCode.HTTP_CLOSED_EARLY || e.code === ErrorCode.CONNECTION_RESET);
        if (connectionLost && reused && !gotBytes && attempt === 0 && IDEMPOTENT_METHODS.has(method) && body.kind !== 'stream' && !scope.aborted) {
          // RFC 9112 §9.3.1: the server closed a persistent connection we had just picked up; an
          // idempotent request can safely go out again, once, on a fresh connection.
          this.retries++;
          timing.resetForRetry();
          continue;
        }
        const err = this.userError(e, scope, url.href, conn.remote, method);
        timing.finish(scope.aborted ? 'cancelled' : 'error', err);
        throw err;
      }
      scope.signal.removeEventListener('abort', onAbort);
      if (onResponseHead) {
        try {
          onResponseHead({
            url: url.href,
            httpVersion: responseHead.minorVersion === 0 ? '1.0' : '1.1',
            status: responseHead.status,
            statusText: responseHead.statusText,
            headers: responseHead.headers.map(([n, v]) => [n, v]),
          });
        } catch {
          // An observer's failure must not break the request.
        }
      }

      try {
        return this.buildResponse(conn, responseHead, {
          method,
          url: url.href,
          describe,
          scope,
          timing,
          requestWantsClose,
          written,
          writeFinished: () => writeFinished,
        });
      } catch (e) {
        this.pool.discard(conn, e);
        const err = this.userError(e, scope, url.href, conn.remote, method);
        timing.finish('error', err);
        throw err;
      }
    }
  }

  private buildResponse(
    conn: HttpConnection,
    head: ResponseHead,
    ctx: {
      method: string;
      url: string;
      describe: string;
      scope: SignalScope;
      timing: TimingRecorder;
      requestWantsClose: boolean;
      /** Settles (never rejects) when the request was written or failed to be. */
      written: Promise<void>;
      writeFinished: () => boolean;
    },
  ): ExchangeResult {
    const { framing, reusable: serverKeepAlive } = bodyFraming(ctx.method, head);
    if (head.status < 200 || head.status > 599) {
      throw new HttpProtocolError(`status ${head.status} is not a valid final HTTP status`);
    }
    const headers = new Headers();
    for (const [name, value] of head.headers) {
      try {
        headers.append(name, value);
      } catch {
        throw new HttpProtocolError(`the response header ${name} has a value that is not allowed`);
      }
    }
    ctx.timing.timing.status = head.status;
    const idleMs = Math.min(this.idleTimeoutMs, keepAliveTimeoutMs(head) ?? Infinity);

    let resolveDone!: () => void;
    const bodyDone = new Promise<void>((r) => (resolveDone = r));
    const giveBack = (): void => {
      if (ctx.writeFinished() && !conn.hasUnreadBytes) this.pool.release(conn, serverKeepAlive && !ctx.requestWantsClose, idleMs);
      else this.pool.discard(conn);
    };
    const onEnd = (end: BodyEnd): void => {
      ctx.timing.timing.bodyBytes = end.bodyBytes;
      if (!end.ok) {
        this.pool.discard(conn, end.error);
        ctx.timing.finish(end.cancelled ? 'cancelled' : 'error', end.error);
      } else {
        ctx.timing.finish('complete');
        if (ctx.writeFinished()) {
          giveBack();
        } else {
          // The response ended before the request's write was reported done: either the report is
          // still on its way (give it one macrotask turn), or the server answered without reading
          // all of the request (RFC 9112 §9.6), and then the connection cannot be reused.
          let settled = false;
          ctx.written.then(() => {
            if (settled) return;
            settled = true;
            giveBack();
          });
          setTimeout(() => {
            if (settled) return;
            settled = true;
            this.pool.discard(conn);
          }, 0);
        }
      }
      resolveDone();
    };

    const nullBody = ctx.method === 'HEAD' || NULL_BODY_STATUSES.has(head.status);
    let raw: ReadableStream<Uint8Array> | null;
    if (framing.kind === 'none') {
      onEnd({ ok: true, bodyBytes: 0 });
      raw = nullBody ? null : bytesStream(new Uint8Array(0));
    } else if (nullBody) {
      // A 205 that claims a body: do not guess where the message ends; drop the connection.
      onEnd({ ok: false, bodyBytes: 0, error: undefined, cancelled: true });
      raw = null;
    } else {
      const whole = framing.kind === 'length' ? conn.takeIfBuffered(framing.length) : undefined;
      if (whole) {
        // The whole body is already here: free the connection now rather than when it is read.
        onEnd({ ok: true, bodyBytes: whole.length });
        raw = bytesStream(whole);
      } else {
        raw = createBodyStream({
          conn,
          framing,
          signal: ctx.scope.signal,
          abortError: () => abortErrorFor(ctx.scope.signal.reason, ctx.url),
          mapError: (e) => this.userError(e, ctx.scope, ctx.url, conn.remote, ctx.method),
          describe: ctx.describe,
          maxTrailerBytes: this.maxHeaderBytes,
          onEnd,
        });
      }
    }
    const coding = raw ? decodableCoding(headers.get('content-encoding')) : undefined;
    const bodyStream =
      raw && coding
        ? decodeContent(raw, coding, (e) => {
            if (e instanceof WgwebError) return e;
            return new WgwebError(
              ErrorCode.HTTP_PROTOCOL,
              `the ${coding}-encoded response body from ${conn.remote} (${ctx.describe}) is corrupt: ${e instanceof Error ? e.message : String(e)}`,
              { url: ctx.url },
              { cause: e },
            );
          })
        : raw;
    const response = new Response(bodyStream, { status: head.status, statusText: head.statusText, headers });
    return { response, bodyDone };
  }
}

/** What an abort reason means to the caller: our own timeout, a TimeoutError signal, or a plain abort. */
function abortErrorFor(reason: unknown, url: string): WgwebError {
  if (reason instanceof WgwebError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new WgwebError(ErrorCode.TIMEOUT, `${url} timed out (the request's AbortSignal fired a TimeoutError)`, { url }, { cause: reason });
  }
  return new WgwebError(ErrorCode.ABORTED, `the request to ${url} was aborted`, { url }, { cause: reason });
}

/** Percent-decoding of URL userinfo that keeps malformed escapes as written. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function normalizeMethod(method: string): string {
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new TypeError(`${JSON.stringify(method)} is not a valid HTTP method`);
  const upper = method.toUpperCase();
  if (upper === 'CONNECT' || upper === 'TRACK') throw new TypeError(`the ${upper} method is not supported`);
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

function prepareBody(init: HttpRequestInit['body'], method: string, headers: Headers): RequestBody {
  if (init === undefined || init === null) return { kind: 'none' };
  if (method === 'GET' || method === 'HEAD') throw new TypeError(`a ${method} request cannot have a body`);
  if (typeof init === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
    return { kind: 'bytes', bytes: new TextEncoder().encode(init) };
  }
  if (init instanceof Uint8Array) return { kind: 'bytes', bytes: init };
  if (init instanceof ArrayBuffer) return { kind: 'bytes', bytes: new Uint8Array(init) };
  if (typeof (init as ReadableStream).getReader === 'function') {
    const stream = init as ReadableStream<Uint8Array>;
    if (stream.locked) throw new TypeError('the request body stream is locked (already being read)');
    const cl = headers.get('content-length');
    if (cl !== null) {
      if (!/^\d+$/.test(cl.trim()) || !Number.isSafeInteger(Number(cl.trim()))) throw new TypeError(`Content-Length ${JSON.stringify(cl)} is not a byte count`);
      return { kind: 'stream', stream, length: Number(cl.trim()) };
    }
    return { kind: 'stream', stream };
  }
  throw new TypeError('body must be a string, Uint8Array, ArrayBuffer or ReadableStream<Uint8Array>');
}

/** Reads a redirect's body away (small ones, so the connection stays usable) or cancels it. */
async function discardBody(response: Response): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let n = 0;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      n += r.value.length;
      if (n > REDIRECT_DRAIN_LIMIT) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // A broken redirect body does not matter: the connection is discarded and the redirect followed.
  }
}

/** The negotiated TLS parameters of a connection the TLS connector made (its `info`), as plain data. */
function tlsSummary(tcp: TcpConnection): HttpTiming['tls'] {
  const info = (tcp as { info?: { version?: string; cipherSuite?: string; legacy?: string[] } }).info;
  if (!info) return undefined;
  return { version: info.version, cipherSuite: info.cipherSuite, ...(info.legacy ? { legacy: [...info.legacy] } : {}) };
}
