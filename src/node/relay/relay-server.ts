/**
 * The relay's server: one HTTP server on one port for the UI's static files and the WebSocket
 * upgrade on `/wg`.
 *
 *   upgrade ─▶ path /wg? (else HTTP 404)  upgrade headers sane? (else HTTP 400)
 *          ─▶ under the connection cap? (else HTTP 503, no upgrade at all)
 *          ─▶ reserve a session slot ─▶ parse ?to= ─▶ auth: token (relay-auth.ts) ─▶ policy: resolve + allow
 *          ─▶ connect UDP socket
 *          ─▶ complete the upgrade ─▶ refused? close(code, reason) : new RelaySession
 *
 * Refusals happen after the upgrade completes, on purpose: a browser never sees HTTP status codes
 * of a failed upgrade, only a close code and reason, and wgweb wants to tell the user *why*. The
 * connection cap (max sessions plus a small overflow for refusals in flight) keeps a handshake
 * flood from turning that into unbounded work; Node's header timeout bounds slowloris.
 *
 * The UDP socket is connected before the WebSocket opens, so a client's first datagram (its
 * handshake initiation) is never lost to session setup.
 */

import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { describeError, WgwebError } from '../../shared/errors.ts';
import { formatEndpoint, formatIp } from '../../shared/ip-address.ts';
import {
  parseRelayRequest,
  RELAY_PATH,
  RELAY_SUBPROTOCOL,
  RELAY_SUBPROTOCOL_V2,
  RELAY_SUBPROTOCOL_V3,
  RELAY_SUBPROTOCOLS,
  RELAY_V2_MAX_MESSAGE,
  relaySubprotocolOf,
  RelayCloseCode,
  truncateCloseReason,
} from '../../shared/relay-protocol.ts';
import type { DestinationPolicy } from './destination-policy.ts';
import type { Logger } from './log.ts';
import { addCounters, emptyCounters, openConnectedUdp, RelaySession, type SessionCounters, type SessionInfo, type SessionLimits } from './relay-session.ts';
import { createStaticHandler, sendText } from './static-files.ts';
import { setAppSecurityHeaders } from './app-security-headers.ts';
import { capConnectionsPerClient, ClientCounter, requestClient } from './client-limits.ts';
import type { OriginPolicy } from './origin-policy.ts';
import type { AuthGrant, RelayAuth } from './relay-auth.ts';
import { SPEED_PATH, parseSpeedRequest } from '../../shared/speed-protocol.ts';
import { serveSpeedTest } from './speed-endpoint.ts';
import { RELAY_STREAM_PATH_PREFIX, RELAY_SUBPROTOCOL_V3_STREAM, streamControlMessage } from '../../shared/relay-stream-protocol.ts';
import { RelayStreams, type RelayStreamStats } from './relay-stream-endpoint.ts';

/**
 * Extra HTTP handlers tried before the static files (e.g. `/api/demo/config`). Return true when
 * the request was handled (the handler then owns the response, also asynchronously).
 */
export type RelayRoutes = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Fully resolved server settings (see startRelay for the defaults). */
export interface RelayServerConfig {
  readonly host: string;
  readonly port: number;
  readonly policy: DestinationPolicy;
  readonly maxSessions: number;
  readonly maxMessage: number;
  readonly pingIntervalMs: number;
  readonly limits: SessionLimits;
  readonly staticDirs: readonly string[];
  readonly routes?: RelayRoutes;
  readonly log: Logger;
  readonly now: () => number;
  /** Which pages and host names may use the relay (WebSocket upgrades and /api/). */
  readonly origins: OriginPolicy;
  /** Sessions (open or being set up) one client address may hold. */
  readonly maxSessionsPerClient: number;
  /** Upgrades one client address may have in progress (resolving, checking) at once. */
  readonly maxPendingPerClient: number;
  /** TCP connections one client address may hold on the listener (not applied with trustProxy). */
  readonly maxConnectionsPerClient: number;
  /** Key per-client limits by the last X-Forwarded-For entry (a reverse proxy in front). */
  readonly trustProxy: boolean;
  /** Who may open sessions (--auth); absent: everyone. */
  readonly auth?: RelayAuth;
  /** Called once per ended session with its duration (the metrics' histogram). */
  readonly onSessionEnd?: (durationMs: number) => void;
  /**
   * The `/speed` endpoint (speed-endpoint.ts): the largest transfer per request; absent: off
   * (404). Each test holds one of its client's session slots and, with auth, needs a token.
   */
  readonly speedTest?: { readonly maxBytes: number };
  /**
   * Offer `wgweb.v3.stream` (the downstream as a fetch-stream body, relay-stream-endpoint.ts) to
   * clients that ask for it; default true. Off: such clients get `wgweb.v3`.
   */
  readonly fetchStream?: boolean;
}

/** Relay-wide counters. */
export interface RelayStats {
  /** Sessions forwarding now. */
  readonly activeSessions: number;
  /** Upgrades being resolved/checked. */
  readonly pendingSessions: number;
  /** Sessions opened since start. */
  readonly openedSessions: number;
  /** Refusals since start, by close-code name (plus `OVERLOAD` for HTTP 503s). */
  readonly refused: Readonly<Record<string, number>>;
  /** Counters summed over all sessions, open and ended. */
  readonly totals: SessionCounters;
  /** The open sessions. */
  readonly sessions: readonly SessionInfo[];
  /** Errors contained at a session or upgrade boundary since start (each ended only its session). */
  readonly internalErrors: number;
  /** Fetch-stream downstreams (`wgweb.v3.stream`); absent when the relay does not offer them. */
  readonly streams?: RelayStreamStats;
}

const CLOSE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RelayCloseCode).map(([k, v]) => [v, k]));

/** HTTP + WebSocket front of the relay. */
export class RelayServer {
  readonly http: http.Server;
  readonly policy: DestinationPolicy;
  private readonly cfg: RelayServerConfig;
  private readonly wss: WebSocketServer;
  private readonly serveStatic: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  private readonly sessions = new Set<RelaySession>();
  /** Fetch-stream downstreams (undefined when off). */
  private readonly streams: RelayStreams | undefined;
  private readonly hardCap: number;
  private pendingUpgrades = 0;
  private pendingSessions = 0;
  private openedSessions = 0;
  private nextId = 1;
  private readonly endedTotals = emptyCounters();
  private readonly refused: Record<string, number> = {};
  private readonly clientSessions: ClientCounter;
  private readonly clientPending: ClientCounter;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  /** Errors contained at a session or upgrade boundary (see RelayStats.internalErrors). */
  private internalErrors = 0;
  private closing: Promise<void> | undefined;
  /** Set by drain(): no new sessions, /readyz answers 503. */
  private draining = false;

  constructor(cfg: RelayServerConfig) {
    this.cfg = cfg;
    this.policy = cfg.policy;
    // Refusals in flight (accepted, then closed with a code) need a little room above maxSessions.
    this.hardCap = cfg.maxSessions + Math.max(16, Math.ceil(cfg.maxSessions / 4));
    this.serveStatic = createStaticHandler(cfg.staticDirs);
    // closeTimeout (ws ≥ 8.17, missing from @types/ws): a client that ignores our close frame is
    // dropped after 5 s instead of the default 30 s.
    const wsOptions: ServerOptions & { closeTimeout?: number } = {
      noServer: true,
      // The frame-level bound (ws answers 1009 from the frame header, before buffering the
      // payload). A wgweb.v2/v3 batch from the client may hold up to RELAY_V2_MAX_MESSAGE bytes
      // whatever --max-message says (only relay → client v3 batches are larger); the session
      // enforces --max-message per datagram in every framing.
      maxPayload: Math.max(cfg.maxMessage, RELAY_V2_MAX_MESSAGE),
      perMessageDeflate: false,
      clientTracking: true,
      closeTimeout: 5000,
      // RFC 6455 §4.2.2: the server picks one of the offered subprotocols, the newest it speaks:
      // wgweb.v3, then wgweb.v2 (batched) only when the client offers them, so a v1-only client keeps
      // the one-message-one-datagram framing and a v2 client its 64 KiB batches.
      // A client offering only other subprotocols (say a future wgweb.v4) gets its first one echoed
      // back, solely so that it accepts the upgrade and can read our BAD_REQUEST reason: a
      // WebSocket client fails the connection, reason unseen, when no offered protocol is selected.
      // wgweb.v3.stream (the v3 framing with the downstream on a fetch stream) only when the
      // client asks for it and this relay offers it: every other client is unaffected.
      handleProtocols: (protocols) =>
        (this.streams && protocols.has(RELAY_SUBPROTOCOL_V3_STREAM) ? RELAY_SUBPROTOCOL_V3_STREAM : undefined) ??
        RELAY_SUBPROTOCOLS.find((p) => protocols.has(p)) ??
        protocols.values().next().value ??
        false,
    };
    this.streams =
      cfg.fetchStream === false ? undefined : new RelayStreams({ origins: cfg.origins, trustProxy: cfg.trustProxy, log: cfg.log, refused: (name) => this.count(name) });
    this.wss = new WebSocketServer(wsOptions);
    // Slowloris: headers must be complete within 10 s, a whole request within 30 s; Node checks
    // every connectionsCheckingInterval.
    this.http = http.createServer(
      { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2000 },
      (req, res) => this.onRequest(req, res),
    );
    this.http.maxConnections = this.hardCap + 256;
    this.clientSessions = new ClientCounter(cfg.maxSessionsPerClient);
    this.clientPending = new ClientCounter(cfg.maxPendingPerClient);
    // Behind a trusted proxy every connection is the proxy's: it caps connections itself.
    if (!cfg.trustProxy) {
      capConnectionsPerClient(this.http, cfg.maxConnectionsPerClient, (client) => {
        this.count('CONNECTION_LIMIT');
        this.cfg.log.debug('relay.connection_limit', { client });
      });
    }
    this.http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // The boundary of one upgrade: an error here ends this connection, nothing else.
      try {
        this.onUpgrade(req, socket, head);
      } catch (e) {
        this.internalErrors++;
        this.cfg.log.error('session.setup_error', { client: clientAddress(req), error: describeError(e) });
        socket.destroy();
      }
    });
  }

  /**
   * Starts listening.
   * @throws {WgwebError} LISTEN_FAILED when the address cannot be bound (in use, not local, no permission).
   */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const where = formatEndpoint({ host: this.cfg.host, port: this.cfg.port });
        const why =
          err.code === 'EADDRINUSE'
            ? 'the address is already in use (another relay running? choose another with --listen)'
            : err.code === 'EADDRNOTAVAIL'
              ? 'that address is not on this machine'
              : err.code === 'EACCES'
                ? 'permission denied (ports below 1024 need privileges)'
                : (err.code ?? err.message);
        reject(new WgwebError('LISTEN_FAILED', `cannot listen on ${where}: ${why}`, { code: err.code }, { cause: err }));
      };
      this.http.once('error', onError);
      this.http.listen({ host: this.cfg.host, port: this.cfg.port }, () => {
        this.http.off('error', onError);
        this.http.on('error', (err) => this.cfg.log.error('relay.http_error', { error: err.message }));
        const addr = this.http.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.cfg.port;
        this.pingTimer = setInterval(() => this.sweep(), this.cfg.pingIntervalMs);
        this.pingTimer.unref();
        resolve({ host: this.cfg.host, port });
      });
    });
  }

  /** Counters and the open sessions. */
  stats(): RelayStats {
    const totals = emptyCounters();
    addCounters(totals, this.endedTotals);
    const sessions: SessionInfo[] = [];
    for (const s of this.sessions) {
      const info = s.info();
      sessions.push(info);
      addCounters(totals, info.counters);
    }
    return {
      activeSessions: this.sessions.size,
      pendingSessions: this.pendingSessions,
      openedSessions: this.openedSessions,
      refused: { ...this.refused },
      totals,
      sessions,
      internalErrors: this.internalErrors + [...this.sessions].reduce((n, s) => n + s.internalErrors, 0),
      ...(this.streams ? { streams: this.streams.stats() } : {}),
    };
  }

  /** False once draining or closing: what /readyz reports. */
  get ready(): boolean {
    return !this.draining && !this.closing;
  }

  /**
   * Graceful drain (SIGTERM): stops accepting sessions (upgrades get HTTP 503, /readyz 503 so load
   * balancers stop sending new clients), tells every client to move with 1012 "service restart"
   * (clients reconnect at once, to another relay when they have one), and resolves once every
   * session is gone or after `timeoutMs`; the caller then closes the rest with close().
   * @returns the sessions still open when it resolved.
   */
  async drain(timeoutMs: number): Promise<number> {
    if (!this.draining) {
      this.draining = true;
      this.cfg.log.info('relay.draining', { activeSessions: this.sessions.size, timeoutMs });
      for (const s of [...this.sessions]) s.close(RelayCloseCode.SERVICE_RESTART, 'relay draining: move to another relay');
    }
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.sessions.size;
  }

  /**
   * Stops accepting, closes every session with 1001 (going away), waits briefly for the close
   * handshakes, then drops what is left. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    for (const s of [...this.sessions]) s.close(RelayCloseCode.GOING_AWAY, 'relay shutting down');
    const clients = [...this.wss.clients];
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.close(RelayCloseCode.GOING_AWAY, 'relay shutting down');
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(clients.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once('close', r))))),
      new Promise((r) => (timer = setTimeout(r, 2000))),
    ]);
    clearTimeout(timer);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await httpClosed;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    setAppSecurityHeaders(res);
    const path0 = (req.url ?? '/').split('?')[0];
    // Every answer but the probes needs a Host this relay serves: under a rebound name (DNS
    // rebinding, a page at attacker.example re-pointed at 127.0.0.1) a page could otherwise read
    // /metrics (who uses the relay, how much) or the UI. Probes (/healthz, /readyz) carry nothing
    // and load balancers send them under any name. `/api/` also needs an allowed Origin.
    const probe = path0 === '/healthz' || path0 === '/readyz';
    const hostProblem = probe ? undefined : this.cfg.origins.hostProblem(req.headers.host);
    if (hostProblem || path0.startsWith('/api/')) {
      const problem = hostProblem ?? this.cfg.origins.originProblem(req.headers.origin, req.headers.host);
      if (problem) {
        this.count('ORIGIN_NOT_ALLOWED');
        this.cfg.log.info('relay.api_refused', { client: clientAddress(req), origin: safeUrl(req.headers.origin), host: safeUrl(req.headers.host), problem });
        sendText(res, 403, problem, { 'Cache-Control': 'no-store' });
        return;
      }
    }
    try {
      if (this.cfg.routes?.(req, res)) return;
    } catch (e) {
      this.cfg.log.error('relay.route_error', { url: safeUrl(req.url), error: (e as Error).message });
      sendText(res, 500, 'internal error');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (this.streams && path.startsWith(RELAY_STREAM_PATH_PREFIX)) {
      this.streams.serve(req, res, path);
      return;
    }
    if (path === RELAY_PATH) {
      sendText(res, 426, `this is the wgweb relay WebSocket (subprotocol ${RELAY_SUBPROTOCOL}, ${RELAY_SUBPROTOCOL_V2} or ${RELAY_SUBPROTOCOL_V3})`, { Upgrade: 'websocket', Connection: 'Upgrade' });
      return;
    }
    if (path === '/healthz') {
      sendText(res, 200, 'ok', { 'Cache-Control': 'no-store' });
      return;
    }
    // Readiness: whether new sessions are accepted (false while draining), for load balancers.
    if (path === '/readyz') {
      if (this.ready) sendText(res, 200, 'ready', { 'Cache-Control': 'no-store' });
      else sendText(res, 503, 'draining', { 'Cache-Control': 'no-store' });
      return;
    }
    this.serveStatic(req, res).catch((e: unknown) => {
      this.cfg.log.error('relay.static_error', { url: safeUrl(req.url), error: (e as Error).message });
      sendText(res, 500, 'internal error');
    });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // A reset from a hostile or vanished client must never become an uncaught 'error'.
    socket.on('error', () => {});
    const client = clientAddress(req);
    if (this.closing) return rejectUpgrade(socket, 503, 'relay shutting down');
    if (this.draining) {
      this.count('DRAINING');
      return rejectUpgrade(socket, 503, 'relay draining');
    }
    if ((req.url ?? '').split('?')[0] === SPEED_PATH) return this.onSpeedUpgrade(req, socket, head, client);
    const parsed = parseRelayRequest(req.url ?? '');
    if (!parsed.ok && parsed.status === 404) return rejectUpgrade(socket, 404, 'not found');
    const problem = upgradeProblem(req);
    if (problem) return rejectUpgrade(socket, 400, problem);
    if (this.wss.clients.size + this.pendingUpgrades >= this.hardCap) {
      this.count('OVERLOAD');
      this.cfg.log.warn('session.overload', { client });
      return rejectUpgrade(socket, 503, 'relay overloaded');
    }
    const ip = requestClient(req, this.cfg.trustProxy);
    // Upgrades in progress per client bound what one client can make the relay resolve at once.
    if (!this.clientPending.tryAcquire(ip)) {
      this.count('CLIENT_PENDING_LIMIT');
      this.cfg.log.info('session.client_pending_limit', { client });
      return rejectUpgrade(socket, 429, 'too many relay sessions being set up from your address');
    }
    this.pendingUpgrades++;
    let prepared: Preparation | undefined;
    void this.prepare(req, parsed, client, ip)
      .then((prep) => {
        prepared = prep;
        this.complete(req, socket, head, client, prep);
      })
      .catch((e: unknown) => {
        this.internalErrors++;
        this.cfg.log.error('session.setup_error', { client, error: describeError(e) });
        if (prepared?.clientSlot && !prepared.slotOwned) this.clientSessions.release(prepared.clientSlot);
        if (prepared?.grant && !prepared.slotOwned) this.cfg.auth?.release(prepared.grant);
        prepared?.udp?.close();
        socket.destroy();
      })
      .finally(() => {
        this.pendingUpgrades--;
        this.clientPending.release(ip);
      });
  }

  private async prepare(
    req: http.IncomingMessage,
    parsed: ReturnType<typeof parseRelayRequest>,
    client: string,
    ip: string,
  ): Promise<Preparation> {
    // Browsers always send Origin on a WebSocket handshake (RFC 6455 §4.1): a page that is not
    // the relay's own, or that reached it under a rebound host name, learns nothing but this.
    // Clients without Origin (the CLI) are not web pages and may name the relay as they like.
    const originProblem =
      req.headers.origin === undefined
        ? undefined
        : (this.cfg.origins.hostProblem(req.headers.host) ?? this.cfg.origins.originProblem(req.headers.origin, req.headers.host));
    if (originProblem) {
      this.cfg.log.info('session.origin_refused', { client, origin: safeUrl(req.headers.origin), host: safeUrl(req.headers.host) });
      return { refusal: { code: RelayCloseCode.ORIGIN_NOT_ALLOWED, reason: originProblem } };
    }
    if (!parsed.ok) return { refusal: { code: parsed.closeCode, reason: parsed.reason } };
    const endpoint = formatEndpoint(parsed.endpoint);
    if (!offersSubprotocol(req, this.streams !== undefined)) {
      const offered = req.headers['sec-websocket-protocol'];
      const reason = `this relay speaks WebSocket subprotocol ${RELAY_SUBPROTOCOL}, ${RELAY_SUBPROTOCOL_V2} or ${RELAY_SUBPROTOCOL_V3}; the client offered ${offered ? `"${offered}"` : 'none'}`;
      return { endpoint, refusal: { code: RelayCloseCode.BAD_REQUEST, reason } };
    }
    const auth = this.cfg.auth?.check(headerText(req.headers['sec-websocket-protocol']), parsed.endpoint);
    if (auth && !auth.ok) {
      this.cfg.log.info('session.auth_refused', { client, endpoint, code: auth.code, reason: auth.reason });
      return { endpoint, refusal: { code: auth.code, reason: auth.reason } };
    }
    const grant = auth?.grant;
    if (this.sessions.size + this.pendingSessions >= this.cfg.maxSessions) {
      return { endpoint, refusal: { code: RelayCloseCode.TOO_MANY_SESSIONS, reason: `relay is full (${this.cfg.maxSessions} sessions)` } };
    }
    if (!this.clientSessions.tryAcquire(ip)) {
      return {
        endpoint,
        refusal: { code: RelayCloseCode.CLIENT_LIMIT, reason: `your address holds ${this.cfg.maxSessionsPerClient} sessions on this relay already` },
      };
    }
    let keepSlot = false;
    this.pendingSessions++;
    try {
      const decision = await this.cfg.policy.decide(parsed.endpoint);
      if (!decision.allowed) {
        // What a name resolved to stays in the log: the close reason must not be a DNS oracle.
        if (decision.logDetail) this.cfg.log.info('session.policy_detail', { client, endpoint, ...decision.logDetail });
        return { endpoint, refusal: { code: decision.code, reason: decision.reason } };
      }
      const destination = formatEndpoint({ host: formatIp(decision.address), port: decision.port });
      try {
        const udp = await openConnectedUdp(decision.address, decision.port);
        // The token's own cap, taken last so that no refusal above has to give it back.
        if (grant && !this.cfg.auth!.acquire(grant)) {
          udp.close();
          return {
            endpoint,
            refusal: { code: RelayCloseCode.TOKEN_SESSION_LIMIT, reason: `this token holds ${grant.cap?.max} sessions on this relay already` },
          };
        }
        keepSlot = true;
        return { endpoint, destination, udp, clientSlot: ip, grant };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        this.cfg.log.warn('session.udp_connect_failed', { client, endpoint, destination, code });
        // No route / no such address family is about the destination; anything else (EMFILE,
        // ENOBUFS, ...) is the relay's own trouble and worth a retry.
        const unreachable = ['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL', 'EACCES', 'EPERM'].includes(code);
        return {
          endpoint,
          refusal: unreachable
            ? { code: RelayCloseCode.DESTINATION_UNREACHABLE, reason: `cannot reach ${endpoint}: ${code}` }
            : { code: RelayCloseCode.INTERNAL_ERROR, reason: `relay cannot open a UDP socket: ${code}` },
        };
      }
    } finally {
      // complete() runs in the same microtask checkpoint, before any other upgrade can look at
      // the counts, so releasing the reservation here cannot let a session in over the limit.
      this.pendingSessions--;
      if (!keepSlot) this.clientSessions.release(ip);
    }
  }

  private complete(req: http.IncomingMessage, socket: Duplex, head: Buffer, client: string, prep: Preparation): void {
    const dropSlot = (): void => {
      if (prep.clientSlot && !prep.slotOwned) this.clientSessions.release(prep.clientSlot);
      if (prep.grant && !prep.slotOwned) this.cfg.auth?.release(prep.grant);
      prep.clientSlot = undefined;
      prep.grant = undefined;
    };
    if (this.closing || socket.destroyed || !socket.writable) {
      dropSlot();
      prep.udp?.close();
      socket.destroy();
      return;
    }
    if (this.draining && !prep.refusal) {
      // Set up while the drain began: the client is told to move like everyone else.
      prep.udp?.close();
      prep.udp = undefined;
      prep.refusal = { code: RelayCloseCode.SERVICE_RESTART, reason: 'relay draining: move to another relay' };
    }
    let accepted = false;
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted = true;
      if (prep.refusal || !prep.udp || !prep.destination || !prep.endpoint) {
        dropSlot();
        const code = prep.refusal?.code ?? RelayCloseCode.INTERNAL_ERROR;
        const reason = truncateCloseReason(prep.refusal?.reason ?? 'internal error');
        this.count(CLOSE_NAMES[code] ?? String(code));
        this.cfg.log.info('session.refused', { client, endpoint: prep.endpoint ?? safeUrl(req.url), code, reason });
        ws.close(code, reason);
        prep.udp?.close();
        return;
      }
      const slot = prep.clientSlot ?? '?';
      const grant = prep.grant;
      prep.slotOwned = true;
      const streamed = this.streams !== undefined && ws.protocol === RELAY_SUBPROTOCOL_V3_STREAM;
      const session = new RelaySession({
        id: this.nextId++,
        ws,
        // wgweb.v3.stream is the v3 framing; only the downstream's carrier differs.
        protocol: streamed ? RELAY_SUBPROTOCOL_V3 : relaySubprotocolOf(ws.protocol),
        udp: prep.udp,
        client,
        endpoint: prep.endpoint,
        destination: prep.destination,
        limits: this.cfg.limits,
        maxMessage: this.cfg.maxMessage,
        log: this.cfg.log,
        now: this.cfg.now,
        onEnd: (s) => {
          this.streams?.end(s);
          this.sessions.delete(s);
          this.clientSessions.release(slot);
          if (grant) this.cfg.auth?.release(grant);
          this.cfg.onSessionEnd?.(s.ageMs);
          this.internalErrors += s.internalErrors;
          addCounters(this.endedTotals, s.counters);
        },
      });
      this.sessions.add(session);
      this.openedSessions++;
      this.cfg.log.info('session.open', {
        id: session.id,
        client,
        endpoint: prep.endpoint,
        destination: prep.destination,
        local: session.local,
        protocol: session.protocol,
        ...(streamed ? { stream: true } : {}),
        ...(grant && grant.label !== 'none' ? { auth: grant.label } : {}),
      });
      // The first message of the session: where its downstream body is (one-time, in-band).
      if (streamed) {
        const notify = (text: string): void => {
          if (ws.readyState === ws.OPEN) ws.send(text);
        };
        ws.send(streamControlMessage(this.streams!.offer(session, slot, notify)));
      }
    });
    // ws answers malformed upgrades itself (400) without calling back; the socket must not leak.
    if (!accepted) {
      dropSlot();
      prep.udp?.close();
    }
  }

  /**
   * `/speed?down=N|up=N` (speed-endpoint.ts): off → 404; over the relay's capacity → 503; then
   * refusals as close codes after the upgrade, like sessions: origin, a bad request or a transfer
   * over the limit (BAD_REQUEST), the token (with --auth), the client's session slots (the test
   * holds one while it runs, so it counts in the per-client limits), the token's cap.
   */
  private onSpeedUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, client: string): void {
    const speed = this.cfg.speedTest;
    if (!speed) return rejectUpgrade(socket, 404, 'not found');
    const problem = upgradeProblem(req);
    if (problem) return rejectUpgrade(socket, 400, problem);
    if (this.wss.clients.size + this.pendingUpgrades >= this.hardCap) {
      this.count('OVERLOAD');
      return rejectUpgrade(socket, 503, 'relay overloaded');
    }
    const ip = requestClient(req, this.cfg.trustProxy);
    let refusal: { code: number; reason: string } | undefined;
    const originProblem =
      req.headers.origin === undefined ? undefined : (this.cfg.origins.hostProblem(req.headers.host) ?? this.cfg.origins.originProblem(req.headers.origin, req.headers.host));
    if (originProblem) refusal = { code: RelayCloseCode.ORIGIN_NOT_ALLOWED, reason: originProblem };
    const parsed = parseSpeedRequest(req.url ?? '', speed.maxBytes);
    if (!refusal && !parsed.ok) refusal = { code: RelayCloseCode.BAD_REQUEST, reason: parsed.reason };
    let grant: AuthGrant | undefined;
    if (!refusal && this.cfg.auth) {
      const a = this.cfg.auth.checkToken(headerText(req.headers['sec-websocket-protocol']));
      if (a.ok) grant = a.grant;
      else refusal = { code: a.code, reason: a.reason };
    }
    let slot = false;
    if (!refusal) {
      slot = this.clientSessions.tryAcquire(ip);
      if (!slot) refusal = { code: RelayCloseCode.CLIENT_LIMIT, reason: `your address holds ${this.cfg.maxSessionsPerClient} sessions on this relay already` };
    }
    let tokenSlot = false;
    if (!refusal && grant) {
      tokenSlot = this.cfg.auth!.acquire(grant);
      if (!tokenSlot) refusal = { code: RelayCloseCode.TOKEN_SESSION_LIMIT, reason: `this token holds ${grant.cap?.max} sessions on this relay already` };
    }
    const release = (): void => {
      if (slot) this.clientSessions.release(ip);
      if (tokenSlot && grant) this.cfg.auth?.release(grant);
      slot = tokenSlot = false;
    };
    let accepted = false;
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted = true;
      if (refusal || !parsed.ok) {
        release();
        const code = refusal?.code ?? RelayCloseCode.BAD_REQUEST;
        this.count(CLOSE_NAMES[code] ?? String(code));
        this.cfg.log.info('speed.refused', { client, code, reason: refusal?.reason });
        ws.close(code, truncateCloseReason(refusal?.reason ?? 'bad request'));
        return;
      }
      this.cfg.log.info('speed.start', { client, direction: parsed.direction, bytes: parsed.bytes, ...(grant && grant.label !== 'none' ? { auth: grant.label } : {}) });
      void serveSpeedTest(ws, { direction: parsed.direction, bytes: parsed.bytes }).then((o) => {
        release();
        this.cfg.log.info('speed.end', { client, direction: o.direction, bytes: o.bytes, ms: o.ms, complete: o.complete });
      });
    });
    // ws answers malformed upgrades itself (400) without calling back: give the slots back.
    if (!accepted) release();
  }

  /** Liveness: a session that answered no ping (and sent nothing) since the last sweep is dropped. */
  private sweep(): void {
    for (const s of this.sessions) {
      if (!s.alive) {
        this.cfg.log.info('session.dead', { id: s.id, client: s.client });
        s.terminate();
        continue;
      }
      s.alive = false;
      s.ping();
    }
  }

  private count(name: string): void {
    this.refused[name] = (this.refused[name] ?? 0) + 1;
  }
}

interface Preparation {
  endpoint?: string;
  destination?: string;
  udp?: import('node:dgram').Socket;
  refusal?: { code: number; reason: string };
  /** The client whose per-client session slot this preparation holds (released unless a session takes it). */
  clientSlot?: string;
  /** A session took over the slot (it releases it when it ends). */
  slotOwned?: boolean;
  /** The token's grant whose cap slot this preparation holds (same ownership as clientSlot). */
  grant?: AuthGrant;
}

/** A header that may arrive as a list, as one comma-separated string. */
function headerText(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(',') : h;
}

function offersSubprotocol(req: http.IncomingMessage, streams: boolean): boolean {
  const h = req.headers['sec-websocket-protocol'];
  if (typeof h !== 'string') return false;
  return h.split(',').some((p) => RELAY_SUBPROTOCOLS.includes(p.trim()) || (streams && p.trim() === RELAY_SUBPROTOCOL_V3_STREAM));
}

/** The checks ws would make, done before any work so a bad upgrade costs nothing. */
function upgradeProblem(req: http.IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'WebSocket upgrades use GET';
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'expected Upgrade: websocket';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key)) return 'missing or invalid Sec-WebSocket-Key';
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'unsupported Sec-WebSocket-Version (use 13)';
  return undefined;
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  const text = http.STATUS_CODES[status] ?? 'Error';
  if (socket.writable) {
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // A client that never reads must not hold the socket.
    setTimeout(() => socket.destroy(), 5000).unref();
  } else socket.destroy();
}

function clientAddress(req: http.IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '?';
  const p = req.socket.remotePort ?? 0;
  return formatEndpoint({ host: a, port: p });
}

/** A request target for logs: bounded length, no control characters. */
function safeUrl(url: string | undefined): string {
  return (url ?? '').slice(0, 200).replace(/[\x00-\x1f\x7f]/g, '?');
}
