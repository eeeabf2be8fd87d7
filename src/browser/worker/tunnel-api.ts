/**
 * The typed contract between the page and the tunnel worker, spoken over comlink.
 *
 * This is the only module the UI imports from `src/browser/worker/` (everything else there is imported
 * for types only, or not at all). It holds plain data types and the two helpers that carry errors
 * across the boundary; it never imports the Session, so the page bundle stays free of the protocol.
 *
 * Flow of one call:
 *
 *   page: TunnelClient ──comlink──▶ worker: TunnelService ──▶ Session (one event loop)
 *         ◀── plain data, or a thrown plain { code, message } (re-thrown on the page as WgwebError)
 *
 * Bulk data (HTTP bodies) crosses as transferable `ReadableStream`s and `ArrayBuffer`s, never as
 * one message per chunk. Progress (ping replies, session events) flows back through
 * `comlink.proxy` callbacks; events are batched per task.
 */
import type { ProxyMarked } from 'comlink';
import type { HttpTiming } from '../../protocols/http/http-timing.ts';
import type { CaptureApi } from '../capture/capture-api.ts';
import type { OpenWebSocketOptions } from './websocket-port-protocol.ts';

/**
 * One HTTP exchange's timing marks (DNS, connect, request sent, first byte, done), reported when
 * the exchange is over; one per redirect hop. See src/protocols/http/http-timing.ts.
 */
export type FetchTiming = HttpTiming;

// The Session's own result types, passed through unchanged.
export type {
  TunnelState,
  PeerStatus,
  TunnelStatus,
  RelayHistoryEntry,
  SessionEvent,
  PingReply,
  PingSummary,
  PingOptions,
  DnsRecordType,
  DnsResult,
  DnsQueryResult,
  DnsRecordLine,
  LookupType,
  PortCheckResult,
  TcpingOutcome,
  TcpingResult,
  Iperf3Options,
  Iperf3Progress,
  Iperf3Result,
  Iperf3Interval,
  Iperf3Total,
  TraceHop,
  TraceProbe,
  TracerouteMethod,
  TracerouteResult,
} from '../../session/session-types.ts';
export type { QualityHistorySnapshot, QualitySample } from '../../session/quality-history.ts';
export type { DiagnosticReport } from '../../session/diagnostic-report.ts';
export type { ToolRecord, ToolName } from '../../session/tool-record.ts';
export type { TunnelVsDirectResult } from '../../session/direct-speed.ts';
import type { TunnelVsDirectResult } from '../../session/direct-speed.ts';
import type { QualityHistorySnapshot } from '../../session/quality-history.ts';
import type { DiagnosticReport } from '../../session/diagnostic-report.ts';
import type { ToolRecord } from '../../session/tool-record.ts';
import type { DnsQueryResult, DnsRecordType, DnsResult, Iperf3Options, LookupType, PortCheckResult, Iperf3Progress, Iperf3Result, PingOptions, PingReply, PingSummary, TcpingResult, SessionEvent, TraceHop, TracerouteResult, TunnelStatus } from '../../session/session-types.ts';

/** Options of the worker's traceroute: Session.traceroute's, without the signal (abort by operation id). */
export interface TracerouteCallOptions {
  /** `udp` (traceroute's default) or `icmp` (traceroute -I). */
  method?: 'udp' | 'icmp';
  maxHops?: number;
  probesPerHop?: number;
  timeoutMs?: number;
  /** First UDP destination port (default 33434). */
  port?: number;
  /** PTR names for the hops (default true; false is traceroute -n). */
  resolveNames?: boolean;
}

/**
 * A request in structured-clone-safe form. The page normalises any `RequestInit` into this: headers
 * as pairs, the body buffered into one transferred `ArrayBuffer` (request bodies from the tools
 * and scripts are small), and an `operationId` so `abort()` can cancel it.
 */
export interface FetchRequest {
  url: string;
  method?: string;
  headers?: [string, string][];
  body?: string | ArrayBuffer | null;
  redirect?: RequestRedirect;
  timeoutMs?: number;
  /** https: skip certificate checks (like curl -k). */
  insecure?: boolean;
  operationId?: string;
}

/** The serialisable part of a response; the body travels beside it as a transferred stream. */
export interface FetchResponseHead {
  url: string;
  status: number;
  statusText: string;
  /** In arrival order, names lower-cased, repeated names kept (e.g. several set-cookie). */
  headers: [string, string][];
  /**
   * The final response's field lines as sent (original case, Set-Cookie included, which a
   * browser's `Response` hides): the browse view keeps intranet cookies from these.
   */
  rawHeaders?: [string, string][];
  redirected: boolean;
  timing: {
    /** Epoch ms when the worker started the request. */
    startedAt: number;
    /** ms from start until the response head was parsed (DNS, connect, request and first byte). */
    headersMs: number;
  };
}

export interface FetchResult {
  head: FetchResponseHead;
  /**
   * The body's port (body-port.ts: the bytes are transferred, several chunks per message; the page
   * reads it with `bodyFromPort`); `null` for responses without a body.
   */
  body: MessagePort | null;
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** Options of {@link TunnelApi.connect}. */
export interface TunnelConnectOptions {
  /** Access token for a relay that requires one (`wgweb token`). */
  relayToken?: string;
  /**
   * What carries the relay session: `'websocketstream'` (Chromium's WebSocketStream, the
   * WebSocket where the browser has none), `'fetch-stream'` (the downstream on a fetch() body where
   * the relay offers it) or `'websocket'`; default: the Session's default.
   */
  relayCarrier?: 'websocket' | 'websocketstream' | 'fetch-stream';
}

/** What `sshConnect` takes from the page (plain data). */
export interface SshOpenOptions {
  port?: number;
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  hostKey?: string;
  /** Open an interactive shell with a PTY of this size (default true, 80×24). */
  shell?: boolean;
  cols?: number;
  rows?: number;
  term?: string;
  timeoutMs?: number;
}

/** What `sshConnect` resolves to. */
export interface SshOpenResult {
  id: number;
  serverVersion: string;
  hostKeyType: string;
  hostKeyFingerprint: string;
  algorithms: { kex: string; hostKey: string; cipher: string; mac: string; strictKex: boolean };
}

/** What the page's output listener receives. */
export type SshOutputEvent = { id: number; text: string } | { id: number; exit: { code: number | null; signal?: string; error?: PlainError } };

/** How an error crosses the worker boundary. */
export interface PlainError {
  code: string;
  message: string;
  detail?: Record<string, unknown>;
}

/** A callback the worker calls back on the page (wrap with `comlink.proxy`). */
export type ProxiedCallback<T extends (...args: never[]) => unknown> = T & ProxyMarked;

/**
 * What the worker exposes. Every method either resolves with plain data or rejects with a
 * {@link PlainError} (the page client turns that into a `WgwebError`). The packet capture's calls
 * are in {@link CaptureApi} (capture-api.ts).
 */
export interface TunnelApi extends CaptureApi {
  /**
   * Parses the config, opens the relay and starts the handshake. Replaces a running session.
   * Several relay URLs are a failover list (Session's `relayUrl`, docs/relay.md); the token goes
   * to the relay as a WebSocket subprotocol value, never in a URL.
   */
  connect(configText: string, relayUrl: string | readonly string[], options?: TunnelConnectOptions): Promise<TunnelStatus>;
  /** Closes the session; resolves once it is down. A no-op without a session. */
  disconnect(): Promise<void>;
  /** The current snapshot, or `null` when there is no session. */
  status(): Promise<TunnelStatus | null>;
  /** ICMP echo through the tunnel; `onReply` sees each reply as it arrives. */
  ping(
    address: string,
    options?: PingOptions,
    onReply?: ProxiedCallback<(reply: PingReply) => void>,
    operationId?: string,
  ): Promise<PingSummary>;
  dns(name: string, type?: DnsRecordType, operationId?: string): Promise<DnsResult>;
  /**
   * A DNS query as a diagnostic tool makes it (Session.dnsQuery): any of A, AAAA, CNAME, MX, TXT,
   * SRV, NS, SOA, PTR, CAA, every section of the reply, NXDOMAIN as a result; `server` (an
   * address inside the tunnel) instead of the config's `DNS =`.
   */
  dnsQuery(name: string, type?: LookupType, options?: { server?: string }, operationId?: string): Promise<DnsQueryResult>;
  tcping(host: string, port: number, options?: { timeoutMs?: number }, operationId?: string): Promise<TcpingResult>;
  /**
   * A port list (Session.tcpingPorts, at most 1024 ports, paced): `onResult` sees each port as it
   * is decided; abort(operationId) stops starting new ones.
   */
  tcpingPorts(
    host: string,
    ports: number[],
    options?: { timeoutMs?: number },
    onResult?: ProxiedCallback<(r: TcpingResult) => void>,
    operationId?: string,
  ): Promise<PortCheckResult>;
  /** An iperf3 test against `iperf3 -s` at `host`; `onProgress` sees the phases and each interval. */
  iperf3(host: string, options?: Iperf3Options, onProgress?: ProxiedCallback<(p: Iperf3Progress) => void>, operationId?: string): Promise<Iperf3Result>;
  /**
   * The routers to `host` (Session.traceroute: UDP or ICMP probes with a rising TTL, names by
   * PTR); `onHop` sees each hop as it completes; abort(operationId) stops it (ABORTED).
   */
  traceroute(host: string, options?: TracerouteCallOptions, onHop?: ProxiedCallback<(hop: TraceHop) => void>, operationId?: string): Promise<TracerouteResult>;
  /**
   * Trusts the CA or server certificate(s) in `pem` for https, in this session and the next ones.
   * Resolves with the subjects added; rejects with TLS_CERT_INVALID when the text holds none.
   */
  addTrustedCertificate(pem: string): Promise<{ subject: string; sha256: string }[]>;
  /**
   * Replaces the https trust settings (the Certificates tab's `TrustStore.toJSON()` data: imported
   * CAs and server certificates, host pins, insecure hosts) for this session and the next ones.
   * Certificates added with {@link TunnelApi.addTrustedCertificate} are kept on top of it.
   */
  setTrust(json: unknown): Promise<void>;
  /**
   * HTTP through the tunnel; the result's body is a transferred stream. `onTiming` receives each
   * exchange's phase marks once it is over (after the body has been read), for a waterfall view.
   */
  fetch(request: FetchRequest, onTiming?: ProxiedCallback<(timing: FetchTiming) => void>): Promise<FetchResult>;
  /**
   * Opens a WebSocket through the tunnel and relays it over `port` (transfer it), speaking
   * websocket-port-protocol.ts; the page's end is PortWebSocket (src/browser/browse/port-websocket.ts).
   * Resolves at once: the outcome (open, or error and close 1006) arrives on the port.
   */
  openWebSocket(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void>;
  /**
   * Connection quality over time (Session.quality: one sample every 5 s for the last hour), or
   * `null` without a session. After a disconnect, the last session's history.
   */
  quality(): Promise<QualityHistorySnapshot | null>;
  /**
   * The diagnostic report of the current session (or the last one, also after a failed connect):
   * the data (JSON-ready, keys redacted) and the self-contained HTML page made of it. The page
   * passes the app's version and the browser's user agent. Rejects NOT_CONNECTED before any connect.
   */
  report(page?: { wgwebVersion?: string; userAgent?: string }): Promise<{ report: DiagnosticReport; html: string }>;
  /**
   * Tunnel vs direct (Session.tunnelVsDirect): `bytes` straight from the relay's `/speed`, then the
   * same from `url` through the tunnel; both rates and the tunnel as a percentage of direct.
   */
  compare(url: string, options?: { bytes?: number }, operationId?: string): Promise<TunnelVsDirectResult>;
  /** Keeps a result the page made (the tunnel-vs-direct comparison) as that tool's last run, for the report. */
  recordToolResult(record: ToolRecord): Promise<void>;
  /** Cancels the operation started with this id: it rejects with code `ABORTED`. */
  abort(operationId: string): Promise<void>;
  /**
   * Session events, batched. Events of every session go to the same listener (subscribe once).
   * Resolves with an id for {@link TunnelApi.unsubscribe}.
   */
  subscribe(listener: ProxiedCallback<(events: SessionEvent[]) => void>): Promise<number>;
  unsubscribe(id: number): Promise<void>;
  /**
   * An SSH connection through the tunnel (Session.ssh) with, by default, a shell on a PTY whose
   * output goes to `onOutput` as text; a promise `onOutput` returns says when the text is drained
   * (the terminal wrote it): the SSH window re-opens only then (flow control). Rejects with SSH_HOST_KEY_UNKNOWN (detail.fingerprint),
   * SSH_HOST_KEY_CHANGED, SSH_AUTH_FAILED, SSH_KEY_INVALID, SSH_PROTOCOL, CONNECTION_REFUSED, …
   */
  sshConnect(host: string, options: SshOpenOptions, onOutput?: ProxiedCallback<(e: SshOutputEvent) => void | Promise<void>>): Promise<SshOpenResult>;
  /** Keystrokes to the console's shell. */
  sshWrite(id: number, text: string): Promise<void>;
  /** The terminal's new size (window-change). */
  sshResize(id: number, cols: number, rows: number): Promise<void>;
  /** What the console's shell printed so far (the last MiB). */
  sshOutput(id: number): Promise<string>;
  /** Runs a command on the same connection (its own channel). */
  sshExec(id: number, command: string): Promise<{ stdout: string; stderr: string; code: number | null; signal?: string }>;
  sshClose(id: number): Promise<void>;
  /** The known SSH hosts, in known_hosts format. */
  sshKnownHosts(): Promise<string>;
  /** Adds lines of a known_hosts file. */
  importKnownHosts(text: string): Promise<{ added: number; skipped: { line: number; reason: string }[] }>;
  /**
   * Replaces the known SSH hosts with `lines` (known_hosts format: what the page remembered with
   * the profile, or the list after the user removed an entry), in this session and the next ones.
   */
  setSshKnownHosts(lines: string): Promise<void>;
  /** A new key pair, as `wg genkey | tee private | wg pubkey` would give. */
  generateKeyPair(): Promise<KeyPair>;
  /** A new preshared key (`wg genpsk`). */
  generatePresharedKey(): Promise<string>;
  /** `wg pubkey`. Rejects with `KEY_INVALID` for anything but 32 bytes of base64. */
  derivePublicKey(privateKey: string): Promise<string>;
}

const FALLBACK_CODE = 'INTERNAL';

/**
 * The plain form of any thrown value, safe to structured-clone. Caller-input errors
 * (`TypeError`/`RangeError`) become `USAGE`; aborts become `ABORTED`; anything without a code
 * becomes `INTERNAL`. Only a detail that survives structured cloning is kept.
 */
export function toPlainError(error: unknown): PlainError {
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; message?: unknown; name?: unknown; detail?: unknown };
    const message = typeof e.message === 'string' && e.message ? e.message : String(error);
    if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code)) {
      const plain: PlainError = { code: e.code, message };
      const detail = cloneableDetail(e.detail);
      if (detail) plain.detail = detail;
      return plain;
    }
    if (e.name === 'AbortError') return { code: 'ABORTED', message: 'The operation was cancelled.' };
    if (e.name === 'TimeoutError') return { code: 'TIMEOUT', message };
    if (error instanceof TypeError || error instanceof RangeError) return { code: 'USAGE', message };
    return { code: FALLBACK_CODE, message };
  }
  return { code: FALLBACK_CODE, message: String(error) };
}

/** True for the plain error shape produced by {@link toPlainError}. */
export function isPlainError(value: unknown): value is PlainError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PlainError).code === 'string' &&
    typeof (value as PlainError).message === 'string'
  );
}

function cloneableDetail(detail: unknown): Record<string, unknown> | undefined {
  if (typeof detail !== 'object' || detail === null || Object.keys(detail).length === 0) return undefined;
  try {
    return structuredClone(detail) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
