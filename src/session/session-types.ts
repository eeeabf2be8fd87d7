/**
 * What a Session reports, as plain structured-clone-safe data: its status snapshot, its events in
 * plain words, and the results of ping, DNS and TCP-ping. Both runtimes share these: the worker
 * passes them to the page unchanged (src/browser/worker/tunnel-api.ts re-exports them), the CLI
 * prints them.
 */

import type { RelayHistoryEntry } from './relay-history.ts';
export type { RelayHistoryEntry, RelayMoveReason } from './relay-history.ts';

/** The connection as a whole, as `Session.status().state` reports it. */
export type TunnelState = 'connecting' | 'handshaking' | 'up' | 'reconnecting' | 'down';

/**
 * One peer on its own (#11 item 13): 'up' with a session; 'handshaking' while its relay session
 * is open and no handshake completed yet; 'connecting'/'reconnecting' with its relay session;
 * 'down' when the relay refused its endpoint or its handshake attempts ran out (see `problem`);
 * 'waiting' without an endpoint (it has to contact us first).
 */
export type PeerState = 'up' | 'handshaking' | 'connecting' | 'reconnecting' | 'down' | 'waiting';

/** One peer, as `wg show` would print it. Keys are base64; times are epoch ms. */
export interface PeerStatus {
  publicKey: string;
  endpoint: string;
  allowedIPs: string[];
  /** Epoch ms of the latest completed handshake; absent before the first one. */
  latestHandshakeAt?: number;
  rxBytes: number;
  txBytes: number;
  /** Seconds; absent or 0 when off. */
  persistentKeepalive?: number;
  /** Age of the current session keys in ms; absent without keys. */
  keyAgeMs?: number;
  state: PeerState;
  /** The state of this peer's own relay session (one per endpoint); absent without an endpoint. */
  relayState?: string;
  /** Why the peer is not up, when known: the relay's refusal, or no handshake response. */
  problem?: { code: string; message: string };
}

/** The status snapshot the UI polls once a second. */
export interface TunnelStatus {
  state: TunnelState;
  /**
   * `rttMs`: how long the WebSocket to the relay in use took to open, ms (a TCP handshake plus the
   * HTTP upgrade: two round trips to the relay, more over TLS); absent before it first opened.
   * `relays`: with several relays, each with its measured open time and failures so far.
   * `history`: which relay carried the session since when and why it moved (oldest first, bounded).
   * `carrier`: what carries the relay session: the WebSocket, WebSocketStream where the
   * browser has it, or 'fetch-stream' while the downstream runs on a fetch() body
   * (SessionOptions.relayCarrier).
   * `carrierFallback`: with the fetch stream wanted (the browsers' default) and the downstream on the
   * WebSocket, why: `not-offered` (an older relay), `fetch-failed` (the page's CSP, CORS, the network),
   * `http-error`, `buffered` (a proxy held the body back), `malformed`, `ended`, `remembered` (an
   * earlier connection to this relay failed before its first byte, so it was not asked again).
   */
  relay: {
    url: string;
    state: string;
    rttMs?: number;
    relays?: { url: string; rttMs?: number; failures: number }[];
    history?: RelayHistoryEntry[];
    carrier?: 'websocket' | 'websocketstream' | 'fetch-stream';
    carrierFallback?: { code: string; message: string };
  };
  /**
   * `mtu`: the tunnel MTU in use (the config's `MTU =` or the default); `dns`: the config's `DNS =` servers and search domains.
   * `cipher`: which ChaCha20-Poly1305 seals and opens transport data here: the WebAssembly SIMD one,
   * or the TypeScript one where WebAssembly cannot run (no SIMD, or a CSP without 'wasm-unsafe-eval').
   */
  interface: { publicKey: string; addresses: string[]; mtu?: number; dns?: string[]; cipher?: 'wasm' | 'js' };
  peers: PeerStatus[];
}

/** One line for the event log, in plain words. */
export interface SessionEvent {
  /** Epoch ms. */
  at: number;
  /** Stable machine-readable kind, e.g. `handshake-sent`, `relay-reconnect`. */
  type: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  detail?: Record<string, unknown>;
}

/** One ping reply as it arrives: an answer, a timeout, or an error for that sequence number. */
export type PingReply =
  | { seq: number; from: string; bytes: number; ttl?: number; rttMs: number }
  | { seq: number; timeout: true }
  | { seq: number; error: string; mtu?: number };

export interface PingSummary {
  address: string;
  transmitted: number;
  received: number;
  lossPercent: number;
  rttMinMs?: number;
  rttAvgMs?: number;
  rttMaxMs?: number;
  rttMdevMs?: number;
}

export interface PingOptions {
  count?: number;
  intervalMs?: number;
  timeoutMs?: number;
  /** `-s`: echo data bytes (default 56; the packet adds 8 of ICMP and 20 / 40 of IP header). */
  size?: number;
  /**
   * `-M`: `do` sets Don't Fragment and never fragments here (a ping over the path MTU is refused
   * with its `mtu`; a router on a smaller link answers "fragmentation needed"); `dont` sends
   * IPv4 without DF; `want` (default) sets DF when the packet fits and fragments it otherwise.
   */
  pmtuDiscovery?: 'do' | 'dont' | 'want';
}

/** Options of Session.mtu (`wgweb mtu`). */
export interface MtuOptions {
  /** Wait for each probe's reply (default 1000 ms). */
  timeoutMs?: number;
  /** Probes per size before silence counts as too big (default 2). */
  tries?: number;
}

export type { MtuSearchStep } from './mtu-search.ts';
import type { MtuSearchStep } from './mtu-search.ts';

/** What Session.mtu found: the largest packet that crosses the tunnel to `address` unfragmented. */
export interface MtuResult {
  host: string;
  address: string;
  family: 4 | 6;
  /** The tunnel interface's MTU (the config's `MTU =`, or 1420). */
  interfaceMtu: number;
  /** Largest echo payload that got a reply with Don't Fragment (ping -M do -s SIZE). */
  largestPayload: number;
  /** Largest inner IP packet that passed: the path MTU through the tunnel. */
  pathMtu: number;
  /** The smallest MTU an ICMP "fragmentation needed" / Packet Too Big reported, if any did. */
  reportedMtu?: number;
  /** True when a packet of the full interface MTU passed (the path may carry more). */
  limitedByInterface: boolean;
  steps: MtuSearchStep[];
  /** What the figure means for `MTU =`, in one sentence. */
  advice: string;
}

/** Options of Session.traceroute (`wgweb traceroute`). */
export interface TracerouteOptions {
  /** Highest TTL / hop limit tried (traceroute -m; default 30). */
  maxHops?: number;
  /** Probes per hop (traceroute -q; default 3). */
  probesPerHop?: number;
  /** Wait for each probe's answer (traceroute -w; default 3000 ms). */
  timeoutMs?: number;
  /** UDP datagrams to rising ports (traceroute -U, the default) or ICMP echo requests (traceroute -I). */
  method?: TracerouteMethod;
  /** First UDP destination port, one more per probe (traceroute -p; default 33434). */
  port?: number;
  /** Name each answering address by a PTR lookup through the config's DNS (default true; false is traceroute -n). */
  resolveNames?: boolean;
  signal?: AbortSignal;
}

/** How traceroute probes: UDP datagrams (traceroute's default) or ICMP echo requests (-I). */
export type TracerouteMethod = 'udp' | 'icmp';

export type { TraceHop, TraceProbe } from './traceroute.ts';
import type { TraceHop } from './traceroute.ts';

/** What Session.traceroute found: one entry per TTL tried. */
export interface TracerouteResult {
  host: string;
  address: string;
  family: 4 | 6;
  method: TracerouteMethod;
  /** The first UDP destination port (UDP probes only). */
  port?: number;
  maxHops: number;
  hops: TraceHop[];
  /** True when the target answered (an echo reply, or Port Unreachable to a UDP probe). */
  reached: boolean;
}

import type { DnsRecordType } from '../protocols/dns/dns-resolver.ts';
export type { DnsRecordType };

export interface DnsResult {
  name: string;
  type: string;
  addresses: string[];
  ttl: number;
  server: string;
  elapsedMs: number;
}

/** One resource record in plain words: owner, type name, TTL and the data as a zone file shows it. */
export interface DnsRecordLine {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

/** A full DNS query's outcome (Session.dnsQuery): every section, the CNAME chain followed, timings. */
export interface DnsQueryResult {
  /** What was asked: the name (an address for PTR) and the type. */
  name: string;
  type: string;
  /** The name put on the wire (the reverse name for a PTR of an address). */
  question: string;
  /** NOERROR, NXDOMAIN... of the last reply. */
  rcode: string;
  answers: DnsRecordLine[];
  authorities: DnsRecordLine[];
  /** Without the EDNS OPT pseudo-record. */
  additionals: DnsRecordLine[];
  /** Names the answer went through (CNAME targets), in order, when there were CNAMEs. */
  cnameChain: string[];
  server: string;
  transport: 'udp' | 'tcp';
  /** Total time of all queries. */
  elapsedMs: number;
  /** One entry per query sent (more than one when a CNAME target had to be asked separately). */
  queries: { name: string; elapsedMs: number }[];
}

export type { LookupType } from '../protocols/dns/dns-presentation.ts';

/** A port list checked (Session.tcpingPorts): each port's outcome, and the ports by outcome. */
export interface PortCheckResult {
  host: string;
  address: string;
  /** In the order the ports were given. */
  results: TcpingResult[];
  open: number[];
  /** Answered with RST: nothing listens. */
  closed: number[];
  /** No answer within the timeout: a firewall drops the SYN (or the host is down). */
  filtered: number[];
  unreachable: number[];
  /** Ports not tried because the check was stopped. */
  skipped: number;
}

export type TcpingOutcome = 'open' | 'refused' | 'timeout' | 'unreachable';

export interface TcpingResult {
  host: string;
  address: string;
  port: number;
  result: TcpingOutcome;
  elapsedMs: number;
}

import type { Iperf3Summary } from '../protocols/iperf3/iperf3-client.ts';
export type { Iperf3Summary, Iperf3Interval, Iperf3Total } from '../protocols/iperf3/iperf3-client.ts';
export type { Iperf3Progress } from '../protocols/iperf3/iperf3-connection.ts';

/** Options of {@link Session.iperf3}, named after iperf3's own flags. */
export interface Iperf3Options {
  /** `-t`: seconds of data (default 10). */
  seconds?: number;
  /** `-R`: the server sends and we receive. */
  reverse?: boolean;
  /** `-P`: parallel streams (default 1, at most 16). */
  streams?: number;
  /** `-p`: the server's port (default 5201). */
  port?: number;
}

/** An iperf3 test's outcome: where it ran and iperf3's summary. */
export interface Iperf3Result extends Iperf3Summary {
  host: string;
  address: string;
  port: number;
}
