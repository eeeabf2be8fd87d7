/**
 * A wgweb session: one wg-quick config brought up over the relay. The same class runs in the
 * browser's Web Worker and in the CLI (Node, with the `ws` package as WebSocket).
 *
 *   config text ──▶ parseWgQuickConfig ──▶ createStack: Tunnel (src/wireguard) + NetInterface (src/netstack)
 *   EventLoop (one timer) ◀──▶ RelayTransport per peer endpoint (one WebSocket = one UDP flow)
 *   apps: ping (ICMP echo socket), dns (DnsResolver), tcping / fetch (NetstackDialer, HttpClient),
 *         webSocket (WebSocketConnection, RFC 6455)
 *   https: the TLS code (src/protocols/tls) loads on the first https URL (dynamic import); its
 *   handshake steps join the event stream, its secrets the key log (for a pcapng DSB)
 *   ssh: the SSH client (src/protocols/ssh) loads on the first `ssh()` (dynamic import); host keys
 *   are checked against this session's known hosts (`setSshKnownHosts`, opt-in persistence upstairs)
 *   events: TunnelEvent + relay state ──▶ plain-words SessionEvent for the log and timeline
 *   quality: a timer samples throughput, RTTs, loss and handshake age into a bounded ring
 *   (quality-history.ts); each tool's last result is kept (tool-record.ts); `report()` gathers
 *   both with the status, the event log and the redacted config (diagnostic-report.ts)
 */
import { ErrorCode, WgwebError } from '../shared/errors.ts';
import { SignalScope } from '../shared/signal-scope.ts';
import { formatEndpoint, formatIp, formatPrefix, prefixContains, tryParseIp, type Endpoint, type IpAddress } from '../shared/ip-address.ts';
import { parseWgQuickConfig, type WgQuickConfig } from '../shared/wg-quick-config.ts';
import { DnsResolver } from '../protocols/dns/dns-resolver.ts';
import { DnsRcode, DnsType, namesEqual, rcodeName, typeName, type DnsRecord } from '../protocols/dns/dns-message.ts';
import { LOOKUP_TYPES, formatRdata, lookupTypeCode, reverseName, type LookupType } from '../protocols/dns/dns-presentation.ts';
import { HttpClient, type HttpRequestInit, type TlsConnector } from '../protocols/http/http-client.ts';
import type { TrustStore, TrustedCertificateInfo } from '../protocols/tls/trust-store.ts';
import { WebSocketConnection } from '../protocols/websocket/websocket-connection.ts';
import type { SshConnection } from '../protocols/ssh/ssh-connection.ts';
import type { SshConnectParams } from '../protocols/ssh/ssh-connector.ts';
import type { KnownHosts } from '../protocols/ssh/known-hosts.ts';
import type { NetInterface } from '../netstack/net-interface.ts';
import { runIperf3, type Iperf3Progress } from '../protocols/iperf3/iperf3-connection.ts';
import { DEFAULT_IPERF3_PORT, DEFAULT_IPERF3_SECONDS } from '../protocols/iperf3/iperf3-messages.ts';
import { TcpStreamConnection } from '../engine/tcp-stream-connection.ts';
import { EchoChannel, echoPayload } from './echo-channel.ts';
import { MTU_DEFAULTS, PING_DEFAULTS, TCPING_DEFAULTS } from './tool-defaults.ts';
import { DEFAULT_ECHO_PAYLOAD_BYTES, MAX_ECHO_PAYLOAD_V4, MAX_ECHO_PAYLOAD_V6 } from '../netstack/netstack-constants.ts';
import { IPV4_MIN_MTU } from '../netstack/wire/ipv4.ts';
import { IPV6_MIN_MTU } from '../netstack/wire/ipv6.ts';
import { MtuNoReplyError, searchMtu, type MtuProbeOutcome, type MtuSearchStep } from './mtu-search.ts';
import { TRACEROUTE_BASE_PORT, TRACEROUTE_DEFAULTS, runTraceroute, traceError, type TraceHop, type TraceProbeOutcome } from './traceroute.ts';
import { UdpProbeChannel } from './udp-probe-channel.ts';
import type { TcpSocketTable } from '../netstack/socket/tcp-socket-table.ts';
import type { PeerId, TunnelEvent } from '../wireguard/tunnel.ts';
import { publicKeyFromPrivate } from '../wireguard/noise-keys.ts';
import { transportCipherImplementation } from '../wireguard/transport-cipher.ts';
import { EventLoop } from '../engine/event-loop.ts';
import { createStack } from '../engine/stack.ts';
import { NetstackDialer, NO_PEER_FOR_ADDRESS } from '../engine/netstack-dialer.ts';
import { RelayHistory } from './relay-history.ts';
import { webSocketStreamCarrier } from '../engine/websocket-stream-socket.ts';
import { fetchStreamCarrier, type CarrierFallback } from '../engine/fetch-stream-socket.ts';
import { RelayTransport, type RelayStateDetail, type RelayTransportState, type RelayWebSocketConstructor } from '../engine/relay-transport.ts';
import type {
  DnsRecordType,
  DnsResult,
  DnsQueryResult,
  DnsRecordLine,
  PortCheckResult,
  Iperf3Options,
  Iperf3Result,
  PingOptions,
  MtuOptions,
  TracerouteOptions,
  TracerouteResult,
  MtuResult,
  PingReply,
  PeerState,
  PingSummary,
  TcpingResult,
  SessionEvent,
  TunnelState,
  TunnelStatus,
} from './session-types.ts';
import { describeTunnelEvent } from './tunnel-event-text.ts';
import { QualityHistory, type QualityHistorySnapshot, type QualityTotals } from './quality-history.ts';
import { TOOL_NAMES, toolFailure, toolRecord, type HttpToolResult, type ToolName, type ToolRecord } from './tool-record.ts';
import { buildDiagnosticReport, type DiagnosticReport, type PeerCheck, type ReportRuntime } from './diagnostic-report.ts';
import type { TcpSocket } from '../netstack/socket/tcp-socket.ts';
import { describeTlsEvent } from './tls-event-text.ts';
import { measureDirect, type TunnelVsDirectResult } from './direct-speed.ts';
import { diagnoseHandshake } from './handshake-diagnosis.ts';

/** Options for {@link Session.webSocket}. */
export interface SessionWebSocketOptions {
  /** Subprotocols, in order of preference. */
  protocols?: readonly string[];
  /** Extra handshake headers (Origin, Cookie, Authorization...). */
  headers?: Iterable<[string, string]> | Record<string, string>;
  /** Aborts the opening handshake. */
  signal?: AbortSignal;
  /** Limit on connect plus handshake (default 30 s). */
  timeoutMs?: number;
  /** Largest incoming message (default 64 MiB); a larger one closes the connection with 1009. */
  maxMessageSize?: number;
  /** wss: accept any server certificate (like curl -k). Default: checked against the trust settings, as for https. */
  insecure?: boolean;
  /** Offer permessage-deflate (RFC 7692) for what the server sends (default true). */
  perMessageDeflate?: boolean;
}

/** Options for {@link Session.ssh}: credentials, the expected host key, limits. */
export type SessionSshOptions = Omit<SshConnectParams, 'host' | 'onEvent'>;

export interface SessionOptions {
  /** wg-quick text; or pass an already parsed `config`. */
  configText?: string;
  config?: WgQuickConfig;
  /**
   * `ws://host:port`, an http(s) page URL, or a full `/wg` URL; or several interchangeable relays
   * (the fastest to open is used, the others take over within a moment when it fails or drains).
   */
  relayUrl: string | readonly string[];
  /** Default `globalThis.WebSocket`; Node passes `WebSocket` from `ws`. */
  WebSocketImpl?: RelayWebSocketConstructor;
  /** Called for every inner IP packet (capture, teaching views); valid during the call only (copy to keep). */
  onPacket?: (direction: 'in' | 'out', packet: Uint8Array, atEpochMs: number) => void;
  /** Max events kept for late subscribers (default 500). */
  eventHistory?: number;
  /**
   * Offer the relay's batched framings `wgweb.v3` and `wgweb.v2` (default true). It lifts the browser's
   * message-rate ceiling; Node's `ws` already delivers a socket read's messages in one burst, so
   * the CLI turns it off (docs/relay.md).
   */
  relayBatching?: boolean;
  /** Access token for a relay with authentication (sent as a subprotocol value, never in the URL). */
  relayToken?: string;
  /**
   * What carries the relay session when no `WebSocketImpl` is given: `'websocketstream'` the
   * platform's WebSocketStream (Chromium) where it exists, else the WebSocket; `'websocket'` the
   * platform's WebSocket always; `'fetch-stream'` the downstream on a streaming fetch() body and the
   * upstream on the WebSocket (`WebSocketImpl` or the platform's) where the relay offers it, else the
   * WebSocket alone (fetch-stream-socket.ts). Default {@link DEFAULT_RELAY_CARRIER} with the
   * platform's WebSocket (browsers), `'websocket'` with a `WebSocketImpl` (Node's `ws`, whose
   * messages cost no task each). All speak the same relay protocol (websocket-stream-socket.ts).
   */
  relayCarrier?: RelayCarrier;
  /** Datagrams of one received burst handled before the stack is polled (its ACKs); see EventLoop. */
  maxDatagramsPerStep?: number;
  /** Time between connection-quality samples, ms (default 5000; quality-history.ts). */
  qualityIntervalMs?: number;
  /** Quality samples kept (default 720: one hour at 5 s). */
  qualityCapacity?: number;
}

/** What carries a relay session (SessionOptions.relayCarrier). */
export type RelayCarrier = 'websocket' | 'websocketstream' | 'fetch-stream';

/**
 * The carrier a Session on the platform's WebSocket (a browser) uses unless told otherwise: the
 * downstream on a fetch() body, which falls back to the WebSocket by itself (docs/benchmarks.md
 * #19 section 12). With a `WebSocketImpl` (Node) the default is `'websocket'`.
 */
export const DEFAULT_RELAY_CARRIER: RelayCarrier = 'fetch-stream';

const now = (): number => performance.now();

/** Milliseconds between a send and its answer, 0 when the send time is no longer known. */
const elapsed = (at: number, sent: number | undefined): number => at - (sent ?? at);
const epoch = (t: number): number => Math.round(performance.timeOrigin + t);

/** See the module comment. */
export class Session {
  readonly config: WgQuickConfig;
  /** The relay as given, the first of the list when several were given. */
  readonly relayUrl: string;
  /** Every relay given (one for a single relay). */
  readonly relayUrls: readonly string[];
  readonly loop: EventLoop;
  readonly net: NetInterface<TcpSocketTable>;
  readonly dialer: NetstackDialer;
  readonly http: HttpClient;
  private readonly resolver: DnsResolver | undefined;
  private readonly transports = new Map<string, RelayTransport>();
  private readonly webSockets = new Set<WebSocketConnection>();
  private readonly sshConnections = new Set<SshConnection>();
  /** Known SSH host keys (loaded with the SSH chunk). */
  private knownHosts: KnownHosts | undefined;
  private readonly listeners = new Set<(e: SessionEvent) => void>();
  private readonly history: SessionEvent[] = [];
  private readonly historyLimit: number;
  private readonly relayBatching: boolean;
  /** The WebSocket class of every relay session (undefined: the platform's WebSocket). */
  private readonly relayImpl: RelayWebSocketConstructor | undefined;
  /** What was asked for (or, for websocketstream, what the platform has). */
  private readonly carrierChoice: RelayCarrier;
  /** 'fetch-stream': the downstream carrier the latest connection reported. */
  private downstreamCarrier: 'fetch-stream' | 'websocket' = 'websocket';
  /** 'fetch-stream': why the latest connection's downstream is on the WebSocket, if it is. */
  private carrierFallback: CarrierFallback | undefined;
  private readonly relayToken: string | undefined;
  private readonly webSocketImpl: RelayWebSocketConstructor | undefined;
  private readonly publicKey: string;
  private established = false;
  private closed = false;
  /**
   * The relay session of each peer endpoint (#11 item 13): one refused endpoint fails only the
   * peers behind it. The session's own relay state is their best ({@link aggregateRelayState}).
   */
  private readonly relayStates = new Map<string, RelayEndpointState>();
  private relayState: RelayTransportState = 'connecting';
  private handshakeWaiters: { resolve: () => void; reject: (e: WgwebError) => void }[] = [];
  private lastFailure: WgwebError | undefined;
  /** Monotonic time of the first initiation of each peer's current attempt series. */
  private readonly handshakeStartedAt = new Map<PeerId, number>();
  /** Peers whose handshake attempts ran out (REKEY_ATTEMPT_TIME), until one succeeds. */
  private readonly peerFailures = new Map<PeerId, WgwebError>();
  /** Loaded on the first https URL; recreated (fresh ticket cache) when the trust settings change. */
  private tlsConnector: Promise<TlsConnector> | undefined;
  /** SSLKEYLOGFILE lines of this session's TLS connections (bounded). */
  private readonly tlsKeyLog: string[] = [];
  /** CAs, trusted server certificates and pins for https (loaded with the TLS chunk). */
  private trust: TrustStore | undefined;
  /** Hosts whose TLS connections may use legacy suites (user opt-in, per host). */
  private readonly legacyTlsHosts = new Set<string>();
  /** Connection quality over time (issue #15 item 7), sampled by {@link qualityTimer}. */
  private readonly qualityHistory: QualityHistory;
  private readonly qualityTimer: ReturnType<typeof setInterval>;
  /** TCP retransmits of sockets seen so far, and what each live socket had at the last look. */
  private tcpRetransmitTotal = 0;
  private readonly seenRetransmits = new WeakMap<TcpSocket, number>();
  /** The last run of each diagnostic tool, for the report. */
  private readonly toolRuns = new Map<ToolName, ToolRecord>();

  private constructor(options: SessionOptions, config: WgQuickConfig) {
    this.config = config;
    this.relayUrls = typeof options.relayUrl === 'string' ? [options.relayUrl] : [...options.relayUrl];
    if (this.relayUrls.length === 0) throw new TypeError('relayUrl: give at least one relay URL');
    this.relayUrl = this.relayUrls[0];
    this.historyLimit = options.eventHistory ?? 500;
    this.relayBatching = options.relayBatching ?? true;
    const carrier = options.relayCarrier ?? (options.WebSocketImpl === undefined ? DEFAULT_RELAY_CARRIER : 'websocket');
    if (carrier !== 'websocket' && carrier !== 'websocketstream' && carrier !== 'fetch-stream') {
      throw new TypeError(`relayCarrier must be 'websocket', 'websocketstream' or 'fetch-stream', not ${String(carrier)}`);
    }
    const stream = options.WebSocketImpl === undefined && carrier === 'websocketstream' ? webSocketStreamCarrier() : undefined;
    const fetched =
      carrier === 'fetch-stream'
        ? fetchStreamCarrier({ WebSocketImpl: options.WebSocketImpl, onCarrier: (c, why) => this.onDownstreamCarrier(c, why) })
        : undefined;
    this.relayImpl = fetched ?? options.WebSocketImpl ?? stream;
    this.carrierChoice = stream ? 'websocketstream' : fetched ? 'fetch-stream' : 'websocket';
    this.relayToken = options.relayToken || undefined;
    this.webSocketImpl = options.WebSocketImpl;
    // Every datagram comes from the relay transport, a view into a WebSocket message no one else
    // reads: the tunnel decrypts it in place instead of allocating a buffer per packet (#19).
    // Every datagram goes to a RelayTransport, whose send() never keeps the caller's bytes.
    const { tunnel, net } = createStack(config, { ownsDatagrams: true, sinkCopies: true });
    // The tunnel derived it already: a second X25519 here cost ~2-10 ms of every connect.
    this.publicKey = tunnel.publicKey;
    this.net = net;
    const onPacket = options.onPacket;
    this.loop = new EventLoop({
      tunnel,
      net: this.net,
      clock: now,
      output: (data, endpoint) => this.transportFor(endpoint).send(data),
      onTunnelEvent: (e) => this.onCoreEvent(e),
      // Unrounded: a packet capture wants sub-millisecond timestamps.
      onPacket: onPacket ? (dir, p, at) => onPacket(dir, p, performance.timeOrigin + at) : undefined,
      maxDatagramsPerStep: options.maxDatagramsPerStep,
    });
    const wake = (): void => this.loop.wake();
    this.dialer = new NetstackDialer(this.net, wake, now, { routable: (a) => this.routable(a) });
    const servers = config.interface.dnsServers;
    this.resolver = servers.length
      ? new DnsResolver({ dialer: this.dialer, servers, searchDomains: config.interface.dnsSearch, now })
      : undefined;
    this.http = new HttpClient({
      dialer: this.dialer,
      resolver: { lookup: (name, o) => this.lookup(name, o?.signal) },
      userAgent: 'wgweb',
      now,
      tls: this.secure,
    });
    for (const p of config.peers) if (p.endpoint) this.transportFor(p.endpoint);
    this.qualityHistory = new QualityHistory({ intervalMs: options.qualityIntervalMs, capacity: options.qualityCapacity });
    this.qualityHistory.start(now(), this.qualityTotals());
    this.qualityTimer = setInterval(() => this.sampleQuality(), this.qualityHistory.intervalMs);
    // Node: the sampler alone must not keep a CLI process alive.
    (this.qualityTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Parses the config, opens a relay session per peer endpoint and starts the handshake.
   * Resolves once the relay accepted us; {@link waitForHandshake} waits for the tunnel itself.
   * @throws {WgwebError} CONFIG_INVALID, RELAY_REFUSED or RELAY_UNREACHABLE.
   */
  static async start(options: SessionOptions): Promise<Session> {
    let config = options.config;
    if (!config) {
      if (typeof options.configText !== 'string') throw new TypeError('Session.start needs configText or config');
      // The same checks as `wgweb` on a file (a peer holding this interface's own public key
      // included), every problem in one message, so the UI lists them all at once (#18 item 6).
      config = parseWgQuickConfig(options.configText, { publicKeyFromPrivate }).config;
    }
    if (!config.peers.some((p) => p.endpoint)) {
      throw new WgwebError(
        ErrorCode.CONFIG_INVALID,
        'no [Peer] has an Endpoint: wgweb connects out through the relay, so at least one peer needs Endpoint = host:port',
      );
    }
    const session = new Session(options, config);
    try {
      await session.waitForRelay();
    } catch (e) {
      await session.close();
      throw e;
    }
    session.loop.connect();
    return session;
  }

  /** Resolves on the first completed handshake; rejects when the tunnel gives up or after `timeoutMs`. */
  waitForHandshake(timeoutMs = 90_000): Promise<void> {
    if (this.established) return Promise.resolve();
    // A refusal can arrive right after the relay opened (it closes with the reason), possibly
    // before anyone waits: report it rather than a timeout.
    if (this.lastFailure && this.relayState === 'closed') return Promise.reject(this.lastFailure);
    if (this.closed) return Promise.reject(new WgwebError(ErrorCode.NOT_CONNECTED, 'the session is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.handshakeWaiters = this.handshakeWaiters.filter((w) => w !== waiter);
        const error = this.noHandshakeError();
        // The log and the timeline show why, as it happens, not only the caller.
        this.emit({
          type: 'handshake-timeout',
          level: 'error',
          message: `Gave up waiting for the handshake after ${Math.round(timeoutMs / 1000)} s: ${error.message}`,
          detail: { ...error.detail, code: error.code, waitedMs: timeoutMs },
        });
        reject(error);
      }, timeoutMs);
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: WgwebError) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.handshakeWaiters.push(waiter);
    });
  }

  /** Subscribes to events; replays the history first so a late UI sees how we got here. */
  onEvent(listener: (e: SessionEvent) => void): () => void {
    for (const e of this.history) listener(e);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A `wg show`-like snapshot, with each peer's own state and, when it is not up, why. */
  status(): TunnelStatus {
    const stats = this.loop.tunnel.stats(now());
    let state: TunnelState;
    if (this.closed) state = 'down';
    else if (this.relayState === 'reconnecting') state = 'reconnecting';
    else if (this.relayState === 'connecting') state = 'connecting';
    else if (this.relayState === 'closed') state = 'down';
    else state = stats.peers.some((p) => p.session === 'established') ? 'up' : 'handshaking';
    return {
      state,
      relay: {
        url: this.currentRelayUrl(),
        state: this.relayState,
        carrier: this.relayCarrier,
        ...(this.carrierChoice === 'fetch-stream' && this.downstreamCarrier === 'websocket' && this.carrierFallback
          ? { carrierFallback: { code: this.carrierFallback.code, message: this.carrierFallback.message } }
          : {}),
        ...this.currentRelayRtt(),
        ...this.currentRelayHistory(),
      },
      interface: {
        publicKey: this.publicKey,
        addresses: this.config.interface.addresses.map(formatPrefix),
        mtu: stats.mtu,
        dns: [...this.config.interface.dnsServers.map(formatIp), ...this.config.interface.dnsSearch],
        cipher: transportCipherImplementation(),
      },
      peers: stats.peers.map((p, i) => {
        const configured = this.config.peers[i]?.endpoint;
        const relay = configured ? this.relayStates.get(formatEndpoint(configured)) : undefined;
        const problem = (relay?.trouble && this.describeRelayTrouble(relay.trouble, Date.now())) ?? this.peerFailures.get(p.publicKey);
        let peerState: PeerState;
        if (this.closed) peerState = 'down';
        else if (p.session === 'established') peerState = 'up';
        else if (relay?.state === 'closed' || this.peerFailures.has(p.publicKey)) peerState = 'down';
        else if (!relay) peerState = p.endpoint ? 'handshaking' : 'waiting';
        else peerState = relay.state === 'open' ? 'handshaking' : relay.state;
        return {
          publicKey: p.publicKey,
          endpoint: p.endpoint ? formatEndpoint(p.endpoint) : '(none)',
          allowedIPs: p.allowedIPs.map(formatPrefix),
          latestHandshakeAt: p.latestHandshakeAt === undefined ? undefined : epoch(p.latestHandshakeAt),
          rxBytes: p.rxBytes,
          txBytes: p.txBytes,
          persistentKeepalive: p.persistentKeepalive || undefined,
          keyAgeMs: p.currentKeyAgeMs,
          state: peerState,
          relayState: relay?.state,
          ...(peerState !== 'up' && problem ? { problem: { code: problem.code, message: problem.message } } : {}),
        };
      }),
    };
  }

  /** Counters of every layer, for diagnostics (`wgweb ... --verbose`, the UI's details pane). */
  diagnostics(): Record<string, unknown> {
    return {
      tunnel: this.loop.tunnel.stats(now()),
      net: this.net.stats(),
      relay: [...this.transports.values()].map((t) => t.stats()),
      dns: this.resolver?.stats(),
      http: this.http.stats(),
    };
  }

  /**
   * ICMP echo through the tunnel, like ping(8): one request per interval, each with its own
   * timeout; `size` data bytes (`-s`), Don't Fragment per `pmtuDiscovery` (`-M do|dont|want`).
   */
  ping(address: string, options: PingOptions = {}, onReply?: (r: PingReply) => void, signal?: AbortSignal): Promise<PingSummary> {
    return this.trackTool('ping', address, () => this.pingRun(address, options, onReply, signal));
  }

  private async pingRun(address: string, options: PingOptions, onReply?: (r: PingReply) => void, signal?: AbortSignal): Promise<PingSummary> {
    this.checkOpen();
    const count = options.count ?? PING_DEFAULTS.count;
    const intervalMs = options.intervalMs ?? PING_DEFAULTS.intervalMs;
    const timeoutMs = options.timeoutMs ?? PING_DEFAULTS.timeoutMs;
    const size = options.size ?? DEFAULT_ECHO_PAYLOAD_BYTES;
    const pmtuDiscovery = options.pmtuDiscovery ?? 'want';
    if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new RangeError(`ping count must be 1 to 100000, not ${count}`);
    if (!(intervalMs >= 10)) throw new RangeError(`ping interval must be at least 10 ms, not ${intervalMs}`);
    if (!Number.isInteger(size) || size < 0 || size > MAX_ECHO_PAYLOAD_V6) throw new RangeError(`ping size must be 0 to ${MAX_ECHO_PAYLOAD_V4} bytes (IPv6: ${MAX_ECHO_PAYLOAD_V6}), not ${size}`);
    if (!['do', 'dont', 'want'].includes(pmtuDiscovery)) throw new RangeError(`pmtuDiscovery must be do, dont or want, not ${String(pmtuDiscovery)}`);
    const target = (await this.lookup(address, signal))[0];
    if (!this.routable(target)) {
      throw new WgwebError(ErrorCode.NO_ROUTE, `cannot ping ${formatIp(target)}: ${NO_PEER_FOR_ADDRESS}`, { address: formatIp(target) });
    }
    if (target.length === 4 && size > MAX_ECHO_PAYLOAD_V4) throw new RangeError(`an IPv4 ping holds at most ${MAX_ECHO_PAYLOAD_V4} data bytes, not ${size}`);
    this.checkPeerFor(target, 'ping');
    const channel = new EchoChannel(this.net.icmpEcho(), () => this.loop.wake(), now);
    const payload = echoPayload(size);
    const rtts: number[] = [];
    const one = async (seq: number): Promise<void> => {
      let o;
      try {
        o = await channel.send(target, seq, { payload, pmtuDiscovery }, timeoutMs);
      } catch (e) {
        onReply?.({ seq, error: e instanceof Error ? e.message : String(e) });
        return;
      }
      if (o.kind !== 'reply') this.qualityHistory.notePing(undefined);
      if (o.kind === 'timeout') onReply?.({ seq, timeout: true });
      else if (o.kind === 'too-long') onReply?.({ seq, error: `local error: message too long, mtu=${o.mtu}`, mtu: o.mtu });
      else if (o.kind === 'reply') {
        const ev = o.event;
        const rttMs = ev.receivedAt - (ev.sentAt ?? ev.receivedAt);
        rtts.push(rttMs);
        this.qualityHistory.notePing(rttMs);
        onReply?.({ seq, from: formatIp(ev.from), bytes: ev.data.length + 8, ttl: ev.ttl, rttMs });
      } else {
        const ev = o.event;
        const mtu = ev.type === 'packet-too-big' && ev.mtu !== undefined ? `, mtu=${ev.mtu}` : '';
        onReply?.({ seq, error: `${ev.type} from ${formatIp(ev.reporter)} (ICMPv${ev.icmpVersion} code ${ev.code}${mtu})`, ...(ev.mtu !== undefined ? { mtu: ev.mtu } : {}) });
      }
    };
    const inflight: Promise<void>[] = [];
    try {
      for (let seq = 1; seq <= count; seq++) {
        if (signal?.aborted || this.closed) break;
        inflight.push(one(seq & 0xffff));
        if (seq < count) await sleep(intervalMs, signal);
      }
      await Promise.all(inflight);
    } finally {
      channel.close();
    }
    const transmitted = inflight.length;
    const received = rtts.length;
    const summary: PingSummary = {
      address: formatIp(target),
      transmitted,
      received,
      lossPercent: transmitted ? Math.round(((transmitted - received) / transmitted) * 1000) / 10 : 0,
    };
    if (received) {
      const min = Math.min(...rtts);
      const max = Math.max(...rtts);
      const avg = rtts.reduce((a, b) => a + b, 0) / received;
      const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / received);
      Object.assign(summary, { rttMinMs: min, rttAvgMs: avg, rttMaxMs: max, rttMdevMs: mdev });
    }
    return summary;
  }

  /**
   * The largest packet that crosses the tunnel to `host` without fragmentation (`wgweb mtu`):
   * Don't Fragment echo requests in a binary search over sizes (src/session/mtu-search.ts),
   * jumping to the MTU an ICMP "fragmentation needed" / Packet Too Big reports, by timeouts
   * where the path stays silent. `onStep` sees each size tried.
   * @throws {WgwebError} NO_ROUTE; TIMEOUT when even a small ping gets no reply; HOST_UNREACHABLE; ABORTED.
   */
  mtu(host: string, options: MtuOptions = {}, onStep?: (step: MtuSearchStep) => void, signal?: AbortSignal): Promise<MtuResult> {
    return this.trackTool('mtu', host, () => this.mtuRun(host, options, onStep, signal));
  }

  private async mtuRun(host: string, options: MtuOptions, onStep?: (step: MtuSearchStep) => void, signal?: AbortSignal): Promise<MtuResult> {
    this.checkOpen();
    const timeoutMs = options.timeoutMs ?? MTU_DEFAULTS.timeoutMs;
    if (!(timeoutMs >= 10 && timeoutMs <= 60_000)) throw new RangeError(`the probe timeout must be 10 ms to 60 s, not ${timeoutMs}`);
    const target = (await this.lookup(host, signal))[0];
    const address = formatIp(target);
    if (!this.routable(target)) throw new WgwebError(ErrorCode.NO_ROUTE, `cannot probe ${address}: ${NO_PEER_FOR_ADDRESS}`, { address });
    this.checkPeerFor(target, 'probe');
    const family = target.length === 4 ? 4 : 6;
    // IP header + 8 bytes of ICMP echo header; RFC 791 / RFC 8200 minimum MTUs bound the search.
    const headerBytes = family === 4 ? 28 : 48;
    const interfaceMtu = this.net.mtu;
    const low = (family === 4 ? IPV4_MIN_MTU : IPV6_MIN_MTU) - headerBytes;
    const high = Math.max(low, this.net.pathMtu(target) - headerBytes);
    const channel = new EchoChannel(this.net.icmpEcho(), () => this.loop.wake(), now);
    let seq = 0;
    const probe = async (size: number): Promise<MtuProbeOutcome> => {
      const o = await channel.send(target, ++seq & 0xffff, { payload: echoPayload(size), pmtuDiscovery: 'do' }, timeoutMs);
      if (o.kind === 'reply') return { kind: 'ok', rttMs: o.event.receivedAt - (o.event.sentAt ?? o.event.receivedAt), from: formatIp(o.event.from) };
      if (o.kind === 'too-long') return { kind: 'too-big', mtu: o.mtu };
      if (o.kind === 'timeout') return { kind: 'timeout' };
      const ev = o.event;
      if (ev.type === 'packet-too-big' && ev.mtu !== undefined) return { kind: 'too-big', mtu: ev.mtu, from: formatIp(ev.reporter) };
      return { kind: 'unreachable', message: `${ev.type} from ${formatIp(ev.reporter)} (ICMPv${ev.icmpVersion} code ${ev.code})` };
    };
    let r;
    try {
      r = await searchMtu({ probe, headerBytes, low, high, tries: options.tries, onStep, signal });
    } catch (e) {
      if (signal?.aborted) throw new WgwebError(ErrorCode.ABORTED, 'The MTU probe was stopped.');
      if (e instanceof MtuNoReplyError) {
        const last = e.lastOutcome;
        if (last.kind === 'unreachable') throw new WgwebError(ErrorCode.HOST_UNREACHABLE, `${address}: ${last.message}`, { address });
        throw new WgwebError(ErrorCode.TIMEOUT, `${address} did not answer even a ${low}-byte ping with Don't Fragment: check that it answers ping (wgweb ping ${address}) and that the tunnel is up`, { address });
      }
      throw e;
    } finally {
      channel.close();
    }
    const pathMtu = r.largestPacket;
    const advice = r.limitedByInterface
      ? `Packets of the full tunnel MTU (${interfaceMtu}) reach ${address}: MTU = ${interfaceMtu} is right for this path (it may carry more).`
      : `The path to ${address} carries at most ${pathMtu}-byte packets inside the tunnel, less than the tunnel MTU of ${interfaceMtu}: ` +
        `set MTU = ${pathMtu} in [Interface] if connections to it stall (ICMP filtered), or lower the MTU on the link that reported ${r.reportedMtu ?? pathMtu}.`;
    const result: MtuResult = { host, address, family, interfaceMtu, largestPayload: r.largestPayload, pathMtu, limitedByInterface: r.limitedByInterface, steps: r.steps, advice };
    if (r.reportedMtu !== undefined) result.reportedMtu = r.reportedMtu;
    return result;
  }

  /**
   * The routers between the tunnel and `host` (`wgweb traceroute`, like traceroute(8)): probes
   * with TTL / hop limit 1, 2, 3 … (src/session/traceroute.ts), UDP datagrams to ports 33434,
   * 33435, … by default (`method: 'icmp'`: echo requests, like `traceroute -I`). Each router where
   * the TTL runs out answers Time Exceeded; `host` answers with Port Unreachable (UDP) or an echo
   * reply (ICMP). The first hop is the peer (or whatever routes behind it); hops that do not
   * answer within `timeoutMs` are `*`. Each answering address is named by a PTR lookup through
   * the config's DNS (bounded by `timeoutMs`, at most 2 s; none without `DNS =` or with
   * `resolveNames: false`, like `-n`). `onHop` sees each hop as it completes.
   * @throws {WgwebError} NO_ROUTE; ABORTED.
   * @throws {RangeError} for maxHops outside 1..255, probesPerHop outside 1..10, timeoutMs outside
   * 10 ms..60 s, a port outside 1..65535, a method other than udp/icmp.
   */
  traceroute(host: string, options: TracerouteOptions = {}, onHop?: (hop: TraceHop) => void): Promise<TracerouteResult> {
    return this.trackTool('traceroute', host, () => this.tracerouteRun(host, options, onHop));
  }

  private async tracerouteRun(host: string, options: TracerouteOptions, onHop?: (hop: TraceHop) => void): Promise<TracerouteResult> {
    this.checkOpen();
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? TRACEROUTE_DEFAULTS.timeoutMs;
    const maxHops = options.maxHops ?? TRACEROUTE_DEFAULTS.maxHops;
    const method = options.method ?? 'udp';
    const basePort = options.port ?? TRACEROUTE_BASE_PORT;
    if (!(timeoutMs >= 10 && timeoutMs <= 60_000)) throw new RangeError(`the probe timeout must be 10 ms to 60 s, not ${timeoutMs}`);
    if (method !== 'udp' && method !== 'icmp') throw new RangeError(`the probe method is udp or icmp, not ${String(method)}`);
    if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65535) throw new RangeError(`the base port must be 1 to 65535, not ${basePort}`);
    const target = (await this.lookup(host, signal))[0];
    const address = formatIp(target);
    if (!this.routable(target)) throw new WgwebError(ErrorCode.NO_ROUTE, `cannot trace ${address}: ${NO_PEER_FOR_ADDRESS}`, { address });
    this.checkPeerFor(target, 'trace');
    const family = target.length === 4 ? 4 : 6;
    const wake = (): void => this.loop.wake();
    const probe = method === 'icmp' ? this.icmpTraceProbe(target, timeoutMs, wake) : this.udpTraceProbe(target, basePort, timeoutMs, wake);
    const resolveName = options.resolveNames !== false && this.resolver ? this.ptrLookup(this.resolver, Math.min(timeoutMs, TRACEROUTE_DEFAULTS.nameLookupMs), signal) : undefined;
    try {
      const r = await runTraceroute({ probe: probe.probe, maxHops, probesPerHop: options.probesPerHop, resolveName, onHop, signal });
      const result: TracerouteResult = { host, address, family, method, maxHops, hops: r.hops, reached: r.reached };
      if (method === 'udp') result.port = basePort;
      return result;
    } catch (e) {
      if (signal?.aborted) throw new WgwebError(ErrorCode.ABORTED, 'The traceroute was stopped.');
      throw e;
    } finally {
      probe.close();
    }
  }

  /** traceroute -I: echo requests with a rising TTL, matched by sequence number. */
  private icmpTraceProbe(target: IpAddress, timeoutMs: number, wake: () => void): { probe: (ttl: number) => Promise<TraceProbeOutcome>; close: () => void } {
    const channel = new EchoChannel(this.net.icmpEcho(), wake, now);
    let seq = 0;
    const probe = async (ttl: number): Promise<TraceProbeOutcome> => {
      const o = await channel.send(target, ++seq & 0xffff, { ttl }, timeoutMs);
      if (o.kind === 'timeout' || o.kind === 'too-long') return { kind: 'timeout' };
      if (o.kind === 'reply') return { kind: 'reply', from: formatIp(o.event.from), rttMs: elapsed(o.event.receivedAt, o.event.sentAt) };
      const ev = o.event;
      return traceError(ev.type, formatIp(ev.reporter), elapsed(ev.receivedAt, ev.sentAt), ev.code, ev.icmpVersion);
    };
    return { probe, close: () => channel.close() };
  }

  /**
   * traceroute -U (its default): UDP datagrams to basePort, basePort + 1, … (one port per probe),
   * matched by the destination port the ICMP error quotes.
   */
  private udpTraceProbe(target: IpAddress, basePort: number, timeoutMs: number, wake: () => void): { probe: (ttl: number) => Promise<TraceProbeOutcome>; close: () => void } {
    const channel = new UdpProbeChannel(this.net.udpBind(), wake, now);
    let n = 0;
    const probe = async (ttl: number): Promise<TraceProbeOutcome> => {
      const port = ((basePort - 1 + n++) % 65535) + 1;
      const o = await channel.send(target, port, ttl, timeoutMs);
      if (o.kind === 'timeout') return { kind: 'timeout' };
      // A datagram back from that port: something listens there, and the host was reached.
      if (o.kind === 'answer') return { kind: 'reply', from: formatIp(o.datagram.address), rttMs: elapsed(o.datagram.receivedAt, o.sentAt) };
      const e = o.error;
      return traceError(e.kind, formatIp(e.reporter), elapsed(e.receivedAt, o.sentAt), e.code, e.icmpVersion);
    };
    return { probe, close: () => channel.close() };
  }

  /** A bounded PTR lookup for traceroute's hop names; undefined when there is none in time. */
  private ptrLookup(resolver: DnsResolver, limitMs: number, signal: AbortSignal | undefined): (address: string) => Promise<string | undefined> {
    return async (address) => {
      const ip = tryParseIp(address);
      if (!ip) return undefined;
      const scope = new SignalScope(signal);
      scope.deadline(limitMs, () => new Error('PTR lookup timed out'));
      try {
        const r = await resolver.queryMessage(reverseName(ip), DnsType.PTR, { signal: scope.signal });
        const ptr = r.message.answers.find((a) => a.type === DnsType.PTR && a.data.kind === 'name');
        return ptr?.data.kind === 'name' ? ptr.data.name.replace(/\.$/, '') : undefined;
      } catch {
        return undefined; // no name, like traceroute when the lookup fails
      } finally {
        scope.dispose();
      }
    };
  }

  /** A DNS lookup through the tunnel to the config's DNS servers. */
  dns(name: string, type: DnsRecordType = 'A', signal?: AbortSignal): Promise<DnsResult> {
    return this.trackTool('dns', name, () => this.dnsRun(name, type, signal));
  }

  private async dnsRun(name: string, type: DnsRecordType, signal?: AbortSignal): Promise<DnsResult> {
    this.checkOpen();
    const resolver = this.requireResolver(name);
    const r = await resolver.resolve(name, type, { signal });
    return {
      name: r.name,
      type,
      addresses: r.addresses.map(formatIp),
      ttl: r.ttl,
      server: r.server ? formatIp(r.server) : r.source,
      elapsedMs: r.elapsedMs,
    };
  }

  /**
   * A DNS query as a diagnostic tool makes it: any of A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR
   * (an address is turned into its reverse name), CAA; every section of the reply; CNAMEs
   * followed (at most 8) when the server did not chase them; `server` (an address inside the
   * tunnel) instead of the config's `DNS =`.
   * @throws {WgwebError} DNS_TIMEOUT, DNS_FAILURE, NO_ROUTE, ABORTED; RangeError for a bad name.
   */
  dnsQuery(name: string, type: LookupType = 'A', options: { server?: string } = {}, signal?: AbortSignal): Promise<DnsQueryResult> {
    return this.trackTool('dns', name, () => this.dnsQueryRun(name, type, options, signal));
  }

  private async dnsQueryRun(name: string, type: LookupType, options: { server?: string }, signal?: AbortSignal): Promise<DnsQueryResult> {
    this.checkOpen();
    if (!(LOOKUP_TYPES as readonly string[]).includes(type)) throw new RangeError(`DNS type must be one of ${LOOKUP_TYPES.join(', ')}, not ${String(type)}`);
    let resolver: DnsResolver;
    let servers: IpAddress[] | undefined;
    if (options.server !== undefined) {
      const server = tryParseIp(options.server.replace(/^\[|\]$/g, ''));
      if (!server) throw new RangeError(`the DNS server must be an IP address, not "${options.server}"`);
      if (!this.routable(server)) throw new WgwebError(ErrorCode.NO_ROUTE, `cannot ask ${formatIp(server)}: ${NO_PEER_FOR_ADDRESS}`, { address: formatIp(server) });
      servers = [server];
      resolver = this.resolver ?? new DnsResolver({ dialer: this.dialer, servers, now });
    } else {
      resolver = this.requireResolver(name);
    }
    const literal = tryParseIp(name.replace(/^\[|\]$/g, ''));
    const question = type === 'PTR' && literal ? reverseName(literal) : name.replace(/\.$/, '');
    const qtype = lookupTypeCode(type);
    const line = (r: DnsRecord): DnsRecordLine => ({ name: r.name, type: typeName(r.type), ttl: r.ttl, data: formatRdata(r) });
    const answers: DnsRecordLine[] = [];
    const cnameChain: string[] = [];
    const queries: { name: string; elapsedMs: number }[] = [];
    let asked = question;
    for (let hop = 0; ; hop++) {
      const r = await resolver.queryMessage(asked, qtype, { servers, signal });
      queries.push({ name: asked, elapsedMs: r.elapsedMs });
      const m = r.message;
      answers.push(...m.answers.map(line));
      // Follow the chain inside this answer (RFC 1034 §3.6.2), then ask for the end of it if the
      // server did not include the records themselves.
      let owner = asked;
      for (let guard = 0; guard < 16; guard++) {
        const c = m.answers.find((a) => a.type === DnsType.CNAME && namesEqual(a.name, owner) && a.data.kind === 'name');
        if (!c || c.data.kind !== 'name') break;
        owner = c.data.name;
        cnameChain.push(owner);
      }
      const done = type === 'CNAME' || m.flags.rcode !== DnsRcode.NOERROR || owner === asked || m.answers.some((a) => a.type === qtype && namesEqual(a.name, owner));
      if (done || hop >= 8) {
        return {
          name,
          type,
          question,
          rcode: rcodeName(m.flags.rcode),
          answers,
          authorities: m.authorities.map(line),
          additionals: m.additionals.filter((a) => a.type !== DnsType.OPT).map(line),
          cnameChain,
          server: formatIp(r.server),
          transport: r.source,
          elapsedMs: queries.reduce((a, q) => a + q.elapsedMs, 0),
          queries,
        };
      }
      asked = owner;
    }
  }

  /** Tries a TCP connection and reports open / refused / timeout / unreachable with the connect time. */
  tcping(host: string, port: number, options: { timeoutMs?: number } = {}, signal?: AbortSignal): Promise<TcpingResult> {
    return this.trackTool('ports', `${host}:${port}`, () => this.tcpingRun(host, port, options, signal));
  }

  private async tcpingRun(host: string, port: number, options: { timeoutMs?: number }, signal?: AbortSignal): Promise<TcpingResult> {
    this.checkOpen();
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be 1 to 65535, not ${port}`);
    const address = (await this.lookup(host, signal))[0];
    this.checkPeerFor(address, 'reach');
    const started = now();
    const base = { host, address: formatIp(address), port };
    try {
      const conn = await this.dialer.connectTcp(address, port, { timeoutMs: options.timeoutMs ?? TCPING_DEFAULTS.timeoutMs, signal });
      const elapsedMs = now() - started;
      conn.close();
      return { ...base, result: 'open', elapsedMs };
    } catch (e) {
      const elapsedMs = now() - started;
      const code = (e as { code?: string }).code;
      if (code === ErrorCode.CONNECTION_REFUSED) return { ...base, result: 'refused', elapsedMs };
      if (code === ErrorCode.TIMEOUT) return { ...base, result: 'timeout', elapsedMs };
      if (code === ErrorCode.HOST_UNREACHABLE) return { ...base, result: 'unreachable', elapsedMs };
      throw e;
    }
  }

  /**
   * An iperf3 TCP test through the tunnel against a stock `iperf3 -s` (default port 5201):
   * `seconds` (`-t`), `reverse` (`-R`, the server sends) and `streams` (`-P`). `onProgress` sees
   * the phases and one interval per second; the result has iperf3's sender and receiver lines.
   * @throws {WgwebError} NO_ROUTE, CONNECTION_REFUSED, TIMEOUT, IPERF3_FAILED, ABORTED, DNS_*.
   */
  iperf3(host: string, options: Iperf3Options = {}, onProgress?: (p: Iperf3Progress) => void, signal?: AbortSignal): Promise<Iperf3Result> {
    return this.trackTool('iperf3', host, () => this.iperf3Run(host, options, onProgress, signal));
  }

  private async iperf3Run(host: string, options: Iperf3Options, onProgress?: (p: Iperf3Progress) => void, signal?: AbortSignal): Promise<Iperf3Result> {
    this.checkOpen();
    const address = (await this.lookup(host, signal))[0];
    if (!this.routable(address)) {
      throw new WgwebError(ErrorCode.NO_ROUTE, `cannot reach ${formatIp(address)}: ${NO_PEER_FOR_ADDRESS}`, { address: formatIp(address) });
    }
    const port = options.port ?? DEFAULT_IPERF3_PORT;
    const summary = await runIperf3({
      dialer: this.dialer,
      address,
      port,
      seconds: options.seconds ?? DEFAULT_IPERF3_SECONDS,
      reverse: options.reverse,
      streams: options.streams,
      signal,
      now,
      onProgress,
      // Our own TCP knows what the server has not acknowledged yet and what it retransmitted.
      inspect: (c) => {
        if (!(c instanceof TcpStreamConnection)) return undefined;
        return { unacknowledged: c.socket.sendQueued, retransmits: c.socket.stats().retransmittedSegments };
      },
    });
    return { host, address: formatIp(address), port, ...summary };
  }

  /**
   * Checks a list of ports (`parsePortList` in src/shared/port-list.ts): at most `concurrency`
   * connections at once (default 8), a new one every `intervalMs` at most (default 10 ms), so a
   * range does not flood the peer; `onResult` sees each port as it is decided; `signal` stops
   * starting new ones. open = SYN-ACK, closed = RST, filtered = silence until `timeoutMs`.
   */
  tcpingPorts(
    host: string,
    ports: readonly number[],
    options: { timeoutMs?: number; concurrency?: number; intervalMs?: number } = {},
    onResult?: (r: TcpingResult) => void,
    signal?: AbortSignal,
  ): Promise<PortCheckResult> {
    return this.trackTool('ports', host, () => this.tcpingPortsRun(host, ports, options, onResult, signal));
  }

  private async tcpingPortsRun(
    host: string,
    ports: readonly number[],
    options: { timeoutMs?: number; concurrency?: number; intervalMs?: number },
    onResult?: (r: TcpingResult) => void,
    signal?: AbortSignal,
  ): Promise<PortCheckResult> {
    this.checkOpen();
    if (!Array.isArray(ports) || ports.length === 0 || ports.length > 1024) throw new RangeError('give 1 to 1024 ports');
    for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`port must be 1 to 65535, not ${p}`);
    const concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) throw new RangeError(`concurrency must be 1 to 32, not ${concurrency}`);
    const intervalMs = options.intervalMs ?? 10;
    const address = formatIp((await this.lookup(host, signal))[0]);
    const results = new Array<TcpingResult | undefined>(ports.length);
    let next = 0;
    let lastStart = -Infinity;
    const worker = async (): Promise<void> => {
      for (;;) {
        if (signal?.aborted || this.closed) return;
        const i = next++;
        if (i >= ports.length) return;
        // Pacing: starts are at least intervalMs apart across all workers.
        const wait = lastStart + intervalMs - now();
        lastStart = Math.max(now(), lastStart + intervalMs);
        if (wait > 0) await sleep(wait, signal);
        if (signal?.aborted) return;
        let r: TcpingResult;
        try {
          r = { ...(await this.tcpingRun(address, ports[i], { timeoutMs: options.timeoutMs ?? TCPING_DEFAULTS.portListTimeoutMs }, signal)), host };
        } catch (e) {
          if (signal?.aborted) return;
          throw e;
        }
        results[i] = r;
        onResult?.(r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ports.length) }, worker));
    const done = results.filter((r): r is TcpingResult => r !== undefined);
    const by = (o: TcpingResult['result']): number[] => done.filter((r) => r.result === o).map((r) => r.port);
    return { host, address, results: done, open: by('open'), closed: by('refused'), filtered: by('timeout'), unreachable: by('unreachable'), skipped: ports.length - done.length };
  }

  /** HTTP/1.1 through the tunnel; a standard `Response` with a streaming body. */
  fetch(url: string, init: HttpRequestInit = {}): Promise<Response> {
    this.checkOpen();
    const at = Date.now();
    const started = now();
    const shown = reportUrl(url);
    const response = this.http.fetch(url, init);
    // The report keeps the head of the last exchange (the body is the caller's to read).
    response.then(
      (r) => {
        const result: HttpToolResult = { method: (init.method ?? 'GET').toUpperCase(), url: reportUrl(r.url || url), status: r.status, statusText: r.statusText, elapsedMs: now() - started };
        const contentType = r.headers.get('content-type');
        const server = r.headers.get('server');
        if (contentType) result.contentType = contentType;
        if (server) result.server = server;
        this.toolRuns.set('http', toolRecord('http', shown, at, result));
      },
      (e: unknown) => this.toolRuns.set('http', toolFailure('http', shown, at, e)),
    );
    return response;
  }

  /**
   * Tunnel vs direct (direct-speed.ts): downloads `bytes` (default 8 MiB) straight from the relay's
   * `/speed` endpoint, then the same amount from `url` through the tunnel (a host inside it, e.g.
   * `http://10.0.0.1/bytes/8388608`), one after the other; each timed from the first response to
   * the last byte. The tunnel figure as a percentage of the direct one says what the tunnel costs.
   * @throws {WgwebError} RELAY_REFUSED (the relay's speed test is off, needs a token, or the client
   *   is at its limit), USAGE when `url` answers an error or gives fewer than `bytes` bytes, the fetch's errors.
   */
  tunnelVsDirect(url: string, options: { bytes?: number; signal?: AbortSignal } = {}): Promise<TunnelVsDirectResult> {
    return this.trackTool('compare', reportUrl(url), () => this.tunnelVsDirectRun(url, options));
  }

  private async tunnelVsDirectRun(url: string, options: { bytes?: number; signal?: AbortSignal }): Promise<TunnelVsDirectResult> {
    this.checkOpen();
    const bytes = options.bytes ?? 8 * 1024 * 1024;
    if (!Number.isSafeInteger(bytes) || bytes < 1024 || bytes > 1024 ** 3) throw new RangeError(`the transfer size must be 1 KiB to 1 GiB, not ${bytes}`);
    const relay = this.currentRelayUrl();
    const direct = await measureDirect({ relayUrl: relay, bytes, WebSocketImpl: this.webSocketImpl, token: this.relayToken, now, signal: options.signal });
    const response = await this.fetch(url, { signal: options.signal });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new WgwebError(ErrorCode.USAGE, `${reportUrl(url)} answered ${response.status} ${response.statusText}: give a URL that serves at least ${bytes} bytes`, { status: response.status });
    }
    const started = now();
    let received = 0;
    let lastByteAt = started;
    const reader = response.body!.getReader();
    try {
      while (received < bytes) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        lastByteAt = now();
      }
    } finally {
      if (received >= bytes) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
    if (received < bytes) throw new WgwebError(ErrorCode.USAGE, `${reportUrl(url)} gave ${received} bytes, fewer than the ${bytes} the direct download moved: give a URL with at least that many (e.g. /bytes/${bytes} on the demo or test server)`, { received, bytes });
    const ms = Math.max(0.001, lastByteAt - started);
    const tunnel = { bytes: received, ms: Math.round(ms * 10) / 10, bitsPerSecond: Math.round((received * 8 * 1000) / ms) };
    const percent = Math.round((tunnel.bitsPerSecond / Math.max(1, direct.bitsPerSecond)) * 1000) / 10;
    return { bytes, relay: relay.split('?')[0], url: reportUrl(url), direct, tunnel, percent };
  }

  /** Connection quality over time: the samples kept so far (quality-history.ts), oldest first. */
  quality(): QualityHistorySnapshot {
    return this.qualityHistory.snapshot();
  }

  /** The last run of each diagnostic tool (ping, DNS, ports, MTU, traceroute, iperf3, HTTP), in that order. */
  toolResults(): ToolRecord[] {
    return TOOL_NAMES.flatMap((t) => this.toolRuns.get(t) ?? []);
  }

  /**
   * Keeps a tool result made outside the Session (the page's tunnel-vs-direct comparison) for
   * the report, as the last run of `tool`.
   */
  recordToolResult(record: ToolRecord): void {
    if (!(TOOL_NAMES as readonly string[]).includes(record.tool)) throw new RangeError(`unknown tool ${String(record.tool)}`);
    this.toolRuns.set(record.tool, record);
  }

  /**
   * The diagnostic report (diagnostic-report.ts): the config with PrivateKey and PresharedKey
   * replaced, status, relay counters, the event log, each tool's last result, the quality history
   * (closing the current interval first), `checks` (the CLI's per-peer check) and every layer's
   * counters. Plain data; `renderReportHtml` (report-html.ts) makes the HTML page of it.
   */
  report(runtime: ReportRuntime, checks: PeerCheck[] = []): DiagnosticReport {
    const last = this.qualityHistory.samples().at(-1);
    if (!this.closed && (!last || Date.now() - last.at >= 1000)) this.sampleQuality();
    const stats = this.loop.tunnel.stats(now());
    return buildDiagnosticReport({
      generatedAt: Date.now(),
      runtime,
      config: this.config,
      status: this.status(),
      relays: [...this.transports.values()].map((t) => {
        const r = t.stats();
        const rttMs = r.relays.find((c) => c.url === r.url)?.rttMs;
        return {
          url: r.url.split('?')[0],
          state: r.state,
          protocol: r.protocol,
          ...(rttMs !== undefined ? { rttMs } : {}),
          relayMoves: r.relayMoves,
          datagramsSent: r.datagramsSent,
          datagramsReceived: r.datagramsReceived,
          messagesSent: r.messagesSent,
          messagesReceived: r.messagesReceived,
          bytesSent: r.bytesSent,
          bytesReceived: r.bytesReceived,
          bufferedAmount: r.bufferedAmount,
          bufferedAmountPeak: r.bufferedAmountPeak,
          drops: { ...r.drops },
        };
      }),
      events: [...this.history],
      tools: this.toolResults(),
      quality: this.qualityHistory.snapshot(),
      checks,
      counters: {
        tunnelDrops: stats.drops,
        net: this.net.stats(),
        tcp: this.net.tcp?.stats(),
        // Steps, polls and timers of the event loop: divided by the bytes moved, what a MB costs (#19).
        eventLoop: this.loop.stats(),
        // Each live connection's window, RTT and send-limit times (how an upload went, #19).
        tcpConnections: (this.net.tcp?.connections ?? []).map((c) => ({
          remote: `${formatIp(c.remoteAddress)}:${c.remotePort}`,
          localPort: c.localPort,
          ...c.stats(),
        })),
        dns: this.resolver?.stats(),
        http: this.http.stats(),
      },
    });
  }

  /** Adds one quality sample now (the timer calls it every interval). */
  sampleQuality(): void {
    if (this.closed) return;
    this.qualityHistory.record(now(), Date.now(), this.qualityTotals());
  }

  /** The cumulative counters and current gauges a quality sample is made of. */
  private qualityTotals(): QualityTotals {
    const stats = this.loop.tunnel.stats(now());
    let txBytes = 0;
    let rxBytes = 0;
    let latest: number | undefined;
    for (const p of stats.peers) {
      txBytes += p.txBytes;
      rxBytes += p.rxBytes;
      if (p.latestHandshakeAt !== undefined) latest = Math.max(latest ?? -Infinity, p.latestHandshakeAt);
    }
    let relayDrops = 0;
    for (const t of this.transports.values()) for (const n of Object.values(t.stats().drops)) relayDrops += n;
    // Retransmits live on each socket and vanish with it: add what each live socket gained since
    // the last look (a socket that closed in between loses its last interval's share).
    const srtts: number[] = [];
    for (const socket of this.net.tcp?.connections ?? []) {
      const st = socket.stats();
      const before = this.seenRetransmits.get(socket) ?? 0;
      this.tcpRetransmitTotal += Math.max(0, st.retransmittedSegments - before);
      this.seenRetransmits.set(socket, st.retransmittedSegments);
      if (st.srttMs !== undefined && st.state === 'ESTABLISHED') srtts.push(st.srttMs);
    }
    const totals: QualityTotals = { txBytes, rxBytes, tcpRetransmits: this.tcpRetransmitTotal, relayDrops };
    const relayRtt = this.currentRelayRtt().rttMs;
    if (relayRtt !== undefined) totals.relayRttMs = relayRtt;
    if (srtts.length) totals.tcpRttMs = srtts.reduce((a, b) => a + b, 0) / srtts.length;
    if (latest !== undefined) totals.latestHandshakeAt = epoch(latest);
    return totals;
  }

  /** Runs a tool and keeps its outcome as the tool's last run (for the report). */
  private async trackTool<T>(tool: ToolName, target: string, run: () => Promise<T>): Promise<T> {
    const at = Date.now();
    try {
      const result = await run();
      this.toolRuns.set(tool, toolRecord(tool, target, at, result));
      return result;
    } catch (e) {
      this.toolRuns.set(tool, toolFailure(tool, target, at, e));
      throw e;
    }
  }

  /**
   * A WebSocket (RFC 6455) through the tunnel: `ws://` and `wss://` URLs (host names through the
   * config's DNS; wss with the same TLS client, trust and legacy settings as https).
   * Resolves once the server accepted the opening handshake. Closing the session drops it (1006).
   * @throws {WgwebError} USAGE, DNS_*, CONNECTION_REFUSED, TIMEOUT, ABORTED, WEBSOCKET_HANDSHAKE,
   *   TLS_* (wss: the certificate or the TLS handshake was refused).
   */
  async webSocket(url: string, options: SessionWebSocketOptions = {}): Promise<WebSocketConnection> {
    this.checkOpen();
    const ws = await WebSocketConnection.connect(url, {
      ...options,
      tls: this.secure,
      dialer: this.dialer,
      lookup: (host, signal) => this.lookup(host, signal),
      now,
    });
    if (this.closed) {
      ws.abort();
      throw new WgwebError(ErrorCode.NOT_CONNECTED, 'the session was closed');
    }
    this.webSockets.add(ws);
    void ws.closed.then(() => this.webSockets.delete(ws));
    return ws;
  }

  /**
   * An SSH connection (RFC 4251-4254) through the tunnel to `host` (a name resolves through the
   * config's DNS), authenticated with a password (also answering keyboard-interactive) or an
   * OpenSSH private key. The host key must be the expected `hostKey` or one on record in the known
   * hosts; an unknown key rejects with SSH_HOST_KEY_UNKNOWN and its fingerprint in `detail`.
   * @throws {WgwebError} SSH_HOST_KEY_UNKNOWN, SSH_HOST_KEY_CHANGED, SSH_AUTH_FAILED, SSH_KEY_INVALID,
   *   SSH_PROTOCOL, DNS_*, CONNECTION_REFUSED, TIMEOUT, ABORTED.
   */
  async ssh(host: string, options: SessionSshOptions): Promise<SshConnection> {
    this.checkOpen();
    if (typeof host !== 'string' || host === '') throw new TypeError('ssh(host, options): host is required');
    const m = await import('../protocols/ssh/ssh-connector.ts');
    const [address] = await this.lookup(host, options.signal);
    const known = await this.sshKnownHosts();
    const port = options.port ?? 22;
    const conn = await m.connectSsh(this.dialer, address!, known, {
      ...options,
      host,
      onEvent: (e) => {
        if (e.type === 'banner') this.emit({ type: 'ssh-banner', level: 'info', message: `${host}: ${e.text.slice(0, 500)}`, detail: { host, port } });
        if (e.type === 'kex-done') {
          const n = e.negotiated;
          this.emit({
            type: e.rekey ? 'ssh-rekey' : 'ssh-kex',
            level: 'info',
            message: `${host}:${port}: ${e.rekey ? 'new keys' : 'SSH keys agreed'}: ${n.kex}, host key ${n.hostKey}, ${n.cipherServerToClient}${n.macServerToClient ? ' + ' + n.macServerToClient : ''}${n.strictKex ? ', strict KEX' : ''}`,
            detail: { host, port, ...n },
          });
        }
        if (e.type === 'authenticated') this.emit({ type: 'ssh-authenticated', level: 'info', message: `${host}:${port}: logged in as ${options.username} (${e.method})`, detail: { host, port, method: e.method } });
      },
    });
    if (this.closed) {
      conn.close();
      throw new WgwebError(ErrorCode.NOT_CONNECTED, 'the session was closed');
    }
    this.sshConnections.add(conn);
    void conn.closed.then(() => this.sshConnections.delete(conn));
    return conn;
  }

  /** The known SSH host keys this session checks against (and records accepted keys in). */
  async sshKnownHosts(): Promise<KnownHosts> {
    if (!this.knownHosts) {
      const { KnownHosts } = await import('../protocols/ssh/known-hosts.ts');
      this.knownHosts ??= new KnownHosts();
    }
    return this.knownHosts;
  }

  /** Replaces the known hosts with a saved `KnownHosts.toJSON()` form (the profile's list). */
  async setSshKnownHosts(json: unknown): Promise<void> {
    const { KnownHosts } = await import('../protocols/ssh/known-hosts.ts');
    this.knownHosts = KnownHosts.fromJSON(json);
  }

  /**
   * Lets TLS connections to `host` use legacy TLS 1.2 (CBC suites, SHA-1 signatures, no extended
   * master secret, RSA key exchange) for old appliances. Weaker: show the user a warning when
   * enabling it. Hosts in the trust settings' `legacyTlsHosts` ({@link setTrust}) are allowed too.
   */
  allowLegacyTls(host: string, allow = true): void {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (allow) this.legacyTlsHosts.add(h);
    else this.legacyTlsHosts.delete(h);
    this.tlsConnector = undefined;
  }

  /**
   * Trusts a CA or a server certificate (PEM, one or more) for https. Resolves with what was added.
   * Later connections use it; resumption tickets made under the old trust are dropped.
   * @throws {WgwebError} TLS_CERT_INVALID when the text holds no usable certificate.
   */
  async addTrustedCertificate(pem: string): Promise<TrustedCertificateInfo[]> {
    if (typeof pem !== 'string') throw new TypeError('addTrustedCertificate(pem): pem must be the text of a PEM certificate');
    const store = await this.trustStore();
    const added = store.addPem(pem);
    this.tlsConnector = undefined;
    return added;
  }

  /** Replaces the trust settings with a saved `TrustStore.toJSON()` form (the UI's Certificates tab). */
  async setTrust(json: unknown): Promise<void> {
    const { TrustStore } = await import('../protocols/tls/trust-store.ts');
    this.trust = TrustStore.fromJSON(json);
    this.tlsConnector = undefined;
  }

  private async trustStore(): Promise<TrustStore> {
    if (!this.trust) {
      const { TrustStore } = await import('../protocols/tls/trust-store.ts');
      this.trust ??= new TrustStore();
    }
    return this.trust;
  }

  /** The TLS secrets of this session's connections in SSLKEYLOGFILE format (for Wireshark). */
  tlsKeyLogLines(): string[] {
    return [...this.tlsKeyLog];
  }

  /** TLS for https and wss: the lazily loaded connector, bound to this session's trust settings. */
  private readonly secure: TlsConnector = (tcp, p) => this.connectorForTls().then((connect) => connect(tcp, p));

  private connectorForTls(): Promise<TlsConnector> {
    this.tlsConnector ??= import('../protocols/tls/tls-connector.ts').then((m) =>
      m.createTlsConnector({
        trust: this.trust,
        // Hosts allowed here (allowLegacyTls) and in the trust settings (the UI's Certificates tab).
        legacyHosts: new Set([...this.legacyTlsHosts, ...(this.trust?.legacyTlsHosts() ?? [])]),
        onKeyLog: (line) => {
          this.tlsKeyLog.push(line);
          if (this.tlsKeyLog.length > 4096) this.tlsKeyLog.shift();
        },
        onEvent: (host, port, e) => this.emit(describeTlsEvent(host, port, e)),
      }),
    );
    return this.tlsConnector;
  }

  /** Resolves a host name or literal to addresses (literals bypass DNS). */
  async lookup(host: string, signal?: AbortSignal): Promise<IpAddress[]> {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const literal = tryParseIp(bare);
    if (literal) return [literal];
    return this.requireResolver(host).lookup(bare, { signal });
  }

  /** Closes the relay sessions and zeroes the keys. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.qualityTimer);
    this.http.close();
    for (const ws of this.webSockets) ws.abort();
    for (const c of this.sshConnections) c.close();
    for (const t of this.transports.values()) t.close();
    this.loop.close();
    this.emit({ type: 'session-closed', level: 'info', message: 'Disconnected.' });
    for (const w of this.handshakeWaiters.splice(0)) w.reject(new WgwebError(ErrorCode.NOT_CONNECTED, 'the session was closed'));
  }

  /** Cryptokey routing (WireGuard paper §2): does some peer's AllowedIPs hold `address`? */
  private routable(address: IpAddress): boolean {
    return this.config.peers.some((p) => p.allowedIPs.some((prefix) => prefixContains(prefix, address)));
  }

  /**
   * Fails fast, with the reason, when the peer that routes `address` (cryptokey routing) is one
   * whose relay session was refused or failed for good: waiting for replies that cannot come would
   * only end in a timeout that hides why (#11 item 13).
   */
  private checkPeerFor(address: IpAddress, verb: string): void {
    const peer = this.loop.tunnel.routes.lookup(address);
    if (!peer?.endpoint) return;
    const key = formatEndpoint(peer.endpoint);
    const relay = this.relayStates.get(key);
    if (relay?.state !== 'closed' || !relay.trouble) return;
    const e = this.describeRelayTrouble(relay.trouble, Date.now());
    throw new WgwebError(e.code, `cannot ${verb} ${formatIp(address)}: it is routed to ${this.peersAt(key)}, which is down. ${e.message}`, { ...e.detail, address: formatIp(address) }, { cause: e });
  }

  private requireResolver(name: string): DnsResolver {
    if (!this.resolver) {
      throw new WgwebError(
        ErrorCode.DNS_FAILURE,
        `cannot resolve ${name}: the config has no DNS = servers (add DNS = <server inside the tunnel> to [Interface], or use an IP address)`,
      );
    }
    return this.resolver;
  }

  /**
   * What carries the relay session now (status().relay.carrier): with 'fetch-stream', 'websocket'
   * until the relay's stream runs and again if it fails or the relay does not offer it.
   */
  get relayCarrier(): RelayCarrier {
    return this.carrierChoice === 'fetch-stream' ? this.downstreamCarrier : this.carrierChoice;
  }

  /** A connection's downstream moved (fetch-stream): remembered for status(), and an event. */
  private onDownstreamCarrier(carrier: 'fetch-stream' | 'websocket', why: CarrierFallback | undefined): void {
    const was = this.downstreamCarrier;
    const wasWhy = this.carrierFallback;
    this.downstreamCarrier = carrier;
    this.carrierFallback = carrier === 'websocket' ? why : undefined;
    if (carrier === 'fetch-stream' && was !== 'fetch-stream') {
      this.emit({ type: 'relay-carrier', level: 'info', message: 'The downstream runs on a fetch() stream from the relay (the upstream on the WebSocket).', detail: { carrier } });
    } else if (carrier === 'websocket' && why && why.code !== wasWhy?.code) {
      this.emit({
        type: 'relay-carrier',
        level: why.code === 'not-offered' || why.code === 'remembered' || why.code === 'ended' ? 'info' : 'warn',
        message: `The relay session runs on the WebSocket alone: ${why.message}.`,
        detail: { carrier, fallback: why.code },
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new WgwebError(ErrorCode.NOT_CONNECTED, 'not connected: connect first');
  }

  private transportFor(endpoint: Endpoint): RelayTransport {
    const key = formatEndpoint(endpoint);
    let t = this.transports.get(key);
    if (t) return t;
    const relay: RelayEndpointState = { state: 'connecting', trouble: undefined, history: new RelayHistory() };
    this.relayStates.set(key, relay);
    t = new RelayTransport({
      relayUrl: this.relayUrls,
      endpoint,
      WebSocketImpl: this.relayImpl,
      // Replies are gathered per task with either platform carrier (see RelayTransportOptions).
      coalesceReplies:
        this.carrierChoice === 'websocketstream' || (this.carrierChoice === 'fetch-stream' && this.webSocketImpl === undefined) ? true : undefined,
      // fetch-stream sends upstream on the platform's WebSocket, which copies in send(): batches
      // can share one buffer (RelayTransportOptions.sendCopies); WebSocketStream's writer may not.
      sendCopies: this.carrierChoice === 'fetch-stream' && this.webSocketImpl === undefined ? true : undefined,
      batching: this.relayBatching,
      token: this.relayToken,
      onDatagram: (data) => {
        relay.trouble = undefined;
        this.loop.datagramIn(data, endpoint);
      },
      onState: (state, detail) => this.onRelayState(key, state, detail),
    });
    this.transports.set(key, t);
    return t;
  }

  /** The WebSocket-open time of the relay carrying the (first) peer's traffic, when measured. */
  private currentRelayRtt(): { rttMs?: number } {
    const t = this.transports.values().next().value as RelayTransport | undefined;
    if (!t) return {};
    const stats = t.stats();
    const rttMs = stats.relays.find((r) => r.url === stats.url)?.rttMs;
    return rttMs === undefined ? {} : { rttMs };
  }

  /**
   * The relay list with each relay's measured open time (several relays only) and the history of
   * the (first) peer's relay session: which relay carried it since when, and why it moved.
   */
  private currentRelayHistory(): Pick<TunnelStatus['relay'], 'history' | 'relays'> {
    const first = this.transports.entries().next().value as [string, RelayTransport] | undefined;
    if (!first) return {};
    const history = this.relayStates.get(first[0])?.history.entries() ?? [];
    const relays =
      this.relayUrls.length > 1
        ? first[1].stats().relays.map((r) => ({ url: r.url.split('?')[0], ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}), failures: r.failures }))
        : undefined;
    return { history, ...(relays ? { relays } : {}) };
  }

  /** The page URL of the relay carrying the (first) peer's traffic now. */
  currentRelayUrl(): string {
    const t = this.transports.values().next().value as RelayTransport | undefined;
    if (!t || this.relayUrls.length === 1) return this.relayUrl;
    const u = new URL(t.url);
    u.search = '';
    return u.toString();
  }

  private relayOpenWaiters: { resolve: () => void; reject: (e: WgwebError) => void }[] = [];

  /** Resolves once some peer's relay session is open; rejects once every one has failed. */
  private waitForRelay(): Promise<void> {
    if (this.relayState === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => this.relayOpenWaiters.push({ resolve, reject }));
  }

  /** The session's relay state: the best of its endpoints' (open > reconnecting > connecting > closed). */
  private aggregateRelayState(): RelayTransportState {
    const states = [...this.relayStates.values()].map((r) => r.state);
    for (const s of ['open', 'reconnecting', 'connecting'] as const) if (states.includes(s)) return s;
    return 'closed';
  }

  private onRelayState(endpoint: string, state: RelayTransportState, detail: RelayStateDetail): void {
    const relay = this.relayStates.get(endpoint);
    if (!relay) return;
    const previous = relay.state;
    relay.state = state;
    this.relayState = this.aggregateRelayState();
    if (state === 'reconnecting') relay.history.noteDrop(detail.closeCode, detail.onDemand === true);
    else if (state === 'open') {
      const stats = this.transports.get(endpoint)?.stats();
      relay.history.noteOpen(detail.url, Date.now(), stats?.relays.find((r) => r.url === detail.url)?.rttMs, this.relayUrls.length);
    }
    if (detail.error && !detail.onDemand && state !== 'open') {
      if (relay.trouble) relay.trouble.error = detail.error;
      else relay.trouble = { error: detail.error, since: Date.now() };
    }
    const peers = this.peersAt(endpoint);
    const several = this.config.peers.length > 1;
    const whose = several ? `${peers} ` : '';
    if (state === 'open') {
      for (const w of this.relayOpenWaiters.splice(0)) w.resolve();
      if (previous === 'reconnecting') {
        const via = this.relayUrls.length > 1 ? ` through ${new URL(detail.url).host}` : '';
        this.emit({
          type: 'relay-reconnected',
          level: 'info',
          message: `Relay reconnected${via} ${several ? `for ${peers} ` : ''}(attempt ${detail.attempt}); the WireGuard session carries on.`,
          detail: { endpoint, url: detail.url.split('?')[0] },
        });
        // Roaming (WireGuard paper §2.1): the peer learns our new relay source port from our next
        // authenticated packet, so send one now. Waiting for the next data or keepalive left the
        // peer sending into the old relay socket until the next rekey (~13 s stalls).
        for (const p of this.loop.tunnel.stats().peers) {
          if (p.endpoint && formatEndpoint(p.endpoint) === endpoint) this.loop.keepalive(p.publicKey);
        }
      } else {
        const via = this.relayUrls.length > 1 ? ` through ${new URL(detail.url).host} (fastest of ${this.relayUrls.length} relays)` : '';
        this.emit({ type: 'relay-open', level: 'info', message: `Relay session open to ${endpoint}${via}.`, detail: { endpoint, url: detail.url } });
      }
    } else if (state === 'reconnecting') {
      const why = detail.error ? `: ${detail.error.message}` : detail.closeReason ? `: ${detail.closeReason}` : '';
      this.emit({
        type: 'relay-reconnecting',
        level: 'warn',
        message: detail.onDemand
          ? `Relay closed the idle session${several ? ` of ${peers}` : ''}${why}; it reconnects on the next packet.`
          : `Relay connection ${several ? `of ${peers} ` : ''}lost${why}; reconnecting${detail.retryInMs !== undefined ? ` in ${Math.round(detail.retryInMs)} ms` : ''}.`,
        detail: { endpoint, closeCode: detail.closeCode },
      });
    } else if (state === 'closed' && detail.error && !this.closed) {
      const allFailed = this.relayState === 'closed';
      // With several peers, one refused endpoint fails only the peers behind it (#11 item 13):
      // say whose it is, and keep the others (and anyone waiting for them) going.
      this.emit({
        type: 'relay-failed',
        level: 'error',
        message: several ? `${whose}is down: ${detail.error.message}` : detail.error.message,
        detail: { endpoint, code: detail.error.code, closeCode: detail.closeCode, closeReason: detail.closeReason, peers: this.peerKeysAt(endpoint) },
      });
      if (allFailed) {
        this.lastFailure = detail.error;
        for (const w of this.relayOpenWaiters.splice(0)) w.reject(detail.error);
        for (const w of this.handshakeWaiters.splice(0)) w.reject(detail.error);
      }
    }
  }

  /** The public keys of the config's peers whose endpoint is `endpoint`. */
  private peerKeysAt(endpoint: string): string[] {
    return this.loop.tunnel
      .stats()
      .peers.filter((p, i) => {
        const e = this.config.peers[i]?.endpoint ?? p.endpoint;
        return e !== undefined && formatEndpoint(e) === endpoint;
      })
      .map((p) => p.publicKey);
  }

  /** "peer ABCD…= (endpoint)" for messages; keys shortened like the UI shows them. */
  private peersAt(endpoint: string): string {
    const keys = this.peerKeysAt(endpoint);
    const names = keys.map((k) => `${k.slice(0, 8)}…`).join(', ');
    return `${keys.length === 1 ? 'peer' : 'peers'} ${names || '?'} (${endpoint})`;
  }

  private onCoreEvent(e: TunnelEvent): void {
    if (e.type === 'session-established' && !this.established) {
      this.established = true;
      for (const w of this.handshakeWaiters.splice(0)) w.resolve();
    }
    if (e.type === 'handshake-failed') {
      const err = this.noHandshakeError(e.peer);
      this.peerFailures.set(e.peer, err);
      // One peer giving up fails the wait only when no peer is left that could still answer.
      const stats = this.loop.tunnel.stats(now());
      const hope = stats.peers.some((p) => p.session === 'established' || (p.endpoint && !this.peerFailures.has(p.publicKey) && this.relayStates.get(formatEndpoint(p.endpoint))?.state !== 'closed'));
      if (!hope) {
        this.lastFailure = err;
        for (const w of this.handshakeWaiters.splice(0)) w.reject(err);
      }
    }
    if (e.type === 'session-established') this.peerFailures.delete(e.peer);
    if (e.type === 'handshake-initiation-sent' && (e.attempt === 1 || !this.handshakeStartedAt.has(e.peer))) this.handshakeStartedAt.set(e.peer, e.at);
    const text = describeTunnelEvent(e);
    // After the retries ran out: the likely cause, not just "no response" (issue #15 item 6).
    if (e.type === 'handshake-failed') text.message = this.peerFailures.get(e.peer)?.message ?? text.message;
    this.emit({ ...text, at: epoch(e.at) });
  }

  /**
   * When the relay has been failing (refusing, full, unreachable) since some time: a
   * {@link WgwebError} that names that cause, the relay URL and how long it has lasted; else
   * undefined. RELAY_FULL for 4003/4008, RELAY_REFUSED for other refusals, else RELAY_UNREACHABLE.
   */
  relayProblem(at = Date.now()): WgwebError | undefined {
    // Failing means failing for every peer: while one endpoint's relay session carries traffic
    // the session works (a refused second peer is that peer's problem, shown in its status).
    // It has been failing since the last endpoint began to fail.
    let t: { error: WgwebError; since: number } | undefined;
    for (const r of this.relayStates.values()) {
      if (!r.trouble) return undefined;
      if (!t || r.trouble.since > t.since) t = r.trouble;
    }
    return t && this.describeRelayTrouble(t, at);
  }

  /** {@link relayProblem}'s error for one endpoint's trouble. */
  private describeRelayTrouble(t: { error: WgwebError; since: number }, at: number): WgwebError {
    const closeCode = t.error.detail.closeCode;
    const url = String(t.error.detail.url ?? this.relayUrl).split('?')[0];
    const seconds = Math.max(0, Math.round((at - t.since) / 1000));
    const since = `since ${new Date(t.since).toISOString().slice(11, 19)} UTC (${seconds} s)`;
    let code: ErrorCode;
    let what: string;
    if (closeCode === 4003 || closeCode === 4008) {
      code = ErrorCode.RELAY_FULL;
      what = `The relay at ${url} is full and has refused this session ${since}`;
    } else if (t.error.code === ErrorCode.RELAY_REFUSED) {
      code = ErrorCode.RELAY_REFUSED;
      what = `The relay at ${url} has refused this session ${since}`;
    } else {
      code = ErrorCode.RELAY_UNREACHABLE;
      what = `The relay at ${url} has been unreachable ${since}`;
    }
    return new WgwebError(code, `${what}: ${t.error.message}`, { ...t.error.detail, url, since: t.since, seconds }, { cause: t.error });
  }

  private noHandshakeError(peer?: PeerId): WgwebError {
    // No handshake because the relay never carried it: say so rather than blame the peer.
    const stats = this.loop.tunnel.stats(now());
    const p = stats.peers.find((x) => x.publicKey === peer) ?? stats.peers.find((x) => x.endpoint);
    const trouble = p?.endpoint ? this.relayStates.get(formatEndpoint(p.endpoint))?.trouble : undefined;
    if (trouble) return this.describeRelayTrouble(trouble, Date.now());
    const relay = this.relayProblem();
    if (relay) return relay;
    const where = p?.endpoint ? formatEndpoint(p.endpoint) : 'the peer';
    if (!p?.endpoint) {
      return new WgwebError(ErrorCode.HANDSHAKE_TIMEOUT, `no handshake response from ${where}: check the peer's PublicKey, Endpoint and firewall`, { endpoint: where, attempts: p?.handshakeAttempts });
    }
    const started = this.handshakeStartedAt.get(p.publicKey);
    const { cause, message } = diagnoseHandshake({
      endpoint: where,
      attempts: p.handshakeAttempts,
      elapsedMs: started === undefined ? 0 : now() - started,
      ourPublicKey: this.publicKey,
      peerPublicKey: p.publicKey,
      datagramsFromEndpoint: this.transports.get(where)?.stats().datagramsReceived ?? 0,
      rejectedResponses: stats.drops['handshake-decrypt'],
      cookieReply: p.hasCookie,
      hasPresharedKey: p.hasPresharedKey,
    });
    return new WgwebError(ErrorCode.HANDSHAKE_TIMEOUT, `no handshake response from ${where}: ${message}`, { endpoint: where, attempts: p.handshakeAttempts, cause });
  }

  private emit(e: Omit<SessionEvent, 'at'> & { at?: number }): void {
    const event: SessionEvent = { at: e.at ?? Date.now(), type: e.type, level: e.level, message: e.message, detail: e.detail };
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not break the event loop.
      }
    }
  }
}

/** One peer endpoint's relay session, as the Session tracks it. */
interface RelayEndpointState {
  state: RelayTransportState;
  /**
   * Why this relay session has not carried traffic, and since when (ms epoch): set by the first
   * failed or refused attempt, cleared when a datagram arrives. A full relay (4003) accepts the
   * WebSocket and then closes it, so 'open' alone does not mean the relay works.
   */
  trouble: { error: WgwebError; since: number } | undefined;
  /** Which relay carried it and why that changed (#17 item 4), bounded. */
  history: RelayHistory;
}

/** A URL for the report: no user:password, no query (either may hold a credential). */
function reportUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const query = u.search ? '?…' : '';
    u.search = '';
    u.hash = '';
    return u.toString() + query;
  } catch {
    return url.split('?')[0];
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
