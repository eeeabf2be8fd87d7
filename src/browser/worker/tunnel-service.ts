/**
 * The worker-side implementation of {@link TunnelApi}: a thin, stateful adapter from comlink calls
 * to one `Session` at a time. It owns no timers and no sockets; the Session is the event loop.
 *
 *   comlink call ──▶ TunnelService ──▶ session.ping / dns / tcping / fetch ──▶ plain result
 *                          │  errors ──▶ toPlainError ──▶ thrown plain { code, message }
 *   session.onEvent ──▶ batch per task ──▶ every subscribed page listener
 *
 * It is written against the structural {@link SessionLike} rather than importing `session.ts`, so
 * that it can be tested in Node with a scripted session; `tunnel-worker.ts` wires in the real one.
 */
import { transfer } from 'comlink';
import { ErrorCode } from '../../shared/errors.ts';
import { PageCallback, releaseCallback } from './page-callback.ts';
import type { HttpRequestInit } from '../../protocols/http/http-client.ts';
import {
  formatKey,
  generatePresharedKey,
  generatePrivateKey,
  parseKey,
  publicKeyFromPrivate,
} from '../../wireguard/noise-keys.ts';
import {
  toPlainError,
  type DnsQueryResult,
  type DnsRecordType,
  type DnsResult,
  type LookupType,
  type PortCheckResult,
  type FetchRequest,
  type FetchResult,
  type FetchTiming,
  type Iperf3Options,
  type Iperf3Progress,
  type Iperf3Result,
  type KeyPair,
  type PingOptions,
  type PingReply,
  type PingSummary,
  type PlainError,
  type ProxiedCallback,
  type TcpingResult,
  type TunnelApi,
  type SessionEvent,
  type TunnelStatus,
} from './tunnel-api.ts';
import type { CaptureFile, CapturedPacket, CapturePage, CaptureRowsQuery, CaptureStatus } from '../capture/capture-api.ts';
import { CaptureService, type PacketHook } from '../capture/capture-service.ts';
import { bridgeWebSocket, type WebSocketLike } from './websocket-port-bridge.ts';
import type { OpenWebSocketOptions } from './websocket-port-protocol.ts';
import { SshService, type SshSessionLike } from './ssh-service.ts';
import type { DiagnosticReport, ReportRuntime } from '../../session/diagnostic-report.ts';
import { renderReportHtml } from '../../session/report-html.ts';
import type { QualityHistorySnapshot } from '../../session/quality-history.ts';
import type { ToolRecord } from '../../session/tool-record.ts';
import type { TunnelVsDirectResult } from '../../session/direct-speed.ts';
import { TRACEROUTE_BASE_PORT, TRACEROUTE_DEFAULTS } from '../../session/traceroute.ts';
import { DEFAULT_IPERF3_PORT, DEFAULT_IPERF3_SECONDS, DEFAULT_IPERF3_STREAMS } from '../../protocols/iperf3/iperf3-messages.ts';
import { sendBodyOverPort } from './body-port.ts';
import type { TunnelConnectOptions, SshOpenOptions, SshOpenResult, SshOutputEvent, TraceHop, TracerouteCallOptions, TracerouteResult } from './tunnel-api.ts';

/** The part of `Session` (src/session/session.ts) this service uses. */
export interface SessionLike extends SshSessionLike {
  status(): TunnelStatus;
  onEvent(listener: (event: SessionEvent) => void): () => void;
  ping(address: string, options?: PingOptions, onReply?: (reply: PingReply) => void, signal?: AbortSignal): Promise<PingSummary>;
  dns(name: string, type?: DnsRecordType, signal?: AbortSignal): Promise<DnsResult>;
  tcping(host: string, port: number, options?: { timeoutMs?: number }, signal?: AbortSignal): Promise<TcpingResult>;
  /** Every record type, any server (Session.dnsQuery); optional so that test doubles may leave it out. */
  dnsQuery?(name: string, type?: LookupType, options?: { server?: string }, signal?: AbortSignal): Promise<DnsQueryResult>;
  /** A port list (Session.tcpingPorts); optional so that test doubles may leave it out. */
  tcpingPorts?(host: string, ports: readonly number[], options?: { timeoutMs?: number }, onResult?: (r: TcpingResult) => void, signal?: AbortSignal): Promise<PortCheckResult>;
  /** iperf3 through the tunnel (Session.iperf3); optional so that test doubles may leave it out. */
  iperf3?(host: string, options?: Iperf3Options, onProgress?: (p: Iperf3Progress) => void, signal?: AbortSignal): Promise<Iperf3Result>;
  /** traceroute through the tunnel (Session.traceroute); optional so that test doubles may leave it out. */
  traceroute?(host: string, options?: TracerouteCallOptions & { signal?: AbortSignal }, onHop?: (hop: TraceHop) => void): Promise<TracerouteResult>;
  fetch(url: string, init?: HttpRequestInit): Promise<Response>;
  /** RFC 6455 through the tunnel (Session.webSocket); optional so that test doubles may leave it out. */
  webSocket?(url: string, options: { protocols?: readonly string[]; headers?: [string, string][]; signal?: AbortSignal }): Promise<WebSocketLike>;
  /** TLS secrets of the session's HTTPS connections (SSLKEYLOGFILE lines), for the pcapng export. */
  tlsKeyLogLines?(): string[];
  /** Trusts a CA / server certificate for https (Session.addTrustedCertificate). */
  addTrustedCertificate?(pem: string): Promise<{ subject: string; sha256: string }[]>;
  /** Replaces the https trust settings (Session.setTrust). */
  setTrust?(json: unknown): Promise<void>;
  /** Connection quality over time (Session.quality); optional so that test doubles may leave it out. */
  quality?(): QualityHistorySnapshot;
  /** The diagnostic report (Session.report); optional so that test doubles may leave it out. */
  report?(runtime: ReportRuntime): DiagnosticReport;
  /** Keeps a result made on the page (the tunnel-vs-direct comparison) for the report. */
  recordToolResult?(record: ToolRecord): void;
  /** Tunnel vs direct (Session.tunnelVsDirect); optional so that test doubles may leave it out. */
  tunnelVsDirect?(url: string, options?: { bytes?: number; signal?: AbortSignal }): Promise<TunnelVsDirectResult>;
  close(): Promise<void>;
}

/**
 * `Session.start` (and the wait for the first handshake), or a test double. `onEvent`, when the
 * starter supports it, receives the session's events while the connect is still under way, so the
 * page shows every initiation and retry as it happens, and why a connect failed (#18 item 5).
 */
export type StartSession = (options: {
  configText: string;
  relayUrl: string | readonly string[];
  relayToken?: string;
  relayCarrier?: 'websocket' | 'websocketstream' | 'fetch-stream';
  onPacket?: PacketHook;
  onEvent?: (event: SessionEvent) => void;
  /** Receives the session as soon as it exists, also when its handshake then fails (for the report). */
  onSession?: (session: SessionLike) => void;
}) => Promise<SessionLike>;

/** Events kept while no page listener is subscribed. */
const BACKLOG_LIMIT = 500;
const HTTP_METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** See the module comment. One instance per worker. */
export class TunnelService implements TunnelApi {
  readonly #start: StartSession;
  readonly #trustedPems: string[] = [];
  /** The page's trust settings (TrustStore.toJSON() data), applied to every session. */
  #trustJson: object | undefined;
  #session: SessionLike | undefined;
  /** The latest session, kept after a disconnect or a failed connect so its report can still be made. */
  #reportSession: SessionLike | undefined;
  #unlisten: (() => void) | undefined;
  /** Bumped by every connect/disconnect so a slow connect that lost the race closes itself. */
  #generation = 0;
  readonly #listeners = new Map<number, ProxiedCallback<(events: SessionEvent[]) => void>>();
  #nextListenerId = 1;
  #pending: SessionEvent[] = [];
  #flushScheduled = false;
  readonly #operations = new Map<string, AbortController>();

  readonly #capture: CaptureService;
  readonly #ssh = new SshService(() => this.#session);

  /** @param capture the packet capture fed by every session (capture-service.ts). */
  constructor(start: StartSession, capture: CaptureService = new CaptureService()) {
    this.#start = start;
    this.#capture = capture;
  }

  async connect(configText: string, relayUrl: string | readonly string[], options: TunnelConnectOptions = {}): Promise<TunnelStatus> {
    if (typeof configText !== 'string') throw usage('connect: configText must be a string');
    const urls = typeof relayUrl === 'string' ? [relayUrl] : relayUrl;
    if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== 'string' || u === '')) {
      throw usage('connect: relayUrl must be a non-empty string or a list of them (failover order)');
    }
    const relayToken = options?.relayToken;
    if (relayToken !== undefined && typeof relayToken !== 'string') throw usage('connect: relayToken must be a string');
    const relayCarrier = options?.relayCarrier;
    if (relayCarrier !== undefined && relayCarrier !== 'websocket' && relayCarrier !== 'websocketstream' && relayCarrier !== 'fetch-stream') {
      throw usage("connect: relayCarrier must be 'websocket', 'websocketstream' or 'fetch-stream'");
    }
    const generation = ++this.#generation;
    await this.#closeSession();
    let session: SessionLike;
    // Events during the connect go to the page at once; once connected, the session's own
    // subscription replays its history, whose first `early` entries the page already has.
    let early = 0;
    let live = false;
    const onEvent = (event: SessionEvent): void => {
      if (live || generation !== this.#generation) return;
      early++;
      this.#queueEvent(event);
    };
    try {
      session = await this.#start({
        configText,
        relayUrl: urls.length === 1 ? urls[0]! : [...urls],
        ...(relayToken ? { relayToken } : {}),
        ...(relayCarrier ? { relayCarrier } : {}),
        onPacket: this.#capture.hookFor(configText),
        onEvent,
        onSession: (s) => {
          if (generation === this.#generation) this.#reportSession = s;
        },
      });
    } catch (e) {
      throw toPlainError(e);
    } finally {
      live = true;
    }
    if (generation !== this.#generation) {
      await session.close().catch(() => {});
      throw plain(ErrorCode.ABORTED, 'This connect was cancelled by a later connect or disconnect.');
    }
    this.#session = session;
    this.#reportSession = session;
    // The Certificates tab's trust, then certificates trusted through the page API, carry over to
    // every new session.
    await this.#applyTrust(session).catch(() => {});
    await this.#ssh.attach(session);
    let replayed = early;
    this.#unlisten = session.onEvent((event) => {
      if (replayed > 0) replayed--;
      else this.#queueEvent(event);
    });
    // The capture keeps this session's TLS secrets for downloads even after a later connect.
    if (session.tlsKeyLogLines) this.#capture.addTlsKeyLogSource(() => session.tlsKeyLogLines!());
    return session.status();
  }

  async disconnect(): Promise<void> {
    this.#generation++;
    for (const controller of this.#operations.values()) controller.abort();
    this.#operations.clear();
    await this.#closeSession();
  }

  async status(): Promise<TunnelStatus | null> {
    return this.#session ? this.#session.status() : null;
  }

  async ping(
    address: string,
    options?: PingOptions,
    onReply?: ProxiedCallback<(reply: PingReply) => void>,
    operationId?: string,
  ): Promise<PingSummary> {
    const onReplyPage = new PageCallback(onReply);
    if (typeof address !== 'string' || address.trim() === '') throw usage('ping: give an IPv4 or IPv6 address');
    const session = this.#requireSession();
    try {
      return await this.#run(operationId, (signal) =>
        session.ping(
          address.trim(),
          options,
          (reply) => {
            if (!signal.aborted) onReplyPage.send(reply);
          },
          signal,
        ),
      );
    } finally {
      await onReplyPage.settle();
    }
  }

  async dns(name: string, type: DnsRecordType = 'A', operationId?: string): Promise<DnsResult> {
    if (typeof name !== 'string' || name.trim() === '') throw usage('dns: give a name to look up');
    if (type !== 'A' && type !== 'AAAA') throw usage(`dns: type must be A or AAAA, not ${String(type)}`);
    const session = this.#requireSession();
    return this.#run(operationId, (signal) => session.dns(name.trim(), type, signal));
  }

  async dnsQuery(name: string, type: LookupType = 'A', options: { server?: string } = {}, operationId?: string): Promise<DnsQueryResult> {
    if (typeof name !== 'string' || name.trim() === '') throw usage('dns: give a name to look up (or an address, for PTR)');
    if (typeof type !== 'string') throw usage('dns: the record type must be a string such as "MX"');
    const server = options?.server;
    if (server !== undefined && (typeof server !== 'string' || server.trim() === '')) throw usage('dns: the server must be an IP address inside the tunnel');
    const session = this.#requireSession();
    if (!session.dnsQuery) throw usage('dns: this session cannot make full DNS queries');
    const query = session.dnsQuery.bind(session);
    return this.#run(operationId, (signal) => query(name.trim(), type.toUpperCase() as LookupType, { server: server?.trim() }, signal));
  }

  async addTrustedCertificate(pem: string): Promise<{ subject: string; sha256: string }[]> {
    if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw usage('addTrustedCertificate(pem): give the text of a PEM certificate (-----BEGIN CERTIFICATE-----)');
    const session = this.#requireSession();
    if (!session.addTrustedCertificate) throw usage('addTrustedCertificate: this session has no TLS support');
    let added: { subject: string; sha256: string }[];
    try {
      added = (await session.addTrustedCertificate(pem)).map((c) => ({ subject: c.subject, sha256: c.sha256 }));
    } catch (e) {
      throw toPlainError(e);
    }
    this.#trustedPems.push(pem);
    return added;
  }

  async setTrust(json: unknown): Promise<void> {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw usage('setTrust(json): give the trust settings object (TrustStore.toJSON() data)');
    this.#trustJson = json;
    const session = this.#session;
    if (!session) return;
    try {
      await this.#applyTrust(session);
    } catch (e) {
      throw toPlainError(e);
    }
  }

  /** The stored trust settings and the page API's certificates, onto `session`. */
  async #applyTrust(session: SessionLike): Promise<void> {
    if (this.#trustJson && session.setTrust) await session.setTrust(this.#trustJson);
    for (const pem of this.#trustedPems) await session.addTrustedCertificate?.(pem).catch(() => []);
  }

  async tcping(host: string, port: number, options?: { timeoutMs?: number }, operationId?: string): Promise<TcpingResult> {
    if (typeof host !== 'string' || host.trim() === '') throw usage('tcping: give a host');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage('tcping: port must be a whole number from 1 to 65535');
    const session = this.#requireSession();
    return this.#run(operationId, (signal) => session.tcping(host.trim(), port, options, signal));
  }

  async tcpingPorts(
    host: string,
    ports: number[],
    options: { timeoutMs?: number } = {},
    onResult?: ProxiedCallback<(r: TcpingResult) => void>,
    operationId?: string,
  ): Promise<PortCheckResult> {
    const onResultPage = new PageCallback(onResult);
    try {
      if (typeof host !== 'string' || host.trim() === '') throw usage('tcping: give a host');
      if (!Array.isArray(ports) || ports.length === 0) throw usage('tcping: give one or more ports');
      const session = this.#requireSession();
      if (!session.tcpingPorts) throw usage('tcping: this session cannot check port lists');
      const check = session.tcpingPorts.bind(session);
      return await this.#run(operationId, (signal) =>
        check(
          host.trim(),
          ports,
          { timeoutMs: options?.timeoutMs },
          (r) => {
            if (!signal.aborted) onResultPage.send(r);
          },
          signal,
        ),
      );
    } finally {
      await onResultPage.settle();
    }
  }

  async iperf3(host: string, options: Iperf3Options = {}, onProgress?: ProxiedCallback<(p: Iperf3Progress) => void>, operationId?: string): Promise<Iperf3Result> {
    const onProgressPage = new PageCallback(onProgress);
    try {
      if (typeof host !== 'string' || host.trim() === '') throw usage('iperf3: give the host of an iperf3 server');
      const { seconds = DEFAULT_IPERF3_SECONDS, streams = DEFAULT_IPERF3_STREAMS, port = DEFAULT_IPERF3_PORT } = options;
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw usage('iperf3: seconds must be a whole number from 1 to 3600');
      if (!Number.isInteger(streams) || streams < 1 || streams > 16) throw usage('iperf3: streams must be a whole number from 1 to 16');
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage('iperf3: port must be a whole number from 1 to 65535');
      const session = this.#requireSession();
      if (!session.iperf3) throw usage('iperf3: this session cannot run iperf3');
      const run = session.iperf3.bind(session);
      return await this.#run(operationId, (signal) =>
        run(
          host.trim(),
          { seconds, streams, port, reverse: options.reverse === true },
          (p) => {
            if (!signal.aborted) onProgressPage.send(p);
          },
          signal,
        ),
      );
    } finally {
      await onProgressPage.settle();
    }
  }

  async traceroute(host: string, options: TracerouteCallOptions = {}, onHop?: ProxiedCallback<(hop: TraceHop) => void>, operationId?: string): Promise<TracerouteResult> {
    const onHopPage = new PageCallback(onHop);
    try {
      if (typeof host !== 'string' || host.trim() === '') throw usage('traceroute: give the address or name of a host');
      if (typeof options !== 'object' || options === null) throw usage('traceroute: options must be an object such as { method: "icmp", maxHops: 10 }');
      const { method = 'udp', maxHops = TRACEROUTE_DEFAULTS.maxHops, probesPerHop = TRACEROUTE_DEFAULTS.probesPerHop, timeoutMs = TRACEROUTE_DEFAULTS.timeoutMs, port = TRACEROUTE_BASE_PORT, resolveNames = true } = options;
      if (method !== 'udp' && method !== 'icmp') throw usage(`traceroute: method must be "udp" or "icmp", not ${JSON.stringify(method)}`);
      if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > 255) throw usage('traceroute: maxHops must be a whole number from 1 to 255');
      if (!Number.isInteger(probesPerHop) || probesPerHop < 1 || probesPerHop > 10) throw usage('traceroute: probesPerHop must be a whole number from 1 to 10');
      if (typeof timeoutMs !== 'number' || !(timeoutMs >= 10 && timeoutMs <= 60_000)) throw usage('traceroute: timeoutMs must be 10 to 60000');
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage('traceroute: port must be a whole number from 1 to 65535');
      const session = this.#requireSession();
      if (!session.traceroute) throw usage('traceroute: this session cannot trace routes');
      const trace = session.traceroute.bind(session);
      return await this.#run(operationId, (signal) =>
        trace(host.trim(), { method, maxHops, probesPerHop, timeoutMs, port, resolveNames: resolveNames !== false, signal }, (hop) => {
          if (!signal.aborted) onHopPage.send(hop);
        }),
      );
    } finally {
      await onHopPage.settle();
    }
  }

  async fetch(request: FetchRequest, onTiming?: ProxiedCallback<(timing: FetchTiming) => void>): Promise<FetchResult> {
    if (typeof request !== 'object' || request === null || typeof request.url !== 'string') {
      throw usage('fetch: request.url must be a string');
    }
    const method = (request.method ?? 'GET').toUpperCase();
    if (!HTTP_METHOD.test(method)) throw usage(`fetch: "${request.method}" is not an HTTP method`);
    const session = this.#requireSession();
    const startedAt = Date.now();
    const t0 = performance.now();
    let rawHeaders: [string, string][] | undefined;
    const response = await this.#run(request.operationId, (signal) => {
      // The last head seen is the final response's (one call per redirect hop).
      const init: HttpRequestInit = { method, signal, onResponseHead: (h) => (rawHeaders = h.headers) };
      if (request.headers) init.headers = request.headers;
      if (request.body !== undefined && request.body !== null) init.body = request.body;
      if (request.redirect) init.redirect = request.redirect;
      if (request.timeoutMs !== undefined) init.timeoutMs = request.timeoutMs;
      if (request.insecure === true) init.insecure = true;
      if (onTiming) {
        // Passed through to the HTTP client; one report per exchange (redirect hop), the last one
        // being a non-redirect or a failure, after which the page's callback port is released.
        init.onTiming = (timing) => {
          void Promise.resolve(onTiming(timing)).catch(() => {});
          const redirect = timing.status !== undefined && timing.status >= 300 && timing.status < 400;
          if (timing.outcome !== 'complete' || !redirect) releaseCallback(onTiming);
        };
      }
      return session.fetch(request.url, init);
    });
    const headersMs = performance.now() - t0;
    const result: FetchResult = {
      head: {
        url: response.url || request.url,
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers].map(([name, value]) => [name.toLowerCase(), value]),
        redirected: response.redirected,
        timing: { startedAt, headersMs },
      },
      body: null,
    };
    if (rawHeaders) result.head.rawHeaders = rawHeaders;
    if (!response.body) return result;
    const { port1, port2 } = new MessageChannel();
    sendBodyOverPort(response.body, port1);
    result.body = port2;
    return transfer(result, [port2]);
  }

  async openWebSocket(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void> {
    if (typeof port !== 'object' || port === null || typeof port.postMessage !== 'function') {
      throw usage('openWebSocket: port must be a MessagePort, transferred with the call');
    }
    const session = this.#session;
    void bridgeWebSocket(
      async (signal) => {
        if (typeof url !== 'string') throw usage('openWebSocket: url must be a string');
        const protocols = options?.protocols ?? [];
        if (!Array.isArray(protocols) || protocols.some((p) => typeof p !== 'string')) throw usage('openWebSocket: protocols must be an array of strings');
        const headers = options?.headers ?? [];
        if (!Array.isArray(headers)) throw usage('openWebSocket: headers must be an array of [name, value] pairs');
        if (!session) throw plain(ErrorCode.NOT_CONNECTED, 'Not connected: connect first.');
        if (!session.webSocket) throw plain(ErrorCode.USAGE, 'This session cannot open WebSockets.');
        return session.webSocket(url, { protocols, headers, signal });
      },
      port,
      (e) => {
        const { message, code } = toPlainError(e);
        return { message, code };
      },
    );
  }

  async quality(): Promise<QualityHistorySnapshot | null> {
    const session = this.#session ?? this.#reportSession;
    return session?.quality ? session.quality() : null;
  }

  async report(page: { wgwebVersion?: string; userAgent?: string } = {}): Promise<{ report: DiagnosticReport; html: string }> {
    const session = this.#session ?? this.#reportSession;
    if (!session) throw plain(ErrorCode.NOT_CONNECTED, 'No session to report on yet: connect with a WireGuard config first (a failed connect can be reported too).');
    if (!session.report) throw usage('report: this session cannot make a report');
    const runtime: ReportRuntime = {
      wgwebVersion: typeof page.wgwebVersion === 'string' && page.wgwebVersion ? page.wgwebVersion : 'unknown',
      kind: 'browser',
      userAgent: typeof page.userAgent === 'string' && page.userAgent ? page.userAgent : (globalThis.navigator?.userAgent ?? 'unknown'),
    };
    try {
      const report = session.report(runtime);
      return { report, html: renderReportHtml(report) };
    } catch (e) {
      throw toPlainError(e);
    }
  }

  async compare(url: string, options: { bytes?: number } = {}, operationId?: string): Promise<TunnelVsDirectResult> {
    if (typeof url !== 'string' || url.trim() === '') throw usage('compare: give the URL of a download inside the tunnel (e.g. http://10.0.0.1/bytes/8388608)');
    const bytes = options?.bytes;
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 1024 || bytes > 1024 ** 3)) throw usage('compare: bytes must be 1024 to 1073741824');
    const session = this.#requireSession();
    if (!session.tunnelVsDirect) throw usage('compare: this session cannot compare');
    const run = session.tunnelVsDirect.bind(session);
    return this.#run(operationId, (signal) => run(url.trim(), { bytes, signal }));
  }

  async recordToolResult(record: ToolRecord): Promise<void> {
    const session = this.#requireSession();
    if (typeof record !== 'object' || record === null || typeof record.tool !== 'string') throw usage('recordToolResult: give a tool record');
    try {
      session.recordToolResult?.(record);
    } catch (e) {
      throw toPlainError(e);
    }
  }

  async abort(operationId: string): Promise<void> {
    this.#operations.get(operationId)?.abort();
  }

  async subscribe(listener: ProxiedCallback<(events: SessionEvent[]) => void>): Promise<number> {
    if (typeof listener !== 'function') throw usage('subscribe: listener must be a function (wrap it in comlink.proxy)');
    const id = this.#nextListenerId++;
    this.#listeners.set(id, listener);
    if (this.#pending.length && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setTimeout(() => this.#flush(), 0);
    }
    return id;
  }

  async unsubscribe(id: number): Promise<void> {
    const listener = this.#listeners.get(id);
    this.#listeners.delete(id);
    releaseCallback(listener);
  }

  async startCapture(): Promise<CaptureStatus> {
    return this.#capture.start();
  }

  async stopCapture(): Promise<CaptureStatus> {
    return this.#capture.stop();
  }

  async clearCapture(): Promise<CaptureStatus> {
    return this.#capture.clear();
  }

  async captureStatus(): Promise<CaptureStatus> {
    return this.#capture.status();
  }

  async capturePage(query: CaptureRowsQuery = {}): Promise<CapturePage> {
    if (typeof query !== 'object' || query === null) throw usage('capturePage: query must be an object such as { offset: 0, limit: 100 }');
    return this.#capture.page(query);
  }

  async capturedPacket(index: number): Promise<CapturedPacket | null> {
    if (!Number.isInteger(index)) throw usage('capturedPacket: index must be a frame number');
    const packet = this.#capture.packet(index);
    return packet ? transfer(packet, [packet.bytes]) : null;
  }

  async downloadCapture(options: { filter?: string } = {}): Promise<CaptureFile> {
    const file = this.#capture.download(typeof options === 'object' && options !== null ? options : {});
    return transfer(file, [file.bytes]);
  }

  sshConnect(host: string, options: SshOpenOptions, onOutput?: ProxiedCallback<(e: SshOutputEvent) => void | Promise<void>>): Promise<SshOpenResult> {
    return this.#ssh.sshConnect(host, options, onOutput);
  }

  sshWrite(id: number, text: string): Promise<void> {
    return this.#ssh.sshWrite(id, text);
  }

  sshResize(id: number, cols: number, rows: number): Promise<void> {
    return this.#ssh.sshResize(id, cols, rows);
  }

  sshOutput(id: number): Promise<string> {
    return this.#ssh.sshOutput(id);
  }

  sshExec(id: number, command: string): Promise<{ stdout: string; stderr: string; code: number | null; signal?: string }> {
    return this.#ssh.sshExec(id, command);
  }

  sshClose(id: number): Promise<void> {
    return this.#ssh.sshClose(id);
  }

  sshKnownHosts(): Promise<string> {
    return this.#ssh.sshKnownHosts();
  }

  setSshKnownHosts(lines: string): Promise<void> {
    return this.#ssh.setKnownHosts(lines);
  }

  importKnownHosts(text: string): Promise<{ added: number; skipped: { line: number; reason: string }[] }> {
    return this.#ssh.importKnownHosts(text);
  }

  async generateKeyPair(): Promise<KeyPair> {
    const privateKey = generatePrivateKey();
    return { privateKey: formatKey(privateKey), publicKey: formatKey(publicKeyFromPrivate(privateKey)) };
  }

  async generatePresharedKey(): Promise<string> {
    return formatKey(generatePresharedKey());
  }

  async derivePublicKey(privateKey: string): Promise<string> {
    let bytes: Uint8Array;
    try {
      bytes = parseKey(String(privateKey), 'PrivateKey');
    } catch (e) {
      throw plain(ErrorCode.KEY_INVALID, (e as Error).message);
    }
    return formatKey(publicKeyFromPrivate(bytes));
  }

  #requireSession(): SessionLike {
    if (!this.#session) throw plain(ErrorCode.NOT_CONNECTED, 'Not connected: connect with a WireGuard config first.');
    return this.#session;
  }

  async #closeSession(): Promise<void> {
    if (this.#session) await this.#ssh.detach().catch(() => {});
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    try {
      await session.close();
    } finally {
      // Unsubscribe after close so the session's own closing events still reach the log.
      this.#unlisten?.();
      this.#unlisten = undefined;
      this.#flush();
    }
  }

  /** Runs one cancellable operation; every failure leaves as a plain error. */
  async #run<T>(operationId: string | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (operationId !== undefined) {
      this.#operations.get(operationId)?.abort();
      this.#operations.set(operationId, controller);
    }
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(plain(ErrorCode.ABORTED, 'The operation was cancelled.')), {
        once: true,
      });
    });
    aborted.catch(() => {});
    try {
      return await Promise.race([fn(controller.signal), aborted]);
    } catch (e) {
      throw toPlainError(e);
    } finally {
      if (operationId !== undefined && this.#operations.get(operationId) === controller) this.#operations.delete(operationId);
    }
  }

  #queueEvent(event: SessionEvent): void {
    this.#pending.push(event);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setTimeout(() => this.#flush(), 0);
  }

  #flush(): void {
    this.#flushScheduled = false;
    // Nobody listening yet (the page subscribes once the worker answers): keep the latest events.
    if (this.#listeners.size === 0) {
      if (this.#pending.length > BACKLOG_LIMIT) this.#pending.splice(0, this.#pending.length - BACKLOG_LIMIT);
      return;
    }
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    for (const [id, listener] of this.#listeners) {
      Promise.resolve(listener(batch)).catch(() => {
        // The page side went away (reload, closed port): stop calling it.
        this.#listeners.delete(id);
      });
    }
  }
}

function plain(code: string, message: string): PlainError {
  return { code, message };
}

function usage(message: string): PlainError {
  return plain(ErrorCode.USAGE, message);
}

