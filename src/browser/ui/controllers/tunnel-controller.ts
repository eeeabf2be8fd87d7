/**
 * TunnelController: the Lit reactive controller that owns the tunnel worker. The app, the tools
 * and `window.wgweb` all go through it, so whatever drives the tunnel (a click or a script), the
 * status panel and the event log show it.
 *
 *   host connected ──▶ create worker ──▶ TunnelClient ──▶ subscribe(events) ──▶ poll status 1/s
 *   connect/disconnect/tools ──▶ TunnelClient ──▶ worker   (results + errors logged in plain words)
 *   every change ──▶ host.requestUpdate()
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ErrorCode, WgwebError } from '../../../shared/errors.ts';
import { formatBitrate } from '../../../shared/format-bytes.ts';
import type {
  TunnelConnectOptions,
  DnsQueryResult,
  DnsRecordType,
  DnsResult,
  LookupType,
  PortCheckResult,
  Iperf3Options,
  Iperf3Progress,
  Iperf3Result,
  TraceHop,
  TracerouteCallOptions,
  TracerouteResult,
  KeyPair,
  PingOptions,
  PingReply,
  PingSummary,
  TcpingResult,
  SessionEvent,
  TunnelStatus,
  QualityHistorySnapshot,
  DiagnosticReport,
  ToolRecord,
  TunnelVsDirectResult,
} from '../../worker/tunnel-api.ts';
import { APP_VERSION } from '../lib/app-version.ts';
import { TunnelClient, toWgwebError, type TunnelFetchResult, type TunnelRequestInit } from '../tunnel-client.ts';
import { describeDns, describeDnsQuery, describeHttp, describePortCheck, describeIperf3, describeTraceroute, describePingSummary, describeTcping, redactUrl } from '../lib/activity-messages.ts';
import { hintsForError } from '../lib/error-hints.ts';

/** One line of the event log: a session event, or one the app adds (connect failures, tool results). */
export interface LogEntry extends SessionEvent {
  id: number;
  source: 'session' | 'app';
  /** What to check, for errors. */
  hints?: string[];
}

/** What the tool panels need (the controller implements it; tests can pass a double). */
export interface TunnelTools {
  ping(address: string, options?: PingOptions, onReply?: (reply: PingReply) => void, signal?: AbortSignal): Promise<PingSummary>;
  dns(name: string, type?: DnsRecordType, signal?: AbortSignal): Promise<DnsResult>;
  tcping(host: string, port: number, options?: { timeoutMs?: number }, signal?: AbortSignal): Promise<TcpingResult>;
  /** Any record type, every section, another server if asked (the DNS card). */
  dnsQuery(name: string, type?: LookupType, options?: { server?: string }, signal?: AbortSignal): Promise<DnsQueryResult>;
  /** A port list (the port card); `onResult` sees each port as it is decided. */
  tcpingPorts(host: string, ports: readonly number[], options?: { timeoutMs?: number }, onResult?: (r: TcpingResult) => void, signal?: AbortSignal): Promise<PortCheckResult>;
  /** iperf3 against a stock `iperf3 -s` (optional so that test doubles may leave it out). */
  iperf3?(host: string, options?: Iperf3Options, onProgress?: (p: Iperf3Progress) => void, signal?: AbortSignal): Promise<Iperf3Result>;
  /** traceroute (optional so that test doubles may leave it out); `onHop` sees each hop as it completes. */
  traceroute?(host: string, options?: TracerouteCallOptions, onHop?: (hop: TraceHop) => void, signal?: AbortSignal): Promise<TracerouteResult>;
  fetchWithHead(url: string, init?: TunnelRequestInit): Promise<TunnelFetchResult>;
  /**
   * Trust on first use: pins the certificate with SHA-256 `sha256` (hex) for `host` in the
   * profile's trust settings and in the worker; resolves once later requests will accept it.
   */
  pinCertificate?(host: string, sha256: string): Promise<void>;
}

/** What key generation and the config panel need. */
export interface TunnelKeys {
  generateKeyPair(): Promise<KeyPair>;
  generatePresharedKey(): Promise<string>;
  derivePublicKey(privateKey: string): Promise<string>;
}

export interface TunnelControllerOptions {
  /** Makes the module worker (main.ts passes the Vite-bundled tunnel-worker). */
  createWorker: () => Worker;
  /** Log lines kept (oldest dropped first). */
  logLimit?: number;
  /** Status poll period; the status panel's "12 s ago" ticks with it. */
  pollMs?: number;
  /**
   * Pins a certificate for a host in the profile's trust settings (the app owns and persists them)
   * and resolves with the new settings; the controller then hands them to the worker.
   */
  onPinCertificate?: (host: string, sha256: string) => object | Promise<object>;
}

export class TunnelController implements ReactiveController, TunnelTools, TunnelKeys {
  /** Latest snapshot; null without a session. */
  status: TunnelStatus | null = null;
  /** Epoch ms of the latest poll: render relative times against this, not Date.now(). */
  now = Date.now();
  /** Replaced (never mutated) on every change. */
  log: LogEntry[] = [];
  busy: 'connecting' | 'disconnecting' | undefined;
  /** The latest connect failure, shown under the Connect button until the next attempt. */
  lastError: WgwebError | undefined;
  /** True when {@link lastError} explains a session that ended by itself (not a failed connect). */
  lastErrorFromSession = false;
  /** Resolves once the worker has answered its first call. */
  readonly ready: Promise<void>;

  readonly #host: ReactiveControllerHost;
  readonly #options: Required<TunnelControllerOptions>;
  #worker: Worker | undefined;
  #client: TunnelClient | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  #resolveReady!: () => void;
  #rejectReady!: (e: WgwebError) => void;
  /** Rejects when the worker dies before answering: pending calls would otherwise hang forever. */
  #failed: Promise<never>;
  #fail!: (e: WgwebError) => void;
  #isReady = false;
  /** The latest error a session reported, to explain a session that went down by itself. */
  #lastSessionError: { code: string; message: string } | undefined;

  constructor(host: ReactiveControllerHost, options: TunnelControllerOptions) {
    this.#host = host;
    this.#options = { logLimit: 500, pollMs: 1000, onPinCertificate: () => Promise.reject(new WgwebError(ErrorCode.USAGE, 'this app keeps no trust settings')), ...options };
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.#failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.#failed.catch(() => {});
    host.addController(this);
  }

  hostConnected(): void {
    this.#start();
    this.#timer ??= setInterval(() => void this.refreshStatus(), this.#options.pollMs);
  }

  hostDisconnected(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The worker client once the worker runs, for views with calls of their own (packet capture). */
  get client(): TunnelClient | undefined {
    return this.#client;
  }

  /** True while a session is alive (the tools can be used). */
  get connected(): boolean {
    return this.status !== null && this.status.state !== 'down';
  }

  /** The connection state for the header badge. */
  get state(): 'down' | 'connecting' | 'disconnecting' | TunnelStatus['state'] {
    if (this.busy) return this.busy;
    return this.status?.state ?? 'down';
  }

  /** @param relayUrl one relay, or several in failover order; `options.relayToken` for a relay that asks for one. */
  async connect(configText: string, relayUrl: string | readonly string[], options: TunnelConnectOptions = {}): Promise<TunnelStatus> {
    const client = this.#requireClient();
    this.busy = 'connecting';
    this.lastError = undefined;
    this.lastErrorFromSession = false;
    this.#lastSessionError = undefined;
    const urls = typeof relayUrl === 'string' ? [relayUrl] : relayUrl;
    this.#appLog('info', 'connect', urls.length === 1 ? `Connecting through the relay at ${redactUrl(urls[0]!)}…` : `Connecting through the first relay that answers of ${urls.map(redactUrl).join(', ')}…`);
    try {
      const status = await this.#guard(client.connect(configText, relayUrl, {
          ...(options.relayToken ? { relayToken: options.relayToken } : {}),
          ...(options.relayCarrier ? { relayCarrier: options.relayCarrier } : {}),
        }));
      this.status = status;
      return status;
    } catch (e) {
      const error = toWgwebError(e);
      if (error.code === ErrorCode.ABORTED) {
        this.#appLog('info', 'connect-cancelled', 'Connect cancelled.');
      } else {
        this.lastError = error;
        this.lastErrorFromSession = false;
        this.#appLog('error', 'connect-failed', `Could not connect: ${error.message}`, { code: error.code }, hintsForError(error.code));
      }
      throw error;
    } finally {
      this.busy = undefined;
      this.now = Date.now();
      this.#host.requestUpdate();
    }
  }

  async disconnect(): Promise<void> {
    const client = this.#requireClient();
    this.busy = 'disconnecting';
    this.#host.requestUpdate();
    try {
      await this.#guard(client.disconnect());
      this.status = null;
      this.#appLog('info', 'disconnected', 'Disconnected.');
    } finally {
      this.busy = undefined;
      this.#host.requestUpdate();
    }
  }

  /** Fetches a fresh snapshot (also what the 1 s poll does). */
  async refreshStatus(): Promise<TunnelStatus | null> {
    if (!this.#client) return null;
    try {
      const previous = this.status;
      const status = await this.#guard(this.#client.status());
      this.status = status;
      this.#markReady();
      // The session ended without a disconnect (relay refused or closed for good, handshake gave
      // up): say why in the same place a failed connect would.
      if (previous && previous.state !== 'down' && status?.state === 'down' && !this.busy) {
        const cause = this.#lastSessionError;
        this.lastError = new WgwebError(
          (cause?.code ?? ErrorCode.RELAY_CLOSED) as ErrorCode,
          cause?.message ?? 'The session ended: the event log says why.',
        );
        this.lastErrorFromSession = true;
      }
    } catch {
      // The worker is gone; #start logged why.
    }
    this.now = Date.now();
    this.#host.requestUpdate();
    return this.status;
  }

  async ping(address: string, options: PingOptions = {}, onReply?: (reply: PingReply) => void, signal?: AbortSignal): Promise<PingSummary> {
    return this.#tool(`Ping ${address}`, async (client) => {
      const summary = await client.ping(address, options, onReply, signal);
      this.#appLog(summary.received > 0 ? 'info' : 'warn', 'ping', describePingSummary(summary));
      return summary;
    });
  }

  async dns(name: string, type: DnsRecordType = 'A', signal?: AbortSignal): Promise<DnsResult> {
    return this.#tool(`DNS ${name} ${type}`, async (client) => {
      const result = await client.dns(name, type, signal);
      this.#appLog('info', 'dns', describeDns(result));
      return result;
    });
  }

  async dnsQuery(name: string, type: LookupType = 'A', options: { server?: string } = {}, signal?: AbortSignal): Promise<DnsQueryResult> {
    return this.#tool(`DNS ${name} ${type}`, async (client) => {
      const result = await client.dnsQuery(name, type, options, signal);
      this.#appLog(result.rcode === 'NOERROR' ? 'info' : 'warn', 'dns', describeDnsQuery(result));
      return result;
    });
  }

  async tcpingPorts(host: string, ports: readonly number[], options: { timeoutMs?: number } = {}, onResult?: (r: TcpingResult) => void, signal?: AbortSignal): Promise<PortCheckResult> {
    return this.#tool(`TCP ${host} ports`, async (client) => {
      const result = await client.tcpingPorts(host, ports, options, onResult, signal);
      this.#appLog(result.open.length > 0 ? 'info' : 'warn', 'tcping', describePortCheck(result));
      return result;
    });
  }

  async tcping(host: string, port: number, options: { timeoutMs?: number } = {}, signal?: AbortSignal): Promise<TcpingResult> {
    return this.#tool(`TCP ${host}:${port}`, async (client) => {
      const result = await client.tcping(host, port, options, signal);
      this.#appLog(result.result === 'open' ? 'info' : 'warn', 'tcping', describeTcping(result));
      return result;
    });
  }

  async iperf3(host: string, options: Iperf3Options = {}, onProgress?: (p: Iperf3Progress) => void, signal?: AbortSignal): Promise<Iperf3Result> {
    return this.#tool(`iperf3 ${host}`, async (client) => {
      const result = await client.iperf3(host, options, onProgress, signal);
      this.#appLog('info', 'iperf3', describeIperf3(result));
      return result;
    });
  }

  /** Connection quality over time from the worker (null without a session). */
  async quality(): Promise<QualityHistorySnapshot | null> {
    if (!this.#client) return null;
    return this.#guard(this.#client.quality());
  }

  /**
   * The diagnostic report of the current or last session (also after a failed connect): its data
   * and the self-contained HTML page, with this app's version and the browser's user agent.
   */
  async report(): Promise<{ report: DiagnosticReport; html: string }> {
    await this.ready;
    return this.#guard(this.#requireClient().report({ wgwebVersion: APP_VERSION, userAgent: navigator.userAgent }));
  }

  /** Tunnel vs direct (Session.tunnelVsDirect), with a line in the event log. */
  async compare(url: string, options: { bytes?: number } = {}, signal?: AbortSignal): Promise<TunnelVsDirectResult> {
    return this.#tool(`compare ${redactUrl(url)}`, async (client) => {
      const r = await client.compare(url, options, signal);
      this.#appLog('info', 'compare', `Tunnel vs direct, ${r.bytes} bytes: tunnel ${formatBitrate(r.tunnel.bitsPerSecond)}, direct ${formatBitrate(r.direct.bitsPerSecond)}: the tunnel is ${r.percent}% of direct`);
      return r;
    });
  }

  /** Keeps a result made on the page (the tunnel-vs-direct comparison) for the report. */
  async recordToolResult(record: ToolRecord): Promise<void> {
    if (!this.#client) return;
    await this.#guard(this.#client.recordToolResult(record)).catch(() => {});
  }

  async traceroute(host: string, options: TracerouteCallOptions = {}, onHop?: (hop: TraceHop) => void, signal?: AbortSignal): Promise<TracerouteResult> {
    return this.#tool(`Traceroute ${host}`, async (client) => {
      const result = await client.traceroute(host, options, onHop, signal);
      this.#appLog(result.reached ? 'info' : 'warn', 'traceroute', describeTraceroute(result));
      return result;
    });
  }

  async fetchWithHead(url: string, init: TunnelRequestInit = {}): Promise<TunnelFetchResult> {
    const method = (init.method ?? 'GET').toUpperCase();
    return this.#tool(`HTTP ${method} ${redactUrl(url)}`, async (client) => {
      const result = await client.fetchWithHead(url, init);
      const { status, statusText, timing } = result.head;
      this.#appLog(status < 400 ? 'info' : 'warn', 'http', describeHttp(method, url, status, statusText, timing.headersMs));
      return result;
    });
  }

  async fetch(url: string, init: TunnelRequestInit = {}): Promise<Response> {
    return (await this.fetchWithHead(url, init)).response;
  }

  /** Trusts a CA / server certificate for https (wgweb.addTrustedCertificate). */
  async addTrustedCertificate(pem: string): Promise<{ subject: string; sha256: string }[]> {
    return this.#tool('trust certificate', async (client) => {
      const added = await client.addTrustedCertificate(pem);
      this.#appLog('info', 'tls', `Trusted for https: ${added.map((c) => c.subject).join('; ')}`);
      return added;
    });
  }

  /**
   * Hands the profile's https trust settings (TrustStore.toJSON() data) to the worker, which keeps
   * them for this session and the next ones.
   */
  async setTrust(json: object): Promise<void> {
    await this.ready;
    await this.#guard(this.#requireClient().setTrust(json));
  }

  /** Replaces the worker's SSH known hosts (known_hosts lines), once the worker is up. */
  async setSshKnownHosts(lines: string): Promise<void> {
    await this.ready;
    await this.#guard(this.#requireClient().setSshKnownHosts(lines));
  }

  async pinCertificate(host: string, sha256: string): Promise<void> {
    const json = await this.#options.onPinCertificate(host, sha256);
    await this.setTrust(json);
    this.#appLog('warn', 'tls', `Pinned the certificate SHA-256 ${sha256.slice(0, 16)}… for ${host} (trust on first use)`);
  }

  generateKeyPair(): Promise<KeyPair> {
    return this.#guard(this.#requireClient().generateKeyPair());
  }

  generatePresharedKey(): Promise<string> {
    return this.#guard(this.#requireClient().generatePresharedKey());
  }

  derivePublicKey(privateKey: string): Promise<string> {
    return this.#guard(this.#requireClient().derivePublicKey(privateKey));
  }

  clearLog(): void {
    this.log = [];
    this.#host.requestUpdate();
  }

  #start(): void {
    if (this.#worker) return;
    let worker: Worker;
    try {
      worker = this.#options.createWorker();
    } catch (e) {
      const error = new WgwebError(ErrorCode.INTERNAL, `The tunnel worker could not start: ${(e as Error).message}`);
      this.#appLog('error', 'worker-failed', error.message);
      this.#fail(error);
      this.#rejectReady(error);
      return;
    }
    this.#worker = worker;
    worker.addEventListener('error', (event) => {
      // Before the first answer this is a load failure (bad bundle, blocked by CSP): fatal.
      const message = event.message || 'the script failed to load';
      this.#appLog('error', 'worker-error', `The tunnel worker reported an error: ${message}`, undefined, hintsForError('INTERNAL'));
      if (!this.#isReady) {
        const error = new WgwebError(ErrorCode.INTERNAL, `The tunnel worker failed to start: ${message}`);
        this.#fail(error);
        this.#rejectReady(error);
      }
    });
    const client = new TunnelClient(worker);
    this.#client = client;
    // Subscribe only once the worker has answered: a callback proxy handed to a dead worker would
    // leave its channel open forever. Sessions replay their history to late subscribers.
    void this.#guard(client.status())
      .then((status) => {
        this.status = status;
        this.#markReady();
        return this.#guard(client.subscribe((events) => this.#onSessionEvents(events)));
      })
      .then((unsubscribe) => {
        this.#unsubscribe = unsubscribe;
        this.#host.requestUpdate();
      })
      .catch(() => {});
  }

  /**
   * Tears the worker down (tests, hot reload). Unsubscribes first, so the page end of the event
   * callback's channel is closed too (an open port would keep a Node test process alive).
   */
  async dispose(): Promise<void> {
    this.hostDisconnected();
    if (this.#unsubscribe && this.#isReady) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
      await Promise.race([this.#guard(this.#unsubscribe()).catch(() => {}), giveUp]);
      clearTimeout(timer);
    }
    this.#client?.dispose();
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#client = undefined;
  }

  #markReady(): void {
    if (this.#isReady) return;
    this.#isReady = true;
    this.#resolveReady();
  }

  #requireClient(): TunnelClient {
    if (!this.#client) throw new WgwebError(ErrorCode.INTERNAL, 'The tunnel worker is not running: reload the page.');
    return this.#client;
  }

  /** Races a worker call against the worker dying, so nothing waits forever on a dead worker. */
  #guard<T>(call: Promise<T>): Promise<T> {
    return Promise.race([call, this.#failed]);
  }

  async #tool<T>(what: string, run: (client: TunnelClient) => Promise<T>): Promise<T> {
    const client = this.#requireClient();
    try {
      return await this.#guard(run(client));
    } catch (e) {
      const error = toWgwebError(e);
      if (error.code !== ErrorCode.ABORTED) this.#appLog('warn', 'tool-failed', `${what} failed: ${error.message}`, { code: error.code }, hintsForError(error.code));
      throw error;
    } finally {
      void this.refreshStatus();
    }
  }

  #onSessionEvents(events: SessionEvent[]): void {
    const added = events.map((e) => {
      const entry: LogEntry = { ...e, id: this.#nextId++, source: 'session' };
      const code = typeof e.detail?.code === 'string' ? e.detail.code : undefined;
      if (e.level === 'error' && code) entry.hints = hintsForError(code);
      if (e.level === 'error') this.#lastSessionError = { code: code ?? ErrorCode.INTERNAL, message: e.message };
      return entry;
    });
    this.#append(added);
    // Events and status travel separately: if the status saw the session end first, its cause
    // may arrive just after.
    const cause = this.#lastSessionError;
    if (this.lastErrorFromSession && cause) this.lastError = new WgwebError(cause.code as ErrorCode, cause.message);
    // A state change usually comes with an event: refresh now instead of waiting for the poll.
    void this.refreshStatus();
  }

  #appLog(level: LogEntry['level'], type: string, message: string, detail?: Record<string, unknown>, hints?: string[]): void {
    const entry: LogEntry = { at: Date.now(), type, level, message, id: this.#nextId++, source: 'app' };
    if (detail) entry.detail = detail;
    if (hints?.length) entry.hints = hints;
    this.#append([entry]);
    this.#host.requestUpdate();
  }

  /** A new array each time (components compare by identity), oldest entries dropped past the limit. */
  #append(entries: LogEntry[]): void {
    const next = this.log.concat(entries);
    this.log = next.length > this.#options.logLimit ? next.slice(next.length - this.#options.logLimit) : next;
  }
}
