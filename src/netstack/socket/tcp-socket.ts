/**
 * One TCP connection: the RFC 9293 state machine with the sender and receiver machinery around it.
 *
 *   TcpSocketTable.receive ──▶ receive(segment)
 *        SYN-SENT: handshake (RFC 9293 §3.10.7.3)      others: §3.10.7.4 in order:
 *        PAWS (RFC 7323 §5) → sequence check/trim → RST (RFC 5961 §3) → SYN (RFC 5961 §4)
 *        → ACK: SND.UNA, RTT (RFC 6298/7323), SACK scoreboard (RFC 2018), dupACKs, recovery
 *          (RFC 6675 with SACK, RFC 6582 NewReno without), congestion window (tcp-congestion.ts)
 *        → text into the receive buffer (out-of-order assembler) → FIN → state changes
 *   TcpSocketTable.poll ──▶ dispatch(now)
 *        timers (RTO with backoff, persist/zero-window probes, delayed ACK, keepalive, TIME-WAIT)
 *        → SYN / retransmissions / new data within min(cwnd, peer window) with SWS avoidance and
 *          optional Nagle → pure ACKs and window updates
 *   application ──▶ send / recv / close / shutdownWrite / abort; events through `onEvent`.
 *
 * Sans-IO: time comes in as `now` (ms); segments go out through the `out` array of dispatch and
 * the host's control queue; the next wake time is {@link TcpSocket.pollAt}.
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { finishChecksum, sumBytes } from '../wire/checksum.ts';
import { emitTcpHeader, TCP_MAX_WINDOW_SCALE, TcpFlag, tcpHeaderLength, type TcpRepr } from '../wire/tcp.ts';
import { IPV4_HEADER_LENGTH } from '../wire/ipv4.ts';
import { IPV6_HEADER_LENGTH } from '../wire/ipv6.ts';
import { createCongestionControl, type CongestionAlgorithm, type CongestionControl } from './tcp-congestion.ts';
import {
  CONNECT_TIMEOUT_MS,
  DEFAULT_MSS_IPV4,
  DEFAULT_MSS_IPV6,
  DELAYED_ACK_MS,
  DUP_ACK_THRESHOLD,
  FIN_WAIT_2_TIMEOUT_MS,
  INITIAL_RTO_MS,
  INITIAL_WINDOW_SEGMENTS,
  IPV4_TCP_HEADERS,
  IPV6_TCP_HEADERS,
  KEEPALIVE_IDLE_MS,
  KEEPALIVE_INTERVAL_MS,
  KEEPALIVE_PROBES,
  MAX_PERSIST_PROBES,
  MAX_RETRANSMISSIONS,
  MAX_RTO_MS,
  MAX_UNSCALED_WINDOW,
  MIN_MSS_IPV4,
  MIN_MSS_IPV6,
  MIN_RTO_MS,
  RECEIVE_BUFFER_INITIAL,
  RECEIVE_BUFFER_MAX,
  SEND_BUFFER_DEFAULT,
  TIME_WAIT_MS,
} from './tcp-constants.ts';
import { ReceiveBuffer } from './tcp-receive-buffer.ts';
import { RttEstimator } from './tcp-rtt.ts';
import { SackScoreboard, type Hole } from './tcp-sack-scoreboard.ts';
import { SendBuffer } from './tcp-send-buffer.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './tcp-seq.ts';
import { DEFAULT_MTU } from '../../shared/wg-quick-config.ts';
import { ByteSlab } from '../../shared/byte-slab.ts';
import { PACKET_HEADROOM, PACKET_TAILROOM } from '../../shared/packet-room.ts';
import { TcpTimers } from './tcp-timers.ts';
import { ReceiveAutoTuner } from './tcp-receive-tuning.ts';
import { AckPolicy } from './tcp-ack-policy.ts';
import { LossRecovery } from './tcp-loss-recovery.ts';
import { HyStart, HYSTART_CSS_GROWTH_DIVISOR, type HyStartPhase } from './tcp-hystart.ts';

/** RFC 9293 §3.3.2 connection states. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/** Why a connection failed. */
export type TcpErrorCode = 'refused' | 'reset' | 'timeout' | 'unreachable';

/** A connection failure, with a sentence for the user. */
export interface TcpError {
  readonly code: TcpErrorCode;
  readonly message: string;
}

/**
 * Notifications for the socket's owner (the worker's stream wrapper):
 * - `connected`: the handshake completed (active opens; accepted sockets are already connected);
 * - `readable`: in-order data or the peer's FIN can be read (`recv` / `readEnded`);
 * - `writable`: send-buffer space opened after a `send` accepted less than offered;
 * - `error`: the connection failed (`error` says why); `closed` follows;
 * - `closed`: the connection is over (TIME-WAIT, CLOSED or failed); no further events.
 */
export type TcpSocketEvent = 'connected' | 'readable' | 'writable' | 'error' | 'closed';

/** Keepalive settings (RFC 1122 §4.2.3.6); off unless given. */
export interface TcpKeepAliveOptions {
  /** Idle time before the first probe (default 60 s). */
  idleMs?: number;
  /** Time between unanswered probes (default 10 s). */
  intervalMs?: number;
  /** Unanswered probes before the connection times out (default 6). */
  probes?: number;
}

/** Per-socket tunables; every field has a default. */
export interface TcpSocketOptions {
  /** Disable Nagle's algorithm (RFC 9293 §3.7.4). Default true: an interactive tool wants small writes out now. */
  noDelay?: boolean;
  /** Send buffer bound in bytes (default 1 MiB). */
  sendBufferSize?: number;
  /** Initial receive window in bytes (default 64 KiB). */
  receiveBufferSize?: number;
  /** Receive window auto-tuning ceiling in bytes (default 4 MiB); also sets the window-scale shift. */
  maxReceiveBufferSize?: number;
  /** Congestion control (default 'cubic'). */
  congestionControl?: CongestionAlgorithm;
  /**
   * Leave the first slow start when the RTT grows (HyStart++, RFC 9406), before the window
   * overflows a queue; default true.
   */
  hystart?: boolean;
  /** Offer SACK (RFC 2018); default true. */
  sack?: boolean;
  /** Offer timestamps (RFC 7323); default true. */
  timestamps?: boolean;
  /** Offer window scaling (RFC 7323); default true. */
  windowScaling?: boolean;
  minRtoMs?: number;
  maxRtoMs?: number;
  initialRtoMs?: number;
  /** Total time allowed for the handshake (default 25 s). */
  connectTimeoutMs?: number;
  /** Consecutive retransmission timeouts before giving up (default 10). */
  maxRetransmissions?: number;
  timeWaitMs?: number;
  finWait2TimeoutMs?: number;
  delayedAckMs?: number;
  /** `true` for defaults, or settings; absent/false: no keepalive. */
  keepAlive?: boolean | TcpKeepAliveOptions;
  /** Overrides the MSS derived from the MTU (the largest payload per segment without options). */
  mss?: number;
}

/** Options with defaults applied. */
export interface ResolvedTcpOptions {
  readonly noDelay: boolean;
  readonly sendBufferSize: number;
  readonly receiveBufferSize: number;
  readonly maxReceiveBufferSize: number;
  readonly congestionControl: CongestionAlgorithm;
  readonly hystart: boolean;
  readonly sack: boolean;
  readonly timestamps: boolean;
  readonly windowScaling: boolean;
  readonly minRtoMs: number;
  readonly maxRtoMs: number;
  readonly initialRtoMs: number;
  readonly connectTimeoutMs: number;
  readonly maxRetransmissions: number;
  readonly timeWaitMs: number;
  readonly finWait2TimeoutMs: number;
  readonly delayedAckMs: number;
  readonly keepAlive: { idleMs: number; intervalMs: number; probes: number } | undefined;
  readonly mss: number | undefined;
}

function positive(name: string, v: number | undefined, dflt: number, integer = true): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, not ${String(v)}`);
  }
  return v;
}

/** Applies defaults and validates (throws RangeError/TypeError on bad values). */
export function resolveTcpOptions(o: TcpSocketOptions = {}, base?: ResolvedTcpOptions): ResolvedTcpOptions {
  const b = base;
  const receiveBufferSize = positive('receiveBufferSize', o.receiveBufferSize, b?.receiveBufferSize ?? RECEIVE_BUFFER_INITIAL);
  const maxReceiveBufferSize = Math.max(receiveBufferSize, positive('maxReceiveBufferSize', o.maxReceiveBufferSize, b?.maxReceiveBufferSize ?? RECEIVE_BUFFER_MAX));
  if (maxReceiveBufferSize > 0x3fff_c000) throw new RangeError('maxReceiveBufferSize must be at most 1 GiB (RFC 7323 window limit)');
  const cc = o.congestionControl ?? b?.congestionControl ?? 'cubic';
  if (cc !== 'cubic' && cc !== 'newreno') throw new RangeError(`congestionControl must be 'cubic' or 'newreno', not ${String(cc)}`);
  let keepAlive = b?.keepAlive;
  if (o.keepAlive !== undefined) {
    if (o.keepAlive === false) keepAlive = undefined;
    else {
      const k = o.keepAlive === true ? {} : o.keepAlive;
      keepAlive = {
        idleMs: positive('keepAlive.idleMs', k.idleMs, KEEPALIVE_IDLE_MS),
        intervalMs: positive('keepAlive.intervalMs', k.intervalMs, KEEPALIVE_INTERVAL_MS),
        probes: positive('keepAlive.probes', k.probes, KEEPALIVE_PROBES),
      };
    }
  }
  const minRtoMs = positive('minRtoMs', o.minRtoMs, b?.minRtoMs ?? MIN_RTO_MS, false);
  const maxRtoMs = positive('maxRtoMs', o.maxRtoMs, b?.maxRtoMs ?? MAX_RTO_MS, false);
  if (maxRtoMs < minRtoMs) throw new RangeError('maxRtoMs must not be below minRtoMs');
  const mss = o.mss ?? b?.mss;
  if (mss !== undefined && (!Number.isInteger(mss) || mss < 64 || mss > 65495)) throw new RangeError(`mss must be an integer from 64 to 65495, not ${mss}`);
  return {
    noDelay: o.noDelay ?? b?.noDelay ?? true,
    sendBufferSize: positive('sendBufferSize', o.sendBufferSize, b?.sendBufferSize ?? SEND_BUFFER_DEFAULT),
    receiveBufferSize,
    maxReceiveBufferSize,
    congestionControl: cc,
    hystart: o.hystart ?? b?.hystart ?? true,
    sack: o.sack ?? b?.sack ?? true,
    timestamps: o.timestamps ?? b?.timestamps ?? true,
    windowScaling: o.windowScaling ?? b?.windowScaling ?? true,
    minRtoMs,
    maxRtoMs,
    initialRtoMs: positive('initialRtoMs', o.initialRtoMs, b?.initialRtoMs ?? INITIAL_RTO_MS, false),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, b?.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, false),
    maxRetransmissions: positive('maxRetransmissions', o.maxRetransmissions, b?.maxRetransmissions ?? MAX_RETRANSMISSIONS),
    timeWaitMs: positive('timeWaitMs', o.timeWaitMs, b?.timeWaitMs ?? TIME_WAIT_MS, false),
    finWait2TimeoutMs: positive('finWait2TimeoutMs', o.finWait2TimeoutMs, b?.finWait2TimeoutMs ?? FIN_WAIT_2_TIMEOUT_MS, false),
    delayedAckMs: positive('delayedAckMs', o.delayedAckMs, b?.delayedAckMs ?? DELAYED_ACK_MS, false),
    keepAlive,
    mss,
  };
}

/** One segment ready for the IP layer. */
export interface TcpOutput {
  src: IpAddress;
  dst: IpAddress;
  /** TCP header and payload, checksum filled in. */
  segment: Uint8Array;
  /**
   * Bytes right before `segment` in its buffer that belong to it (default 0): the IP header and
   * the tunnel's room (shared/packet-room.ts) are written there, so the segment is never copied
   * on its way out (#19).
   */
  headroom?: number;
}

/** What a socket needs from the table that owns it. */
export interface TcpSocketHost {
  /** Queues a segment built outside dispatch (RSTs). */
  sendControl(out: TcpOutput): void;
  /** Memory for one outgoing segment of `n` bytes (zeroed), or undefined: a slab shared by all tables. */
  takeSegment?(n: number): Uint8Array | undefined;
  /** The socket has events to deliver or output to send; the host flushes both. */
  socketNeedsAttention(socket: TcpSocket): void;
  /** A passively opened socket completed the handshake. */
  socketEstablished(socket: TcpSocket): void;
  /** The socket reached CLOSED (also after TIME-WAIT) and can be forgotten. */
  socketReleased(socket: TcpSocket): void;
}

/** Counters for the UI and tests. */
export interface TcpSocketStats {
  state: TcpState;
  srttMs: number | undefined;
  /** The latest RTT sample and the smallest so far, ms (0 / Infinity before the first). */
  latestRttMs: number;
  minRttMs: number;
  rtoMs: number;
  cwnd: number;
  ssthresh: number;
  /** Effective MSS: payload bytes in a full segment. */
  mss: number;
  sendWindow: number;
  /** Bytes sent and not yet acknowledged (SND.MAX − SND.UNA). */
  inFlight: number;
  /** Bytes written by the application and not yet acknowledged (in flight included). */
  sendQueued: number;
  receiveWindow: number;
  receiveBufferCapacity: number;
  bytesSent: number;
  bytesReceived: number;
  segmentsSent: number;
  segmentsReceived: number;
  retransmittedSegments: number;
  fastRecoveries: number;
  timeouts: number;
  /** Timeouts found spurious by their first ACK (RFC 3522 Eifel detection) and undone (RFC 4015). */
  spuriousTimeouts: number;
  sack: boolean;
  timestamps: boolean;
  windowScale: { send: number; receive: number };
  /** Largest congestion window so far, bytes. */
  maxCwnd: number;
  /**
   * HyStart++ (RFC 9406) in the first slow start: its phase, how often a delay increase moved it
   * into Conservative Slow Start, and whether it ended slow start (1) before a loss did.
   */
  hystart: { phase: HyStartPhase; cssEntries: number; exits: number } | undefined;
  /** Largest window the peer offered, bytes (its receive window). */
  maxSendWindow: number;
  /**
   * Milliseconds (the caller's clock, between polls) the sender spent limited by: `cwnd` unsent
   * data held back by the congestion window (or recovery, Nagle, SWS avoidance); `rwnd` unsent data
   * the peer's window did not admit; `app` data in flight and nothing more written (the
   * application, or the loop that feeds it, was behind). Idle time (nothing in flight, nothing
   * written) counts nowhere. Like Linux's tcp_info busy/rwnd/sndbuf-limited times (#19).
   */
  sendLimitedMs: { cwnd: number; rwnd: number; app: number };
}

/** Why the sender stopped at the end of a poll (TcpSocketStats.sendLimitedMs). */
const SendLimit = { None: 0, Cwnd: 1, Rwnd: 2, App: 3 } as const;
type SendLimit = (typeof SendLimit)[keyof typeof SendLimit];

const EVENT_BITS: Record<TcpSocketEvent, number> = { connected: 1, readable: 2, writable: 4, error: 8, closed: 16 };
const EVENT_ORDER: TcpSocketEvent[] = ['connected', 'readable', 'writable', 'error', 'closed'];
/** Bytes of the timestamps option with its padding (NOP NOP TS). */
const TS_OPTION_BYTES = 12;

/**
 * A TCP connection. Created by {@link TcpSocketTable.connect} or handed out by
 * {@link TcpListener.accept}; never constructed by applications.
 */
/** A segment as the arrival steps trim it (RFC 9293 §3.10.7.4): flags, first sequence number, text. */
interface InboundSegment {
  flags: number;
  seq: number;
  payload: Uint8Array;
}

export class TcpSocket {
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  /** Set by the owner: called after each input/poll step, never from inside one. */
  onEvent?: (event: TcpSocketEvent, socket: TcpSocket) => void;
  /** Why the connection failed; undefined while it is healthy or closed gracefully. */
  error: TcpError | undefined = undefined;

  private _state: TcpState = 'CLOSED';
  private readonly host: TcpSocketHost;
  private readonly opts: ResolvedTcpOptions;
  /** True for sockets created by a listener (SYN-RECEIVED from LISTEN). */
  readonly passive: boolean;
  private readonly isV6: boolean;
  private readonly pseudoSum: number;

  // --- send sequence space (RFC 9293 §3.3.1)
  private iss: number;
  private sndUna: number;
  private sndNxt: number;
  /** Highest sequence number sent + 1 (BSD snd_max); SND.NXT moves back below it to retransmit. */
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxSndWnd = 0;
  private sndWscale = 0;
  private rcvWscale = 0;
  /** Both SYNs carried window scale (RFC 7323 §2.2). */
  private wsAgreed = false;
  /** Sequence number of the first byte in the send buffer. */
  private sndBufSeq: number;
  private readonly sendBuf: SendBuffer;
  private synAcked = false;
  /** The application asked for FIN (close/shutdownWrite); it follows the buffered data. */
  private finQueued = false;
  /** The FIN has been sent at least once (its sequence number is below SND.MAX). */
  private finSent = false;
  private wantWritable = false;
  /** Nagle off (per socket; starts from the options). */
  private noDelay: boolean;

  // --- receive sequence space
  private irs = 0;
  private rcvNxt = 0;
  /** Right edge of the window we last advertised (RCV.NXT + RCV.WND at that time). */
  private rcvAdvEdge = 0;
  private lastAckSent = 0;
  private readonly rcvBuf: ReceiveBuffer;
  private finReceived = false;
  /** Sequence number of a FIN that arrived ahead of missing data. */
  private oooFinSeq: number | undefined = undefined;
  /** The application closed: incoming data is acknowledged and discarded. */
  private readClosed = false;
  private writeShut = false;
  /** close() (not just shutdownWrite) was called: the FIN-WAIT-2 timeout applies. */
  private userClosed = false;

  // --- negotiated options
  private sackOk = false;
  private tsOk = false;
  private tsRecent = 0;
  private tsOffset: number;
  /** MSS we advertise (from the MTU). */
  private readonly advMss: number;
  /** Peer's MSS limit combined with ours and the path MTU (no options subtracted). */
  private sndMssRaw: number;
  /** Largest payload seen from the peer, for "ACK every second full segment". */
  private rcvMss: number;

  // --- reliability and congestion
  private readonly rtt: RttEstimator;
  private readonly cc: CongestionControl;
  private readonly scoreboard = new SackScoreboard();
  /** Phase, duplicate ACKs, recovery point, RTO backoff count (tcp-loss-recovery.ts). */
  private readonly recovery = new LossRecovery();
  /** HyStart++ for the first slow start (undefined when turned off). */
  private readonly hystart: HyStart | undefined;
  private rttTiming = false;
  private rttSeq = 0;
  private rttTime = 0;
  private persistProbes = 0;
  private persistBackoff = 0;
  private forceSend = false;
  private cwndLimited = false;
  /**
   * Eifel detection (RFC 3522) of the current timeout episode: the TSval of the first
   * retransmission and the window and threshold before the timeout (RFC 4015's pipe_prev), kept
   * until the first ACK of new data says whether the original transmission had arrived.
   */
  private eifel: { retransmitTs: number; cwnd: number; ssthresh: number } | undefined = undefined;
  private softError: TcpErrorCode | undefined = undefined;

  // --- timers (tcp-timers.ts)
  private readonly timers = new TcpTimers();

  // --- ACK policy: delayed/quick ACKs and the challenge-ACK limit (tcp-ack-policy.ts)
  private readonly ack: AckPolicy;
  private sendProbe = false;
  private pendingRst = false;

  // --- receive auto-tuning (tcp-receive-tuning.ts)
  private readonly autoTune: ReceiveAutoTuner;

  // --- bookkeeping
  private dirty = false;
  private pendingEvents = 0;
  private lastNow = 0;
  private lastReceiveAt = 0;
  private readonly counters = {
    bytesSent: 0,
    bytesReceived: 0,
    segmentsSent: 0,
    segmentsReceived: 0,
    retransmittedSegments: 0,
    fastRecoveries: 0,
    timeouts: 0,
    spuriousTimeouts: 0,
  };
  private maxCwnd = 0;
  /** What held the sender back at the end of the last poll, since `sendLimitSince`. */
  private sendLimit: SendLimit = SendLimit.None;
  private sendLimitSince = 0;
  private readonly sendLimitedMs = { cwnd: 0, rwnd: 0, app: 0 };
  /** Listener that created this socket, until accepted (owned by the table). */
  listenerRef: unknown = undefined;

  /** @internal Created by TcpSocketTable. */
  constructor(
    host: TcpSocketHost,
    options: ResolvedTcpOptions,
    mtu: number,
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    isn: number,
    tsOffset: number,
    passive: boolean,
  ) {
    this.host = host;
    this.opts = options;
    this.localAddress = local;
    this.localPort = localPort;
    this.remoteAddress = remote;
    this.remotePort = remotePort;
    this.passive = passive;
    this.noDelay = options.noDelay;
    this.isV6 = local.length === 16;
    // Pseudo-header sum without the length (RFC 9293 §3.1); the length is added per segment.
    this.pseudoSum = sumBytes(local) + sumBytes(remote) + 6;
    this.iss = isn;
    this.sndUna = isn;
    this.sndNxt = isn;
    this.sndMax = isn;
    this.sndBufSeq = seqAdd(isn, 1);
    this.tsOffset = tsOffset;
    const headers = this.isV6 ? IPV6_TCP_HEADERS : IPV4_TCP_HEADERS;
    const mtuMss = Math.max(64, mtu - headers);
    this.advMss = Math.min(options.mss ?? mtuMss, mtuMss);
    this.sndMssRaw = this.isV6 ? DEFAULT_MSS_IPV6 : DEFAULT_MSS_IPV4;
    this.rcvMss = Math.min(this.advMss, DEFAULT_MSS_IPV4);
    this.sendBuf = new SendBuffer(options.sendBufferSize);
    this.rcvBuf = new ReceiveBuffer(options.receiveBufferSize);
    this.autoTune = new ReceiveAutoTuner(options.maxReceiveBufferSize);
    this.ack = new AckPolicy(options.delayedAckMs);
    this.rtt = new RttEstimator({ minRtoMs: options.minRtoMs, maxRtoMs: options.maxRtoMs, initialRtoMs: options.initialRtoMs });
    this.cc = createCongestionControl(options.congestionControl, this.advMss);
    this.hystart = options.hystart ? new HyStart() : undefined;
    if (options.windowScaling) {
      let shift = 0;
      while (shift < TCP_MAX_WINDOW_SCALE && options.maxReceiveBufferSize >> shift > MAX_UNSCALED_WINDOW) shift++;
      this.rcvWscale = shift;
    }
  }

  // =============================================================================================
  // Application API
  // =============================================================================================

  /** RFC 9293 state name. */
  get state(): TcpState {
    return this._state;
  }

  /** True once the connection is synchronized and not yet closed for writing. */
  get canSend(): boolean {
    const ok = this.writable() && this.sendBuf.free > 0;
    if (!ok && this.writable()) this.wantWritable = true;
    return ok;
  }

  /** Bytes `send` would accept now (0 when the connection cannot take data). */
  get sendCapacity(): number {
    if (!this.writable()) return 0;
    const free = this.sendBuf.free;
    if (free === 0) this.wantWritable = true;
    return free;
  }

  /** Bytes written and not yet acknowledged by the peer. */
  get sendQueued(): number {
    return this.sendBuf.length;
  }

  /** In-order bytes ready for `recv`. */
  get recvAvailable(): number {
    return this.rcvBuf.readable;
  }

  /** True when the peer sent FIN and every byte before it has been read (end of stream). */
  get readEnded(): boolean {
    return (this.finReceived && this.rcvBuf.readable === 0) || (this._state === 'CLOSED' && this.rcvBuf.readable === 0);
  }

  /**
   * Queues as much of `data` as the send buffer takes and returns that count; 0 once the socket
   * is closed for writing or failed. Data is sent at the next poll. When fewer bytes than offered
   * are taken, a `writable` event follows once space opens.
   */
  send(data: Uint8Array): number {
    if (!(data instanceof Uint8Array)) throw new TypeError('send() takes a Uint8Array');
    if (!this.writable()) return 0;
    const n = this.sendBuf.write(data);
    if (n < data.length) this.wantWritable = true;
    if (n > 0) this.markDirty();
    return n;
  }

  /** Takes up to `max` in-order bytes; undefined when none are available (see `readEnded`). */
  recv(max?: number): Uint8Array | undefined {
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new RangeError(`recv(max) needs a positive integer, not ${max}`);
    const out = this.rcvBuf.read(max);
    if (out) this.afterRead();
    return out;
  }

  /** Copies in-order bytes into `dest`; returns the count (0 when none are available). */
  recvInto(dest: Uint8Array): number {
    if (!(dest instanceof Uint8Array)) throw new TypeError('recvInto() takes a Uint8Array');
    const n = this.rcvBuf.readInto(dest);
    if (n > 0) this.afterRead();
    return n;
  }

  /** Half-close: FIN after the queued data (RFC 9293 §3.10.4); reading continues. */
  shutdownWrite(): void {
    if (this.writeShut) return;
    this.writeShut = true;
    switch (this._state) {
      case 'SYN-SENT':
      case 'SYN-RECEIVED':
        // RFC 9293 §3.10.4: queue the FIN until the connection is established.
        this.finQueued = true;
        break;
      case 'ESTABLISHED':
        this.finQueued = true;
        this.setState('FIN-WAIT-1');
        break;
      case 'CLOSE-WAIT':
        this.finQueued = true;
        this.setState('LAST-ACK');
        break;
      default:
        return;
    }
    this.markDirty();
  }

  /**
   * Graceful close: FIN after the queued data; incoming data is acknowledged and discarded
   * (unread bytes are dropped). A socket still in SYN-SENT is simply dropped.
   */
  close(): void {
    this.userClosed = true;
    this.readClosed = true;
    if (this.rcvBuf.readable > 0) this.rcvBuf.discard(this.rcvBuf.readable);
    if (this._state === 'SYN-SENT') {
      this.terminate(undefined);
      return;
    }
    this.shutdownWrite();
    if (this._state === 'FIN-WAIT-2' && this.timers.linger === Infinity) this.timers.linger = this.lastNow + this.opts.finWait2TimeoutMs;
  }

  /** Aborts: RST to the peer when synchronized (RFC 9293 §3.10.5), queued data discarded. */
  abort(): void {
    switch (this._state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        this.pendingRst = true;
        this.emitRstNow();
        break;
      default:
        break;
    }
    this.terminate(undefined);
  }

  /** Enables or disables Nagle's algorithm (true = disabled). */
  setNoDelay(noDelay: boolean): void {
    this.noDelay = noDelay;
    if (noDelay) this.markDirty();
  }

  /** Counters and current parameters. */
  stats(): TcpSocketStats {
    return {
      state: this._state,
      srttMs: this.rtt.srtt,
      latestRttMs: this.rtt.latest,
      minRttMs: this.rtt.minRtt,
      rtoMs: this.rtt.rto,
      cwnd: this.cc.cwnd,
      ssthresh: this.cc.ssthresh,
      mss: this.effMss(),
      sendWindow: this.sndWnd,
      inFlight: seqDiff(this.sndMax, this.sndUna),
      sendQueued: this.sendBuf.length,
      receiveWindow: Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt)),
      receiveBufferCapacity: this.rcvBuf.capacity,
      ...this.counters,
      sack: this.sackOk,
      timestamps: this.tsOk,
      windowScale: { send: this.sndWscale, receive: this.rcvWscale },
      maxCwnd: Math.max(this.maxCwnd, this.cc.cwnd),
      hystart: this.hystart ? { phase: this.hystart.phase, cssEntries: this.hystart.cssEntries, exits: this.hystart.exits } : undefined,
      maxSendWindow: this.maxSndWnd,
      sendLimitedMs: { ...this.sendLimitedMs },
    };
  }

  // =============================================================================================
  // Table interface
  // =============================================================================================

  /** @internal Absolute ms at which dispatch must run (Infinity when idle). */
  pollAt(): number {
    if (this.dirty) return this.lastNow;
    return Math.min(this.timers.next(), this.ack.deadline);
  }

  /** @internal Delivers queued events to `onEvent`. */
  flushEvents(): void {
    const bits = this.pendingEvents;
    const cb = this.onEvent;
    // Without a handler yet (a socket still in the accept queue) keep them for the next flush.
    if (bits === 0 || !cb) return;
    this.pendingEvents = 0;
    for (const ev of EVENT_ORDER) if (bits & EVENT_BITS[ev]) cb(ev, this);
  }

  /** @internal Starts an active open (RFC 9293 §3.10.1): SYN at the next poll. */
  openActive(now: number): void {
    this.lastNow = now;
    this.setState('SYN-SENT');
    this.timers.connectDeadline = now + this.opts.connectTimeoutMs;
    this.rcvAdvEdge = 0;
    this.markDirty();
  }

  /** @internal Passive open from a listener's SYN (RFC 9293 §3.10.7.2): SYN-ACK at the next poll. */
  openPassive(seg: TcpRepr, now: number): void {
    this.lastNow = now;
    this.lastReceiveAt = now;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.lastAckSent = this.rcvNxt;
    this.negotiate(seg, true);
    this.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.setState('SYN-RECEIVED');
    this.timers.connectDeadline = now + this.opts.connectTimeoutMs;
    this.markDirty();
  }

  /** @internal Kills a TIME-WAIT socket so a new SYN for the same 4-tuple can open a connection (RFC 6191). */
  reuseFromTimeWait(seg: TcpRepr): boolean {
    if (this._state !== 'TIME-WAIT') return false;
    const newer = this.tsOk && seg.tsVal !== undefined ? seqGt(seg.tsVal, this.tsRecent) : seqGt(seg.seq, this.rcvNxt);
    if (!newer) return false;
    this.terminate(undefined);
    return true;
  }

  /** @internal For the table: RCV.NXT and TS.Recent, to judge reuse of a TIME-WAIT 4-tuple. */
  get isTimeWait(): boolean {
    return this._state === 'TIME-WAIT';
  }

  /** @internal ICMP error about this connection (RFC 5927 / RFC 1122 §4.2.3.9). */
  handleIcmp(kind: 'packet-too-big' | 'unreachable' | 'time-exceeded', mtu: number | undefined, now: number): void {
    this.lastNow = now;
    if (kind === 'packet-too-big') {
      if (mtu === undefined || !Number.isFinite(mtu)) return;
      const headers = this.isV6 ? IPV6_TCP_HEADERS : IPV4_TCP_HEADERS;
      const floor = this.isV6 ? MIN_MSS_IPV6 : MIN_MSS_IPV4;
      const mss = Math.max(floor, Math.floor(mtu) - headers);
      if (mss >= this.sndMssRaw) return;
      this.sndMssRaw = mss;
      this.cc.setMss(this.effMss());
      // Like Linux's tcp_simple_retransmit: what is in flight was too big and is gone; resend it
      // in smaller segments without treating the loss as congestion.
      if (this.sndMax !== this.sndUna && this.synAcked) {
        this.sndNxt = this.sndUna;
        this.scoreboard.clear();
        this.rttTiming = false;
        this.recovery.onPathMtuDrop();
      }
      this.markDirty();
      return;
    }
    // RFC 1122 §4.2.3.9 / RFC 5461: a soft error while synchronized (reported only if the
    // connection later times out). During the active handshake nothing has been exchanged yet, so,
    // like Linux, we fail the attempt at once rather than after 25 s of SYN retries.
    if (this._state === 'SYN-SENT') {
      this.fail(
        'unreachable',
        kind === 'unreachable'
          ? 'host unreachable: an ICMP destination-unreachable answered the SYN'
          : 'host unreachable: the SYN\'s time to live ran out on the way (ICMP time exceeded)',
      );
      return;
    }
    this.softError = 'unreachable';
  }

  // =============================================================================================
  // Segment arrival (RFC 9293 §3.10.7)
  // =============================================================================================

  /** @internal Processes one segment addressed to this connection. */
  receive(seg: TcpRepr, now: number): void {
    this.lastNow = now;
    this.counters.segmentsReceived++;
    switch (this._state) {
      case 'CLOSED':
        return;
      case 'SYN-SENT':
        this.receiveSynSent(seg, now);
        break;
      default:
        this.receiveSynchronized(seg, now);
        break;
    }
    this.lastReceiveAt = now;
    this.armKeepalive();
  }

  private receiveSynSent(seg: TcpRepr, now: number): void {
    const f = seg.flags;
    if (f & TcpFlag.ACK) {
      // RFC 9293 §3.10.7.3 first: an ACK for something we never sent gets a reset.
      if (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax)) {
        if (!(f & TcpFlag.RST)) this.sendRstFor(seg.ack, 0, false);
        return;
      }
    }
    if (f & TcpFlag.RST) {
      // RFC 5961 §3.2: in SYN-SENT a reset counts only if it acknowledges our SYN.
      if (f & TcpFlag.ACK) this.fail('refused', `connection refused: the peer answered the SYN with a reset`);
      return;
    }
    if (!(f & TcpFlag.SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.negotiate(seg, false);
    this.rcvAdvEdge = seqAdd(this.rcvNxt, Math.min(this.rcvBuf.free, MAX_UNSCALED_WINDOW));
    this.lastAckSent = this.rcvNxt;
    if (seg.tsVal !== undefined && this.tsOk) this.tsRecent = seg.tsVal;
    if (f & TcpFlag.ACK) {
      this.synAcked = true;
      this.sampleRttOnAck(seg, now);
      if (this.recovery.timeouts > 0) this.rtt.resetAfterSynTimeout();
      this.sndUna = seg.ack;
      if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      this.sndWnd = seg.window; // unscaled in a SYN
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.recovery.resetTimeouts();
      this.timers.rto = Infinity;
      this.timers.connectDeadline = Infinity;
      this.establish();
      this.ack.ackNow();
      this.markDirty();
      // Data or FIN riding on the SYN-ACK (rare): continue with the text and FIN steps.
      if (seg.payload.length > 0 || f & TcpFlag.FIN) this.processTextAndFin(seqAdd(seg.seq, 1), seg.payload, (f & TcpFlag.FIN) !== 0, now);
      return;
    }
    // Simultaneous open (RFC 9293 §3.5, figure 7): answer with SYN-ACK from our ISS.
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.setState('SYN-RECEIVED');
    this.sndNxt = this.iss;
    this.timers.rto = Infinity;
    this.markDirty();
  }

  /**
   * Segment arrival in a synchronized state (RFC 9293 §3.10.7.4), one function per step. The
   * steps share `s`: the segment as trimmed so far (flags, sequence number and text shrink as
   * duplicates and bytes beyond the window are cut off).
   */
  private receiveSynchronized(seg: TcpRepr, now: number): void {
    const s: InboundSegment = { flags: seg.flags, seq: seg.seq, payload: seg.payload };
    if (this.isPawsDuplicate(seg)) return;
    if (this.handleHandshakeDuplicate(s)) return;
    if (!this.checkSequenceNumber(seg, s, now)) return; // first
    if (s.flags & TcpFlag.RST) return this.processRst(s, now); // second
    // third, the security check, does not apply: no IP security compartments here
    if (s.flags & TcpFlag.SYN) return this.challengeAck(now); // fourth: RFC 5961 §4, challenge ACK and drop
    if (!(s.flags & TcpFlag.ACK)) return; // fifth: a segment without ACK is dropped
    if (!this.processAckStep(seg, s, now)) return;
    if (this._state === 'CLOSED') return;
    this.sampleReceiverRtt(seg, s, now);
    this.processTextAndFin(s.seq, s.payload, (s.flags & TcpFlag.FIN) !== 0, now); // sixth to eighth
  }

  /** RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate; ACK and drop. */
  private isPawsDuplicate(seg: TcpRepr): boolean {
    if (!(this.tsOk && seg.tsVal !== undefined && !(seg.flags & TcpFlag.RST) && seqLt(seg.tsVal, this.tsRecent))) return false;
    this.ack.ackNow();
    this.markDirty();
    return true;
  }

  /**
   * Repeats of the handshake's SYN. True when the segment is fully handled: a retransmitted SYN
   * in SYN-RECEIVED (our SYN-ACK was lost; send it again). A SYN at IRS in any other
   * synchronized state is an old duplicate (a retransmitted SYN-ACK, or the peer's SYN-ACK in a
   * simultaneous open): its SYN bit is dropped and an ACK sent, as BSD's trimming does.
   */
  private handleHandshakeDuplicate(s: InboundSegment): boolean {
    if (this._state === 'SYN-RECEIVED' && s.flags & TcpFlag.SYN && !(s.flags & TcpFlag.ACK) && s.seq === this.irs) {
      this.sndNxt = this.iss;
      this.markDirty();
      return true;
    }
    if (s.flags & TcpFlag.SYN && s.seq === this.irs) {
      s.flags &= ~TcpFlag.SYN;
      s.seq = seqAdd(s.seq, 1);
      this.ack.ackNow();
      this.markDirty();
    }
    return false;
  }

  /**
   * First step: the acceptability test (RFC 9293 §3.10.7.4, table of four cases), then trimming
   * `s` to the window and updating TS.Recent (RFC 7323 §4.3). False when the segment is dropped
   * (after queueing the ACK the RFC asks for).
   */
  private checkSequenceNumber(seg: TcpRepr, s: InboundSegment, now: number): boolean {
    const rcvWnd = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    const segLen = s.payload.length + (s.flags & TcpFlag.SYN ? 1 : 0) + (s.flags & TcpFlag.FIN ? 1 : 0);
    let acceptable: boolean;
    if (segLen === 0) {
      acceptable = rcvWnd === 0 ? s.seq === this.rcvNxt : seqGe(s.seq, this.rcvNxt) && seqLt(s.seq, seqAdd(this.rcvNxt, rcvWnd));
    } else if (rcvWnd === 0) {
      acceptable = false;
    } else {
      const last = seqAdd(s.seq, segLen - 1);
      const wndEnd = seqAdd(this.rcvNxt, rcvWnd);
      acceptable = (seqGe(s.seq, this.rcvNxt) && seqLt(s.seq, wndEnd)) || (seqGe(last, this.rcvNxt) && seqLt(last, wndEnd));
    }
    if (!acceptable) {
      if (rcvWnd === 0 && s.seq === this.rcvNxt) {
        // Zero window: still process ACK and RST (RFC 9293 §3.10.7.4), drop the text.
        s.payload = s.payload.subarray(0, 0);
        s.flags &= ~(TcpFlag.FIN | TcpFlag.SYN);
        if (seg.payload.length > 0) this.ack.ackNow();
      } else {
        if (!(s.flags & TcpFlag.RST)) {
          this.ack.ackNow();
          this.markDirty();
          if (this._state === 'TIME-WAIT' && s.flags & TcpFlag.FIN) this.timers.linger = now + this.opts.timeWaitMs;
        }
        return false;
      }
    }
    this.trimToWindow(s, rcvWnd);
    // RFC 7323 §4.3: TS.Recent follows segments that cover the left edge of the last ACK.
    if (this.tsOk && seg.tsVal !== undefined && seqLe(s.seq, this.lastAckSent) && seqGe(seg.tsVal, this.tsRecent)) {
      this.tsRecent = seg.tsVal;
    }
    return true;
  }

  /** Cuts off the front (already received) and the back (beyond the window) of `s`. */
  private trimToWindow(s: InboundSegment, rcvWnd: number): void {
    if (seqLt(s.seq, this.rcvNxt)) {
      let drop = seqDiff(this.rcvNxt, s.seq);
      if (s.flags & TcpFlag.SYN) {
        s.flags &= ~TcpFlag.SYN;
        drop--;
        s.seq = seqAdd(s.seq, 1);
      }
      if (drop >= s.payload.length) {
        if (drop > s.payload.length) s.flags &= ~TcpFlag.FIN;
        s.seq = seqAdd(s.seq, s.payload.length);
        s.payload = s.payload.subarray(s.payload.length);
      } else {
        s.payload = s.payload.subarray(drop);
        s.seq = seqAdd(s.seq, drop);
      }
      this.ack.ackNow(); // part of it was a duplicate: tell the sender at once
    }
    const room = seqDiff(seqAdd(this.rcvNxt, rcvWnd), s.seq);
    if (s.payload.length > room) {
      s.payload = s.payload.subarray(0, Math.max(0, room));
      s.flags &= ~TcpFlag.FIN;
      this.ack.ackNow();
    }
  }

  /** Second step: RST (RFC 5961 §3.2: an exact match resets, anything else gets a challenge ACK). */
  private processRst(s: InboundSegment, now: number): void {
    if (s.seq !== this.rcvNxt) {
      this.challengeAck(now);
      return;
    }
    switch (this._state) {
      case 'SYN-RECEIVED':
        if (this.passive) this.terminate(undefined); // back to LISTEN: the listener forgets it
        else this.fail('refused', 'connection refused: the peer reset the simultaneous open');
        return;
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        this.fail('reset', 'connection reset by the peer');
        return;
      default:
        // CLOSING, LAST-ACK, TIME-WAIT: the connection was ending anyway (RFC 9293).
        this.terminate(undefined);
        return;
    }
  }

  /**
   * Fifth step, ACK: in SYN-RECEIVED an acceptable ACK establishes the connection (an
   * unacceptable one gets a reset); otherwise {@link processAck}. False when the segment is dropped.
   */
  private processAckStep(seg: TcpRepr, s: InboundSegment, now: number): boolean {
    if (this._state !== 'SYN-RECEIVED') return this.processAck(seg, s.seq, s.payload.length, s.flags, now);
    if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax))) {
      this.sendRstFor(seg.ack, 0, false);
      return false;
    }
    this.synAcked = true;
    this.sampleRttOnAck(seg, now);
    if (this.recovery.timeouts > 0) this.rtt.resetAfterSynTimeout();
    this.sndUna = seqAdd(this.iss, 1);
    if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
    this.recovery.resetTimeouts();
    this.timers.rto = Infinity;
    this.timers.connectDeadline = Infinity;
    this.sndWnd = seg.window << this.sndWscale;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = s.seq;
    this.sndWl2 = seg.ack;
    this.establish();
    // The same ACK may acknowledge data too (not for a SYN-ACK, but keep it general).
    if (seqGt(seg.ack, this.sndUna)) this.processAck(seg, s.seq, s.payload.length, s.flags, now);
    return true;
  }

  /**
   * Data echoes the TSval of one of our ACKs: the time since is the round trip as the sender sees
   * it, even when we send no data of our own to time (a pure download). Feeds auto-tuning.
   */
  private sampleReceiverRtt(seg: TcpRepr, s: InboundSegment, now: number): void {
    if (this.tsOk && s.payload.length > 0 && seg.tsEcr !== undefined && seg.tsEcr !== 0) {
      this.autoTune.sampleRtt(seqDiff(this.tsNow(now), seg.tsEcr));
    }
  }

  /** Step five for synchronized states; false when the segment must be dropped. */
  private processAck(seg: TcpRepr, seq: number, textLen: number, f: number, now: number): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      // RFC 9293: an ACK for data not yet sent gets an ACK and the segment is dropped.
      this.challengeAck(now);
      return false;
    }
    // RFC 5961 §5.2: ACKs far below SND.UNA are injection attempts.
    if (seqLt(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, 1) >>> 0))) {
      this.challengeAck(now);
      return false;
    }
    const state = this._state;
    if (state === 'TIME-WAIT') return true;

    const window = seg.window << this.sndWscale;
    let newSack = 0;
    if (this.sackOk && seg.sackBlocks !== undefined && seqLt(this.sndUna, this.sndMax)) {
      newSack = this.scoreboard.update(seg.sackBlocks, this.sndUna, this.sndMax);
      if (newSack > 0) this.recovery.onSackUpdate(this.scoreboard, this.sndUna, this.sndMax, this.effMss());
    }

    if (seqGt(ack, this.sndUna)) {
      this.onNewAck(seg, ack, now);
    } else if (ack === this.sndUna && seqLt(this.sndUna, this.sndMax) && textLen === 0 && !(f & (TcpFlag.SYN | TcpFlag.FIN)) && (window === this.sndWnd || newSack > 0)) {
      this.onDupAck(now);
    }
    if (this.recovery.phase === 'open' && this.sackOk && this.scoreboard.sacked > 0 && seqLt(this.sndUna, this.sndMax)) {
      // RFC 6675 §5 entry without three duplicate ACKs: enough data SACKed above SND.UNA.
      if (seqGt(this.scoreboard.lostBoundary(this.sndUna, this.effMss(), DUP_ACK_THRESHOLD), this.sndUna)) this.enterRecovery(now);
    }

    // Window update (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2 rule).
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      const opened = window > this.sndWnd;
      this.sndWnd = window;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (window > this.maxSndWnd) this.maxSndWnd = window;
      if (opened) {
        this.markDirty();
        if (this.timers.persist !== Infinity && window > 0) {
          this.timers.persist = Infinity;
          this.persistBackoff = 0;
        }
      }
    }
    this.persistProbes = 0;

    // FIN acknowledged? (its sequence number is the one after the last data byte)
    if (this.finSent && this.sndUna === this.sndMax && this.sendBuf.length === 0) {
      switch (state) {
        case 'FIN-WAIT-1':
          this.setState('FIN-WAIT-2');
          if (this.userClosed) this.timers.linger = now + this.opts.finWait2TimeoutMs;
          break;
        case 'CLOSING':
          this.enterTimeWait(now);
          break;
        case 'LAST-ACK':
          this.terminate(undefined);
          return false;
        default:
          break;
      }
    }
    return true;
  }

  private onNewAck(seg: TcpRepr, ack: number, now: number): void {
    if (this.eifel) this.detectSpuriousTimeout(seg, ack);
    const acked = seqDiff(ack, this.sndUna);
    const flightBefore = seqDiff(this.sndMax, this.sndUna);
    // Data bytes covered (the FIN, if acknowledged, is one past the data).
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, this.sndBufSeq)), this.sendBuf.length);
    if (dataAcked > 0) {
      this.sendBuf.consume(dataAcked);
      this.sndBufSeq = seqAdd(this.sndBufSeq, dataAcked);
    }
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    this.scoreboard.advance(ack);
    const rttSample = this.sampleRttOnAck(seg, now);
    this.recovery.resetTimeouts();
    // RFC 6298 §5.2-5.3.
    this.timers.rto = this.sndUna === this.sndMax ? Infinity : now + this.rtt.rto;

    const mss = this.effMss();
    const outcome = this.recovery.onNewAck(ack);
    if (outcome === 'recovered') {
      if (!this.sackOk) {
        // RFC 6582 §3.2 step 3 (full acknowledgment), option (1).
        this.cc.cwnd = Math.min(this.cc.ssthresh, Math.max(seqDiff(this.sndMax, this.sndUna), mss) + mss);
      } else {
        this.cc.onRecoveryEnd(now);
      }
    } else if (outcome === 'partial') {
      if (!this.sackOk) {
        // RFC 6582 §3.2 step 5: partial ACK, retransmit the next hole, deflate the window.
        this.recovery.requestRetransmit();
        this.cc.cwnd = Math.max(this.cc.cwnd - acked + (acked >= mss ? mss : 0), mss);
      }
    } else {
      const limited = this.cwndLimited || flightBefore + mss > this.cc.cwnd || (this.cc.cwnd < this.cc.ssthresh && 2 * flightBefore >= this.cc.cwnd);
      let credit = acked;
      const hs = this.hystart;
      // HyStart++ only in the first slow start (RFC 9406 §4.3): ssthresh is still unset then; a
      // loss, a timeout or HyStart++'s own exit set it.
      if (hs && hs.phase !== 'avoidance' && this.cc.ssthresh === Number.MAX_SAFE_INTEGER) {
        const phase = hs.onAck(ack, this.sndMax, rttSample);
        // RFC 9406 §4.2: Conservative Slow Start grows by a quarter of slow start's increase.
        if (phase === 'css') credit = Math.floor(Math.min(acked, 2 * mss) / HYSTART_CSS_GROWTH_DIVISOR);
        else if (phase === 'avoidance') this.cc.ssthresh = this.cc.cwnd;
      } else if (hs && hs.phase !== 'avoidance' && this.cc.ssthresh !== Number.MAX_SAFE_INTEGER) hs.end();
      this.cc.onAck(credit, now, this.rtt.srtt ?? 100, limited);
      this.cwndLimited = false;
    }
    if (this.wantWritable && this.writable() && this.sendBuf.free >= this.sendBuf.capacity / 4) {
      this.wantWritable = false;
      this.queueEvent('writable');
    }
    this.markDirty();
  }

  /**
   * The first ACK of new data after a timeout (RFC 3522 §3.2): an echoed timestamp older than the
   * first retransmission's means the original transmission arrived and the timeout was spurious
   * (a delay spike: the worker's GC, a loaded machine, the carrier's own TCP). Response (RFC 4015
   * §3): go on with new data instead of resending what arrived, and restore the window gently:
   * cwnd = FlightSize + min(bytes acknowledged, IW), ssthresh = the pre-timeout
   * max(FlightSize, ssthresh) (pipe_prev), so slow start climbs back within a round trip or two.
   */
  private detectSpuriousTimeout(seg: TcpRepr, ack: number): void {
    const e = this.eifel!;
    this.eifel = undefined;
    if (seg.tsEcr === undefined || seg.tsEcr === 0 || !seqLt(seg.tsEcr, e.retransmitTs)) return;
    this.counters.spuriousTimeouts++;
    this.recovery.undoLoss();
    this.rtt.backoffCount = 0;
    const mss = this.effMss();
    const flight = Math.max(0, seqDiff(this.sndMax, ack));
    const acked = seqDiff(ack, this.sndUna);
    this.cc.cwnd = Math.max(this.cc.cwnd, flight + Math.min(acked, INITIAL_WINDOW_SEGMENTS * mss));
    this.cc.ssthresh = Math.max(e.ssthresh, 2 * mss);
    // Resume with new data (RFC 4015 §3 step 4): what follows the retransmitted segment arrived too.
    this.sndNxt = this.sndMax;
  }

  private onDupAck(now: number): void {
    switch (this.recovery.onDupAck()) {
      case 'enter-recovery':
        this.enterRecovery(now);
        break;
      case 'limited-transmit':
        this.markDirty(); // RFC 3042 limited transmit
        break;
      case 'inflate':
        // RFC 6582 §3.2 step 4: each further duplicate ACK inflates the window by one segment.
        if (!this.sackOk) this.cc.cwnd += this.effMss();
        this.markDirty();
        break;
      case 'ignored':
        break;
    }
  }

  private enterRecovery(now: number): void {
    const flight = seqDiff(this.sndMax, this.sndUna);
    this.recovery.enterFastRecovery(this.sndUna, this.sndMax);
    this.counters.fastRecoveries++;
    this.cc.onCongestionEvent(now, flight);
    this.rttTiming = false;
    this.sndNxt = this.sndMax;
    // RFC 6582 §3.2 step 2: cwnd = ssthresh + 3*SMSS for the segments that left the network.
    if (!this.sackOk) this.cc.cwnd = this.cc.ssthresh + DUP_ACK_THRESHOLD * this.effMss();
    this.markDirty();
  }

  /** Takes the RTT sample this ACK carries, if any, and returns it (ms). */
  private sampleRttOnAck(seg: TcpRepr, now: number): number | undefined {
    if (this.tsOk && seg.tsEcr !== undefined && seg.tsEcr !== 0) {
      // RFC 7323 §4.1: every ACK of new data echoes the TSval of the segment it answers.
      const sample = seqDiff(this.tsNow(now), seg.tsEcr);
      if (sample >= 0 && sample < 600_000) {
        this.rtt.sample(sample);
        this.rttTiming = false;
        return sample;
      }
    }
    // Karn's algorithm (RFC 6298 §3): one timed segment, never a retransmitted one.
    if (this.rttTiming && seqGt(seg.ack, this.rttSeq)) {
      const sample = now - this.rttTime;
      this.rtt.sample(sample);
      this.rttTiming = false;
      return sample;
    }
    return undefined;
  }

  /** Steps six to eight: segment text and FIN. */
  private processTextAndFin(seq: number, payload: Uint8Array, fin: boolean, now: number): void {
    const state = this._state;
    if (payload.length > 0) {
      if (state === 'ESTABLISHED' || state === 'FIN-WAIT-1' || state === 'FIN-WAIT-2') {
        this.storeText(seq, payload, now);
      } else {
        // CLOSE-WAIT and later: the peer already sent FIN, text is ignored (RFC 9293).
        this.ack.ackNow();
      }
    }
    if (fin) {
      const finSeq = seqAdd(seq, payload.length);
      if (finSeq === this.rcvNxt) this.processFin(now);
      else if (seqGt(finSeq, this.rcvNxt)) {
        this.oooFinSeq = finSeq;
        this.ack.ackNow();
      }
    }
    if (this.ack.pending) this.markDirty();
  }

  private storeText(seq: number, payload: Uint8Array, now: number): void {
    const offset = seqDiff(seq, this.rcvNxt);
    const islandsBefore = this.rcvBuf.islandCount;
    const advanced = this.rcvBuf.write(offset, payload);
    if (payload.length > this.rcvMss) this.rcvMss = Math.min(payload.length, this.advMss);
    if (advanced > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, advanced);
      this.counters.bytesReceived += advanced;
      if (this.readClosed) this.rcvBuf.discard(advanced);
      else this.queueEvent('readable');
      this.autoTune.tune(this.rcvBuf, now, this.rtt.srtt);
      if (this.oooFinSeq !== undefined && this.oooFinSeq === this.rcvNxt) {
        this.oooFinSeq = undefined;
        this.processFin(now);
        return;
      }
    }
    if (offset > 0) {
      // RFC 5681 §4.2: out-of-order data is acknowledged at once, one duplicate ACK (with SACK
      // blocks) per segment. The owner may batch a burst of arriving datagrams into one poll,
      // which would fold these into one ACK and starve the sender's fast retransmit, so the
      // duplicate ACK is queued now rather than at the next dispatch.
      const out: TcpOutput[] = [];
      this.emitSegment(out, this.sndMax, TcpFlag.ACK, 0, 0, false, now);
      this.host.sendControl(out[0]);
      return;
    }
    if (islandsBefore > 0) {
      // Data filling a hole is acknowledged at once too (RFC 5681 §4.2).
      this.ack.ackNow();
      return;
    }
    this.ack.onInOrderData(payload.length, this.rcvMss, now);
  }

  private processFin(now: number): void {
    if (this.finReceived) return;
    this.finReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.ack.ackNow();
    this.markDirty();
    if (!this.readClosed) this.queueEvent('readable');
    switch (this._state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.setState('CLOSE-WAIT');
        break;
      case 'FIN-WAIT-1':
        if (this.finSent && this.sndUna === this.sndMax && this.sendBuf.length === 0) this.enterTimeWait(now);
        else this.setState('CLOSING');
        break;
      case 'FIN-WAIT-2':
        this.enterTimeWait(now);
        break;
      default:
        break;
    }
  }

  // =============================================================================================
  // Output
  // =============================================================================================

  /** @internal Runs due timers and sends what the windows allow into `out`. */
  dispatch(now: number, out: TcpOutput[]): void {
    this.lastNow = now;
    this.dirty = false;
    if (this._state === 'CLOSED') return;
    if (this.sendLimit !== SendLimit.None) this.accountSendLimit(now);
    if (now >= this.timers.linger) {
      this.timers.linger = Infinity;
      if (this._state === 'TIME-WAIT' || this._state === 'FIN-WAIT-2') {
        this.terminate(undefined);
        return;
      }
    }
    if (now >= this.timers.rto) {
      this.onRetransmissionTimeout(now);
      if (this.isClosed()) return;
    }
    if (now >= this.timers.persist) this.onPersistTimeout(now);
    this.ack.onTimer(now);
    if (now >= this.timers.keepalive) {
      this.onKeepaliveTimeout(now);
      if (this.isClosed()) return;
    }
    if (this._state === 'TIME-WAIT') {
      if (this.ack.due) this.emitSegment(out, this.sndMax, TcpFlag.ACK, 0, 0, false, now);
      return;
    }

    let sent = 0;
    if (!this.synAcked) {
      if (this.sndNxt === this.iss && (this._state === 'SYN-SENT' || this._state === 'SYN-RECEIVED')) {
        this.emitSyn(out, now);
        sent++;
      }
    } else {
      sent = this.sendData(now, out);
    }
    if (this.sendProbe) {
      // Window probe / keepalive: an old sequence number that makes the peer answer with an ACK.
      this.sendProbe = false;
      this.emitSegment(out, seqAdd(this.sndUna, -1 >>> 0), TcpFlag.ACK, 0, 0, false, now);
      sent++;
    }
    if (sent === 0 && this.ack.due && this._state !== 'SYN-SENT') {
      // Pure ACKs carry SND.MAX so they stay acceptable while SND.NXT is pulled back (BSD does the same).
      this.emitSegment(out, this.sndMax, TcpFlag.ACK, 0, 0, false, now);
    }
    // Whatever blocked sending, data in flight always has a timer watching it (RFC 6298 §5.1).
    if (this.sndUna !== this.sndMax && this.timers.rto === Infinity && this.timers.persist === Infinity) this.timers.rto = now + this.rtt.rto;
    if (this.synAcked) this.classifySendLimit(now);
  }

  /** Adds the time since the last poll to what limited the sender then. */
  private accountSendLimit(now: number): void {
    const ms = now - this.sendLimitSince;
    if (ms > 0) {
      if (this.sendLimit === SendLimit.Cwnd) this.sendLimitedMs.cwnd += ms;
      else if (this.sendLimit === SendLimit.Rwnd) this.sendLimitedMs.rwnd += ms;
      else if (this.sendLimit === SendLimit.App) this.sendLimitedMs.app += ms;
    }
    this.sendLimit = SendLimit.None;
  }

  /** After sending what the windows allow: what holds the sender back until the next poll. */
  private classifySendLimit(now: number): void {
    if (this.cc.cwnd > this.maxCwnd) this.maxCwnd = this.cc.cwnd;
    const unsent = this.sendBuf.length - seqDiff(this.sndMax, this.sndBufSeq);
    let limit: SendLimit = SendLimit.None;
    if (unsent > 0) {
      const wndAvail = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndMax);
      limit = wndAvail < Math.min(unsent, this.effMss()) ? SendLimit.Rwnd : SendLimit.Cwnd;
    } else if (this.sndUna !== this.sndMax) limit = SendLimit.App;
    this.sendLimit = limit;
    this.sendLimitSince = now;
  }

  private emitSyn(out: TcpOutput[], now: number): void {
    const synAck = this._state === 'SYN-RECEIVED';
    const repr: TcpRepr = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: this.iss,
      ack: synAck ? this.rcvNxt : 0,
      flags: TcpFlag.SYN | (synAck ? TcpFlag.ACK : 0),
      window: Math.min(this.rcvBuf.free, MAX_UNSCALED_WINDOW),
      mss: this.advMss,
      payload: EMPTY,
    };
    // A SYN-ACK carries only the options the peer's SYN offered (RFC 7323 §1.3, RFC 2018 §2).
    if (synAck ? this.sackOk : this.opts.sack) repr.sackPermitted = true;
    if (synAck ? this.tsOk : this.opts.timestamps) {
      repr.tsVal = this.tsNow(now);
      repr.tsEcr = synAck ? this.tsRecent : 0;
    }
    if (synAck ? this.wsAgreed : this.opts.windowScaling) repr.windowScale = this.rcvWscale;
    if (synAck) {
      this.rcvAdvEdge = seqAdd(this.rcvNxt, repr.window);
      this.lastAckSent = this.rcvNxt;
      this.ack.onAckSent();
    }
    this.finishSegment(out, repr, 0, 0);
    if (this.recovery.timeouts > 0 || seqGt(this.sndMax, this.iss)) this.counters.retransmittedSegments++;
    this.sndNxt = seqAdd(this.iss, 1);
    if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
    if (!this.tsOk && !this.rttTiming && this.recovery.timeouts === 0) {
      this.rttTiming = true;
      this.rttSeq = this.iss;
      this.rttTime = now;
    }
    if (this.timers.rto === Infinity) this.timers.rto = Math.min(now + this.rtt.rto, this.timers.connectDeadline);
  }

  /** Sends retransmissions and new data; returns the number of segments sent. */
  private sendData(now: number, out: TcpOutput[]): number {
    const state = this._state;
    if (state !== 'ESTABLISHED' && state !== 'CLOSE-WAIT' && state !== 'FIN-WAIT-1' && state !== 'CLOSING' && state !== 'LAST-ACK') return 0;
    const mss = this.payloadRoom();
    let sent = 0;

    if (this.recovery.inFastRecovery && this.sackOk) {
      const lost = this.scoreboard.lostBoundary(this.sndUna, mss, DUP_ACK_THRESHOLD);
      for (let guard = 0; guard < 10_000; guard++) {
        const pipe = this.scoreboard.pipe(this.sndUna, this.sndMax, lost, this.recovery.nextRetransmitFrom(this.sndUna));
        if (!this.recovery.retransmitPending && this.cc.cwnd - pipe < mss) {
          this.cwndLimited = true;
          break;
        }
        const force = this.recovery.takeForcedRetransmit();
        // NextSeg rule 1: the first lost hole not yet retransmitted (on entry, RFC 6675 §5 step 3:
        // the first un-SACKed segment whatever the scoreboard says). Before it, holes whose
        // retransmission was lost too (see LossRecovery.onSackUpdate).
        const from = this.recovery.nextRetransmitFrom(this.sndUna);
        let hole: Hole | undefined = this.recovery.takeRelostHole(this.scoreboard, this.sndUna, this.sndMax);
        if (hole) {
          // (re-retransmission of a hole whose first retransmission was lost)
        } else if (force) hole = this.scoreboard.nextHole(this.sndUna, this.sndMax);
        else if (seqGt(lost, from)) hole = this.scoreboard.nextHole(from, lost);
        if (hole) {
          this.retransmitRange(out, hole.start, Math.min(mss, seqDiff(hole.end, hole.start)), now);
          sent++;
          continue;
        }
        // Rule 2: new data. (Rule 3, retransmitting holes not yet deemed lost, is left out as in
        // Linux: with a window-limited sender it mostly resends data still in flight.)
        if (this.sendNewSegment(now, out, mss, true)) {
          sent++;
          continue;
        }
        break;
      }
      return sent;
    }

    if (this.recovery.takeForcedRetransmit()) {
      // NewReno fast retransmit / partial ACK: the first unacknowledged segment, cwnd aside.
      const len = Math.min(mss, Math.max(0, seqDiff(this.sndMax, this.sndUna)));
      if (len > 0) {
        this.retransmitRange(out, this.sndUna, len, now);
        sent++;
      }
    }
    for (let guard = 0; guard < 100_000; guard++) {
      if (!this.sendNewSegment(now, out, mss, false)) break;
      sent++;
    }
    return sent;
  }

  /**
   * Sends one segment from SND.NXT (new data, or go-back-N retransmission after an RTO) if the
   * windows, SWS avoidance and Nagle allow. `fromMax`: SACK recovery sends new data from SND.MAX.
   */
  private sendNewSegment(now: number, out: TcpOutput[], mss: number, fromMax: boolean): boolean {
    if (fromMax) this.sndNxt = this.sndMax;
    let nxt = this.sndNxt;
    // After an RTO, skip what the peer has SACKed since.
    if (seqLt(nxt, this.sndMax) && this.scoreboard.sacked > 0) {
      const hole = this.scoreboard.nextHole(nxt, this.sndMax);
      nxt = hole ? hole.start : this.sndMax;
      this.sndNxt = nxt;
    }
    const offset = seqDiff(nxt, this.sndBufSeq);
    const bufLen = this.sendBuf.length;
    const avail = bufLen - offset;
    const finPending = this.finQueued && (!this.finSent || seqLt(nxt, this.sndMax));
    if (avail <= 0 && !(finPending && avail === 0)) return false;
    const wndEnd = seqAdd(this.sndUna, this.sndWnd);
    const wndAvail = seqDiff(wndEnd, nxt);
    const inFlight = seqDiff(nxt, this.sndUna);
    let cwnd = this.cc.cwnd;
    // RFC 3042 limited transmit: one more segment for each of the first two duplicate ACKs.
    cwnd += this.recovery.limitedTransmitSegments() * mss;
    const flight = this.recovery.inFastRecovery && !this.sackOk ? seqDiff(this.sndMax, this.sndUna) : inFlight;
    const cwndAvail = this.recovery.inFastRecovery && this.sackOk ? mss : cwnd - flight;
    let segMax = mss;
    if (seqLt(nxt, this.sndMax) && this.scoreboard.sacked > 0) {
      const hole = this.scoreboard.nextHole(nxt, this.sndMax);
      if (hole) segMax = Math.min(segMax, seqDiff(hole.end, nxt));
    }
    let len = Math.min(avail, segMax, wndAvail, cwndAvail);
    if (avail === 0) {
      // Only the FIN remains; it needs one octet of window (as data would).
      if (wndAvail < 1 && !this.forceSend) {
        this.armPersist(now);
        return false;
      }
      if (cwndAvail <= 0 && inFlight > 0) {
        this.cwndLimited = true;
        return false;
      }
      len = 0;
    } else if (len <= 0) {
      if (wndAvail <= 0 || len === wndAvail) this.armPersist(now);
      else this.cwndLimited = true;
      if (!(this.forceSend && wndAvail > 0)) return false;
      len = Math.min(avail, segMax, wndAvail);
    } else if (len < segMax && len < avail && !seqLt(nxt, this.sndMax)) {
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1), for new data only (a retransmission uses what
      // the window offers): a short segment only if it is at least half the largest window the
      // peer offered, or nothing is in flight after the persist timer.
      const windowLimited = len === wndAvail;
      if (windowLimited && !this.forceSend && len < this.maxSndWnd / 2) {
        this.armPersist(now);
        return false;
      }
      if (!windowLimited && inFlight > 0) {
        this.cwndLimited = true;
        return false;
      }
    } else if (len < segMax && len === avail && !this.noDelay && inFlight > 0 && !finPending && !seqLt(nxt, this.sndMax)) {
      // Nagle (RFC 9293 §3.7.4): hold a short segment while data is unacknowledged.
      return false;
    }
    this.forceSend = false;
    const fin = this.finQueued && len === avail;
    let flags = TcpFlag.ACK;
    if (fin) flags |= TcpFlag.FIN;
    if (len > 0 && len === avail) flags |= TcpFlag.PSH;
    const retransmission = seqLt(nxt, this.sndMax);
    this.emitSegment(out, nxt, flags, offset, len, retransmission, now);
    const end = seqAdd(nxt, len + (fin ? 1 : 0));
    this.sndNxt = end;
    if (seqGt(end, this.sndMax)) this.sndMax = end;
    if (fin) this.finSent = true;
    if (!retransmission && !this.tsOk && !this.rttTiming && len > 0) {
      this.rttTiming = true;
      this.rttSeq = nxt;
      this.rttTime = now;
    }
    if (this.timers.rto === Infinity) this.timers.rto = now + this.rtt.rto;
    if (this.timers.persist !== Infinity) {
      this.timers.persist = Infinity;
    }
    return true;
  }

  private retransmitRange(out: TcpOutput[], seq: number, len: number, now: number): void {
    const offset = seqDiff(seq, this.sndBufSeq);
    const avail = this.sendBuf.length - offset;
    const dataLen = Math.max(0, Math.min(len, avail));
    const fin = this.finQueued && this.finSent && dataLen === avail;
    this.emitSegment(out, seq, TcpFlag.ACK | (fin ? TcpFlag.FIN : 0), offset, dataLen, true, now);
    const end = seqAdd(seq, dataLen + (fin ? 1 : 0));
    this.recovery.noteRetransmission(seq, end, this.sndMax, this.sackOk);
    this.rttTiming = false;
    if (this.timers.rto === Infinity) this.timers.rto = now + this.rtt.rto;
  }

  private armPersist(now: number): void {
    // RFC 9293 §3.8.6.1: probe a closed (or uselessly small) window when nothing is in flight.
    if (this.sndUna !== this.sndMax || this.timers.persist !== Infinity) return;
    const base = this.rtt.rto;
    this.timers.persist = now + Math.min(base * 2 ** this.persistBackoff, this.opts.maxRtoMs);
  }

  private onPersistTimeout(now: number): void {
    this.timers.persist = Infinity;
    this.persistProbes++;
    if (this.persistProbes > MAX_PERSIST_PROBES) {
      this.fail(this.softError ?? 'timeout', 'connection timed out: the peer stopped answering window probes');
      return;
    }
    if (this.persistBackoff < 30) this.persistBackoff++;
    if (this.sndWnd === 0) this.sendProbe = true;
    else this.forceSend = true;
    this.markDirty();
    // Re-arm; cleared when the window opens or data goes out.
    this.timers.persist = now + Math.min(this.rtt.rto * 2 ** this.persistBackoff, this.opts.maxRtoMs);
  }

  private onRetransmissionTimeout(now: number): void {
    this.timers.rto = Infinity;
    if (this.sndUna === this.sndMax) return;
    if (this.synAcked && this.sndWnd === 0) {
      // The peer closed its window with our data in flight: nothing may be resent into it.
      // Probe like the persist timer does (RFC 9293 §3.8.6.1); probes that go unanswered end the
      // connection, answered ones keep it alive however long the window stays shut.
      this.persistProbes++;
      if (this.persistProbes > MAX_PERSIST_PROBES) {
        this.fail(this.softError ?? 'timeout', 'connection timed out: the peer stopped answering window probes');
        return;
      }
      this.rtt.backoff();
      this.sendProbe = true;
      this.timers.rto = now + this.rtt.rto;
      this.markDirty();
      return;
    }
    if (!this.synAcked) {
      if (now >= this.timers.connectDeadline) {
        if (this.passive) this.terminate(undefined);
        else this.fail(this.softError ?? 'timeout', `connection timed out: no answer to ${this.recovery.timeouts + 1} SYNs in ${Math.round(this.opts.connectTimeoutMs / 1000)} s`);
        return;
      }
      this.recovery.noteTimeout();
      this.counters.timeouts++;
      this.rtt.backoff();
      this.rttTiming = false;
      this.sndNxt = this.iss;
      this.markDirty();
      return;
    }
    const timeouts = this.recovery.noteTimeout();
    this.counters.timeouts++;
    if (timeouts > this.opts.maxRetransmissions) {
      const why = this.softError === 'unreachable' ? 'host unreachable' : 'connection timed out';
      this.fail(this.softError ?? 'timeout', `${why}: ${this.opts.maxRetransmissions} retransmissions went unacknowledged`);
      return;
    }
    const flight = seqDiff(this.sndMax, this.sndUna);
    // RFC 3522 §3.2: with timestamps, remember the first retransmission's TSval (it leaves in this
    // dispatch, stamped `now`) and what the timeout takes away, to undo it if it proves spurious.
    // RFC 4015 §3: pipe_prev = max(FlightSize, ssthresh); in the first slow start ssthresh is
    // still unset (infinite), so an undone timeout resumes that slow start (HyStart++ included).
    if (timeouts === 1) this.eifel = this.tsOk ? { retransmitTs: this.tsNow(now), cwnd: this.cc.cwnd, ssthresh: Math.max(flight, this.cc.ssthresh) } : undefined;
    // RFC 5681 §3.1 eq. (4) only on the first timeout of an episode; later ones keep ssthresh.
    if (timeouts === 1) this.cc.onRetransmissionTimeout(now, flight);
    else this.cc.cwnd = this.effMss();
    this.rtt.backoff();
    this.recovery.enterLoss(this.sndMax);
    this.scoreboard.clear(); // RFC 2018 §8: the receiver may have reneged
    this.rttTiming = false;
    this.sndNxt = this.sndUna;
    this.markDirty();
  }

  private onKeepaliveTimeout(now: number): void {
    const ka = this.opts.keepAlive;
    if (!ka) {
      this.timers.keepalive = Infinity;
      return;
    }
    if (this.sndUna !== this.sndMax || this.sendBuf.length > 0) {
      // Data is outstanding: the retransmission timer watches the connection.
      this.timers.keepalive = now + ka.idleMs;
      return;
    }
    if (this.timers.keepaliveProbesSent >= ka.probes) {
      this.fail(this.softError ?? 'timeout', `connection timed out: ${ka.probes} keepalive probes went unanswered`);
      return;
    }
    this.timers.keepaliveProbesSent++;
    this.sendProbe = true;
    this.timers.keepalive = now + ka.intervalMs;
    this.markDirty();
  }

  private armKeepalive(): void {
    const ka = this.opts.keepAlive;
    if (!ka || (this._state !== 'ESTABLISHED' && this._state !== 'CLOSE-WAIT')) {
      this.timers.keepalive = Infinity;
      return;
    }
    this.timers.keepaliveProbesSent = 0;
    this.timers.keepalive = this.lastReceiveAt + ka.idleMs;
  }

  /** Builds, checksums and queues one segment carrying ACK, window and options. */
  private emitSegment(out: TcpOutput[], seq: number, flags: number, offset: number, len: number, retransmission: boolean, now: number): void {
    const repr: TcpRepr = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack: this.rcvNxt,
      flags,
      window: this.selectWindow(),
      urgentPointer: undefined,
      mss: undefined,
      windowScale: undefined,
      sackPermitted: undefined,
      tsVal: this.tsOk ? this.tsNow(now) : undefined,
      tsEcr: this.tsOk ? this.tsRecent : undefined,
      sackBlocks: undefined,
      payload: EMPTY,
    };
    if (this.sackOk && this.rcvBuf.islandCount > 0) {
      // RFC 2018 §3: at most 3 blocks fit beside timestamps, 4 without.
      const ranges = this.rcvBuf.sackRanges(this.tsOk ? 3 : 4);
      const base = this.rcvBuf.contiguousEnd;
      for (let i = 0; i < ranges.length; i++) ranges[i] = seqAdd(this.rcvNxt, ranges[i] - base);
      repr.sackBlocks = ranges;
    }
    this.finishSegment(out, repr, offset, len);
    this.counters.bytesSent += retransmission ? 0 : len;
    if (retransmission && (len > 0 || flags & (TcpFlag.FIN | TcpFlag.SYN))) this.counters.retransmittedSegments++;
    this.lastAckSent = this.rcvNxt;
    this.ack.onAckSent();
  }

  private finishSegment(out: TcpOutput[], repr: TcpRepr, offset: number, len: number): void {
    const hl = tcpHeaderLength(repr);
    // A view of a shared slab, not an ArrayBuffer per segment (#19), with room before it for the IP
    // header and the tunnel's header and room after it for the tunnel's padding and tag: the IP
    // layer and the tunnel write theirs around the segment instead of copying it (packet-room.ts).
    const headroom = PACKET_HEADROOM + (this.remoteAddress.length === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH);
    const total = hl + len;
    const size = headroom + total + PACKET_TAILROOM;
    const bytes = (this.host.takeSegment?.(size) ?? segmentSlab.take(size)).subarray(headroom, headroom + total);
    emitTcpHeader(repr, bytes);
    if (len > 0) this.sendBuf.copyOut(offset, len, bytes, hl);
    const c = finishChecksum(sumBytes(bytes, 0, total, this.pseudoSum + total));
    bytes[16] = c >> 8;
    bytes[17] = c & 255;
    this.counters.segmentsSent++;
    out.push({ src: this.localAddress, dst: this.remoteAddress, segment: bytes, headroom });
  }

  /**
   * The window to advertise (RFC 9293 §3.8.6.2.2 receiver SWS avoidance; §3.8.6.2.1 never shrink
   * the right edge), already shifted by our window scale. Updates the advertised right edge.
   */
  private selectWindow(): number {
    const shift = this.rcvWscale;
    let free = this.readClosed ? this.rcvBuf.capacity : this.rcvBuf.free;
    const maxWnd = MAX_UNSCALED_WINDOW << shift;
    if (free > maxWnd) free = maxWnd;
    const current = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    let wnd = free;
    if (wnd < current) wnd = current;
    else if (wnd - current < Math.min(this.rcvBuf.capacity / 2, this.rcvMss)) wnd = current;
    let field = wnd >>> shift;
    if (field << shift < current) field++; // round up so the right edge never moves left
    if (field > MAX_UNSCALED_WINDOW) field = MAX_UNSCALED_WINDOW;
    this.rcvAdvEdge = seqAdd(this.rcvNxt, field << shift);
    return field;
  }

  /** After the application read: announce a window that opened substantially. */
  private afterRead(): void {
    if (!this.synAcked || this.finReceived) return;
    const current = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    const free = Math.min(this.rcvBuf.free, MAX_UNSCALED_WINDOW << this.rcvWscale);
    const threshold = Math.min(this.rcvBuf.capacity / 2, 2 * this.rcvMss);
    if (free - current >= threshold && (free >= 2 * current || current < 2 * this.rcvMss)) {
      this.ack.ackNow();
      this.markDirty();
    }
  }

  // =============================================================================================
  // Helpers
  // =============================================================================================

  private effMss(): number {
    return this.sndMssRaw - (this.tsOk ? TS_OPTION_BYTES : 0);
  }

  /** Payload that fits in the next segment, after the options it will carry (timestamps, SACK blocks). */
  private payloadRoom(): number {
    let room = this.effMss();
    const islands = this.sackOk ? this.rcvBuf.islandCount : 0;
    if (islands > 0) room -= 4 + 8 * Math.min(islands, this.tsOk ? 3 : 4);
    return room;
  }

  private tsNow(now: number): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }

  private writable(): boolean {
    if (this.writeShut) return false;
    const s = this._state;
    return s === 'SYN-SENT' || s === 'SYN-RECEIVED' || s === 'ESTABLISHED' || s === 'CLOSE-WAIT';
  }

  /** Applies the options of the peer's SYN (RFC 9293 §3.7.1, RFC 7323 §1.3, RFC 2018 §2). */
  private negotiate(seg: TcpRepr, passive: boolean): void {
    const defaultMss = this.isV6 ? DEFAULT_MSS_IPV6 : DEFAULT_MSS_IPV4;
    const peerMss = seg.mss !== undefined && seg.mss > 0 ? seg.mss : defaultMss;
    this.sndMssRaw = Math.max(64, Math.min(peerMss, this.advMss));
    this.sackOk = this.opts.sack && seg.sackPermitted === true;
    this.tsOk = this.opts.timestamps && seg.tsVal !== undefined;
    if (this.tsOk) this.tsRecent = seg.tsVal!;
    if (this.opts.windowScaling && seg.windowScale !== undefined) {
      this.sndWscale = seg.windowScale;
      this.wsAgreed = true;
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
    void passive;
    this.cc.setMss(this.effMss());
    this.cc.cwnd = Math.max(this.cc.cwnd, 0);
  }

  private establish(): void {
    this.setState('ESTABLISHED');
    this.cc.setMss(this.effMss());
    this.autoTune.start(this.lastNow, this.rcvBuf);
    this.armKeepalive();
    if (this.passive) this.host.socketEstablished(this);
    else this.queueEvent('connected');
    // A close/shutdownWrite issued during the handshake takes effect now.
    if (this.finQueued) this.setState('FIN-WAIT-1');
    if (this.sendBuf.free > 0 && this.wantWritable) {
      this.wantWritable = false;
      this.queueEvent('writable');
    }
  }

  private enterTimeWait(now: number): void {
    this.setState('TIME-WAIT');
    this.timers.rto = Infinity;
    this.timers.persist = Infinity;
    this.timers.keepalive = Infinity;
    this.ack.cancelDelayed();
    this.timers.linger = now + this.opts.timeWaitMs;
    this.queueEvent('closed');
  }

  private challengeAck(now: number): void {
    // RFC 5961 §7: bound the ACKs an attacker can elicit.
    if (this.ack.allowChallengeAck(now)) this.markDirty();
  }

  /** RST for a bad segment in SYN-SENT/SYN-RECEIVED: <SEQ=SEG.ACK><CTL=RST>. */
  private sendRstFor(seq: number, ack: number, withAck: boolean): void {
    const repr: TcpRepr = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack: withAck ? ack : 0,
      flags: TcpFlag.RST | (withAck ? TcpFlag.ACK : 0),
      window: 0,
      payload: EMPTY,
    };
    const list: TcpOutput[] = [];
    this.finishSegment(list, repr, 0, 0);
    this.host.sendControl(list[0]);
  }

  /** ABORT: <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5). */
  private emitRstNow(): void {
    if (!this.pendingRst) return;
    this.pendingRst = false;
    const repr: TcpRepr = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: this.sndMax,
      ack: this.rcvNxt,
      flags: TcpFlag.RST | TcpFlag.ACK,
      window: 0,
      payload: EMPTY,
    };
    const list: TcpOutput[] = [];
    this.finishSegment(list, repr, 0, 0);
    this.host.sendControl(list[0]);
  }

  private fail(code: TcpErrorCode, message: string): void {
    if (this._state === 'CLOSED') return;
    if (this.passive && this._state === 'SYN-RECEIVED') {
      this.terminate(undefined);
      return;
    }
    this.error = { code, message };
    this.queueEvent('error');
    this.terminate(code);
  }

  /** Enters CLOSED, drops buffers and timers, tells the host. */
  private terminate(_code: TcpErrorCode | undefined): void {
    if (this._state === 'CLOSED') return;
    const wasOver = this._state === 'TIME-WAIT';
    this.setState('CLOSED');
    this.sendBuf.clear();
    if (this.error) this.rcvBuf.clear();
    this.timers.rto = this.timers.persist = this.timers.keepalive = this.timers.linger = Infinity;
    this.ack.cancel();
    this.dirty = false;
    if (!wasOver) this.queueEvent('closed');
    this.host.socketReleased(this);
    this.host.socketNeedsAttention(this);
  }

  /** Re-reads the state (TypeScript narrows `_state` across calls that change it). */
  private isClosed(): boolean {
    return this._state === 'CLOSED';
  }

  private setState(s: TcpState): void {
    this._state = s;
  }

  private queueEvent(ev: TcpSocketEvent): void {
    this.pendingEvents |= EVENT_BITS[ev];
    this.host.socketNeedsAttention(this);
  }

  private markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.host.socketNeedsAttention(this);
  }
}

const EMPTY = new Uint8Array(0);
/** Where outgoing segments are built; they live only until the IP layer copied them. */
const segmentSlab = new ByteSlab();
