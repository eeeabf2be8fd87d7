/**
 * The page's side of the worker contract: wraps the comlink proxy of {@link TunnelApi} so callers
 * get ordinary promises, `WgwebError`s with codes, `AbortSignal` support and a standard `Response`.
 *
 *   caller ──▶ TunnelClient ──▶ comlink ──▶ worker TunnelService
 *          ◀── WgwebError (from a plain { code, message })   ◀── thrown plain error
 *          ◀── Response (rebuilt from head + the body arriving on its own port, body-port.ts)
 *
 * DOM-free (Web platform globals only), so tests run it in Node against a real TunnelService over
 * a MessageChannel.
 */
import { proxy, releaseProxy, transfer, wrap, type Endpoint, type Remote } from 'comlink';
import type { OpenWebSocketOptions } from '../worker/websocket-port-protocol.ts';
import { bodyFromPort } from '../worker/body-port.ts';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import {
  isPlainError,
  type DnsQueryResult,
  type DnsRecordType,
  type DnsResult,
  type LookupType,
  type PortCheckResult,
  type FetchRequest,
  type FetchResponseHead,
  type FetchTiming,
  type Iperf3Options,
  type Iperf3Progress,
  type Iperf3Result,
  type TunnelConnectOptions,
  type KeyPair,
  type PingOptions,
  type PingReply,
  type PingSummary,
  type TcpingResult,
  type TraceHop,
  type TracerouteCallOptions,
  type TracerouteResult,
  type TunnelApi,
  type SessionEvent,
  type TunnelStatus,
  type SshOpenOptions,
  type SshOpenResult,
  type SshOutputEvent,
  type QualityHistorySnapshot,
  type DiagnosticReport,
  type ToolRecord,
  type TunnelVsDirectResult,
} from '../worker/tunnel-api.ts';
import type { CapturePage, CaptureRow, CaptureRowsQuery, CaptureStatus } from '../capture/capture-api.ts';

/** `RequestInit` plus the tunnel's own timeout and, for the HTTP tool, per-exchange timing reports. */
/** `insecure`: for https URLs, accept any certificate (like curl -k). */
export type TunnelRequestInit = RequestInit & { timeoutMs?: number; insecure?: boolean; onTiming?: (timing: FetchTiming) => void };

/** A response with the raw head kept beside it (the HTTP tool shows every header and the timing). */
export interface TunnelFetchResult {
  response: Response;
  head: FetchResponseHead;
}

/** Statuses whose responses never have a body (Fetch standard, "null body status"). */
const NULL_BODY_STATUS = new Set([204, 205, 304]);

let operationCounter = 0;

/** Turns whatever a worker call rejected with into a `WgwebError` with a code. */
export function toWgwebError(error: unknown): WgwebError {
  if (error instanceof WgwebError) return error;
  if (isPlainError(error)) {
    const detail = typeof error.detail === 'object' && error.detail !== null ? error.detail : {};
    return new WgwebError(error.code as ErrorCode, error.message, detail);
  }
  if (error instanceof Error) {
    if (error.name === 'AbortError') return new WgwebError(ErrorCode.ABORTED, 'The operation was cancelled.');
    if (error.name === 'DataCloneError') return new WgwebError(ErrorCode.USAGE, `This value cannot be sent to the tunnel: ${error.message}`);
    if (error instanceof TypeError || error instanceof RangeError) return new WgwebError(ErrorCode.USAGE, error.message);
    return new WgwebError(ErrorCode.INTERNAL, error.message || String(error), {}, { cause: error });
  }
  return new WgwebError(ErrorCode.INTERNAL, String(error));
}

/** Runs `fn`, turning whatever it rejects with into a coded {@link WgwebError} ({@link toWgwebError}). */
export async function coded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toWgwebError(e);
  }
}

/** See the module comment. */
export class TunnelClient {
  readonly #api: Remote<TunnelApi>;

  constructor(endpoint: Endpoint) {
    this.#api = wrap<TunnelApi>(endpoint);
  }

  connect(configText: string, relayUrl: string | readonly string[], options: TunnelConnectOptions = {}): Promise<TunnelStatus> {
    return coded(() => this.#api.connect(configText, relayUrl, options));
  }

  disconnect(): Promise<void> {
    return coded(() => this.#api.disconnect());
  }

  status(): Promise<TunnelStatus | null> {
    return coded(() => this.#api.status());
  }

  /** Pings `address`; `onReply` sees each reply as it arrives; `signal` stops waiting. */
  async ping(address: string, options: PingOptions = {}, onReply?: (reply: PingReply) => void, signal?: AbortSignal): Promise<PingSummary> {
    const callback = onReply ? proxy((reply: PingReply) => onReply(reply)) : undefined;
    return this.#cancellable(signal, (id) => this.#api.ping(address, options, callback, id));
  }

  dns(name: string, type: DnsRecordType = 'A', signal?: AbortSignal): Promise<DnsResult> {
    return this.#cancellable(signal, (id) => this.#api.dns(name, type, id));
  }

  /** Any record type, every section, optionally another server (Session.dnsQuery). */
  dnsQuery(name: string, type: LookupType = 'A', options: { server?: string } = {}, signal?: AbortSignal): Promise<DnsQueryResult> {
    return this.#cancellable(signal, (id) => this.#api.dnsQuery(name, type, options, id));
  }

  addTrustedCertificate(pem: string): Promise<{ subject: string; sha256: string }[]> {
    return this.#api.addTrustedCertificate(pem);
  }

  /** Replaces the worker's https trust settings (TrustStore.toJSON() data). */
  setTrust(json: object): Promise<void> {
    return coded(() => this.#api.setTrust(json));
  }

  tcping(host: string, port: number, options: { timeoutMs?: number } = {}, signal?: AbortSignal): Promise<TcpingResult> {
    return this.#cancellable(signal, (id) => this.#api.tcping(host, port, options, id));
  }

  /** A port list; `onResult` sees each port as it is decided; `signal` stops starting new ones. */
  async tcpingPorts(host: string, ports: readonly number[], options: { timeoutMs?: number } = {}, onResult?: (r: TcpingResult) => void, signal?: AbortSignal): Promise<PortCheckResult> {
    const callback = onResult ? proxy((r: TcpingResult) => onResult(r)) : undefined;
    return this.#cancellable(signal, (id) => this.#api.tcpingPorts(host, [...ports], options, callback, id));
  }

  /** Connection quality over time (one sample per 5 s for the last hour), or null without a session. */
  quality(): Promise<QualityHistorySnapshot | null> {
    return coded(() => this.#api.quality());
  }

  /** The diagnostic report of the current (or last) session: its data and its HTML page. */
  report(page: { wgwebVersion?: string; userAgent?: string } = {}): Promise<{ report: DiagnosticReport; html: string }> {
    return coded(() => this.#api.report(page));
  }

  /** Tunnel vs direct: the same download straight from the relay and through the tunnel. */
  compare(url: string, options: { bytes?: number } = {}, signal?: AbortSignal): Promise<TunnelVsDirectResult> {
    return this.#cancellable(signal, (id) => this.#api.compare(url, options, id));
  }

  /** Keeps a result made on the page as that tool's last run, for the report. */
  recordToolResult(record: ToolRecord): Promise<void> {
    return coded(() => this.#api.recordToolResult(record));
  }

  /** An iperf3 test; `onProgress` sees the phases and each interval; `signal` ends it (CLIENT_TERMINATE). */
  async iperf3(host: string, options: Iperf3Options = {}, onProgress?: (p: Iperf3Progress) => void, signal?: AbortSignal): Promise<Iperf3Result> {
    const callback = onProgress ? proxy((p: Iperf3Progress) => onProgress(p)) : undefined;
    return this.#cancellable(signal, (id) => this.#api.iperf3(host, options, callback, id));
  }

  /** A traceroute; `onHop` sees each hop as it completes; `signal` stops it (ABORTED). */
  async traceroute(host: string, options: TracerouteCallOptions = {}, onHop?: (hop: TraceHop) => void, signal?: AbortSignal): Promise<TracerouteResult> {
    const callback = onHop ? proxy((hop: TraceHop) => onHop(hop)) : undefined;
    return this.#cancellable(signal, (id) => this.#api.traceroute(host, options, callback, id));
  }

  /** `fetch()` through the tunnel: a standard `Response` whose body streams from the worker. */
  async fetch(input: string | URL | Request, init: TunnelRequestInit = {}): Promise<Response> {
    return (await this.fetchWithHead(input, init)).response;
  }

  /** Like {@link TunnelClient.fetch}, also returning the raw head (all headers, timing). */
  async fetchWithHead(input: string | URL | Request, init: TunnelRequestInit = {}): Promise<TunnelFetchResult> {
    const request = await toFetchRequest(input, init);
    const transfers = request.body instanceof ArrayBuffer ? [request.body] : [];
    const signal = init.signal ?? (input instanceof Request ? input.signal : undefined);
    const onTiming = init.onTiming;
    const timingCallback = onTiming ? proxy((t: FetchTiming) => onTiming(t)) : undefined;
    const { head, body: port } = await this.#cancellable(signal ?? undefined, (id) =>
      this.#api.fetch(transfer({ ...request, operationId: id }, transfers), timingCallback),
    );
    const body = port ? bodyFromPort(port) : null;
    if (signal) {
      // Cancelling after the head arrived cancels the body stream (and the worker's socket with it).
      signal.addEventListener('abort', () => void body?.cancel(signal.reason).catch(() => {}), { once: true });
    }
    return { response: buildResponse(head, body), head };
  }

  /**
   * Opens a tunnel WebSocket relayed over `port`, which is transferred to the worker (the page keeps
   * the other end, normally in a PortWebSocket). Resolves once the worker has the port.
   */
  openWebSocket(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void> {
    return coded(() => this.#api.openWebSocket(url, options, transfer(port, [port])));
  }

  /** An SSH console (worker SshService): `onOutput` gets the shell's text and, last, its exit. */
  sshConnect(host: string, options: SshOpenOptions, onOutput?: (e: SshOutputEvent) => void | Promise<void>): Promise<SshOpenResult> {
    return coded(() => this.#api.sshConnect(host, options, onOutput ? proxy(onOutput) : undefined));
  }

  sshWrite(id: number, text: string): Promise<void> {
    return coded(() => this.#api.sshWrite(id, text));
  }

  sshResize(id: number, cols: number, rows: number): Promise<void> {
    return coded(() => this.#api.sshResize(id, cols, rows));
  }

  sshOutput(id: number): Promise<string> {
    return coded(() => this.#api.sshOutput(id));
  }

  sshExec(id: number, command: string): Promise<{ stdout: string; stderr: string; code: number | null; signal?: string }> {
    return coded(() => this.#api.sshExec(id, command));
  }

  sshClose(id: number): Promise<void> {
    return coded(() => this.#api.sshClose(id));
  }

  sshKnownHosts(): Promise<string> {
    return coded(() => this.#api.sshKnownHosts());
  }

  importKnownHosts(text: string): Promise<{ added: number; skipped: { line: number; reason: string }[] }> {
    return coded(() => this.#api.importKnownHosts(text));
  }

  setSshKnownHosts(lines: string): Promise<void> {
    return coded(() => this.#api.setSshKnownHosts(lines));
  }

  /** Calls `listener` with each batch of session events; resolves with the unsubscribe function. */
  async subscribe(listener: (events: SessionEvent[]) => void): Promise<() => Promise<void>> {
    const id = await coded(() => this.#api.subscribe(proxy(listener)));
    return () => coded(() => this.#api.unsubscribe(id));
  }

  generateKeyPair(): Promise<KeyPair> {
    return coded(() => this.#api.generateKeyPair());
  }

  generatePresharedKey(): Promise<string> {
    return coded(() => this.#api.generatePresharedKey());
  }

  derivePublicKey(privateKey: string): Promise<string> {
    return coded(() => this.#api.derivePublicKey(privateKey));
  }

  // ---- packet capture (src/browser/capture/capture-api.ts) ----

  startCapture(): Promise<CaptureStatus> {
    return coded(() => this.#api.startCapture());
  }

  stopCapture(): Promise<CaptureStatus> {
    return coded(() => this.#api.stopCapture());
  }

  clearCapture(): Promise<CaptureStatus> {
    return coded(() => this.#api.clearCapture());
  }

  captureStatus(): Promise<CaptureStatus> {
    return coded(() => this.#api.captureStatus());
  }

  capturePage(query: CaptureRowsQuery = {}): Promise<CapturePage> {
    return coded(() => this.#api.capturePage(query));
  }

  /** One captured packet with its bytes, or null once the capture dropped it. */
  async capturedPacket(index: number): Promise<{ row: CaptureRow; bytes: Uint8Array } | null> {
    const p = await coded(() => this.#api.capturedPacket(index));
    return p ? { row: p.row, bytes: new Uint8Array(p.bytes) } : null;
  }

  /** The capture as a pcapng file (the bytes were transferred, not copied). */
  async downloadCapture(options: { filter?: string } = {}): Promise<{ filename: string; bytes: Uint8Array; packets: number }> {
    const file = await coded(() => this.#api.downloadCapture(options));
    return { filename: file.filename, bytes: new Uint8Array(file.bytes), packets: file.packets };
  }

  /** Releases the comlink proxy (the worker itself is terminated by its owner). */
  dispose(): void {
    this.#api[releaseProxy]();
  }

  async #cancellable<T>(signal: AbortSignal | undefined, call: (operationId: string) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw new WgwebError(ErrorCode.ABORTED, 'The operation was cancelled.');
    const id = `op-${++operationCounter}`;
    const onAbort = () => void this.#api.abort(id).catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await coded(() => call(id));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Normalises `fetch()` arguments into the structured-clone-safe {@link FetchRequest}. Headers go
 * through `Headers` without the "request" guard, so a tool may set Host or Cookie: the request is
 * made by wgweb's own HTTP client inside the tunnel, not by the browser.
 */
export async function toFetchRequest(input: string | URL | Request, init: TunnelRequestInit = {}): Promise<FetchRequest> {
  const fromRequest = input instanceof Request ? input : undefined;
  const url = fromRequest ? fromRequest.url : String(input);
  const method = (init.method ?? fromRequest?.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers ?? fromRequest?.headers);
  let body: ArrayBuffer | null = null;
  const rawBody = init.body ?? null;
  if (rawBody !== null) {
    if (method === 'GET' || method === 'HEAD') throw new WgwebError(ErrorCode.USAGE, `A ${method} request cannot have a body.`);
    if (rawBody instanceof ArrayBuffer || ArrayBuffer.isView(rawBody)) {
      // Bytes need no extraction (and get no Content-Type from it): one copy, which is transferred
      // to the worker. Going through Response.arrayBuffer() instead cost the page ~20 % of a
      // 20 MiB upload's time in Chromium (#19).
      const view = rawBody instanceof ArrayBuffer ? new Uint8Array(rawBody) : new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
      body = view.slice().buffer;
    } else {
      // Response's constructor is the platform's own body extraction: strings, Blobs,
      // URLSearchParams, FormData and streams, with the matching Content-Type.
      const extracted = new Response(rawBody as BodyInit);
      const type = extracted.headers.get('content-type');
      if (type && !headers.has('content-type')) headers.set('content-type', type);
      body = await extracted.arrayBuffer();
    }
  } else if (fromRequest?.body) {
    body = await fromRequest.clone().arrayBuffer();
  }
  const request: FetchRequest = { url, method, headers: [...headers] };
  if (body !== null) request.body = body;
  if (init.redirect) request.redirect = init.redirect;
  if (init.timeoutMs !== undefined) request.timeoutMs = init.timeoutMs;
  if (init.insecure === true) request.insecure = true;
  return request;
}

/** A standard `Response` from the worker's head and the transferred body stream. */
export function buildResponse(head: FetchResponseHead, body: ReadableStream<Uint8Array> | null): Response {
  if (!Number.isInteger(head.status) || head.status < 200 || head.status > 599) {
    void body?.cancel().catch(() => {});
    throw new WgwebError(ErrorCode.HTTP_PROTOCOL, `The server answered with status ${head.status}, which is not a final HTTP status.`);
  }
  const headers = new Headers();
  for (const [name, value] of head.headers) {
    try {
      headers.append(name, value);
    } catch {
      // A header the platform cannot represent; the raw list in `head` still has it.
    }
  }
  const nullBody = NULL_BODY_STATUS.has(head.status);
  if (nullBody) void body?.cancel().catch(() => {});
  const status = head.status;
  let response: Response;
  try {
    response = new Response(nullBody ? null : body, { status, statusText: head.statusText, headers });
  } catch {
    // statusText outside the reason-phrase grammar: keep the response, drop the phrase.
    response = new Response(nullBody ? null : body, { status, headers });
  }
  // url and redirected are read-only getters that are empty on a constructed Response; own
  // properties shadow them so scripts see where the response came from.
  Object.defineProperty(response, 'url', { value: head.url, enumerable: true });
  Object.defineProperty(response, 'redirected', { value: head.redirected, enumerable: true });
  return response;
}
