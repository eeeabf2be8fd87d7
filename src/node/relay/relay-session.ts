/**
 * One relay session: one WebSocket ⇄ one connected UDP socket.
 *
 *   browser ──binary msg──▶ fromClient: text? → close 1003
 *                                       wgweb.v2: split into datagrams (malformed → close 1007)
 *                          per datagram: larger than --max-message? → close 1009
 *                                       WireGuard shape? (else drop "notWireguard")
 *                                       token bucket    (else drop "rateLimited"; sustained → 4005)
 *                                       UDP send queue  (else drop "udpQueueFull")
 *                                       udp.send ──▶ endpoint
 *   browser ◀──binary msg── fromPeer:   WireGuard shape? (else drop "peerNotWireguard")
 *                                       ws.bufferedAmount (+ pending batch) ≤ bound (else drop "backpressure")
 *                                       wgweb.v1: ws.send, one message per datagram
 *                                       wgweb.v2: append to the batch; flushed by setImmediate (after
 *                                                 every datagram of this socket read) or when full
 *                                       wgweb.v3: the same, but in a stream (a read that follows the
 *                                                 last one within --batch-delay, or brought ≥ 8
 *                                                 datagrams) the batch waits up to --batch-delay ms
 *                                                 for the next reads (or until it is full, 256 KiB)
 *                                       ◀── udp "message" ◀── endpoint
 *   (wgweb.v3.stream: while a fetch-stream body is attached, attachDownstream, the batches go
 *    into that body instead of the WebSocket, bounded by its own backlog the same way)
 *
 * The UDP socket is connect()ed to the one allowed address, so the kernel delivers only datagrams
 * from exactly that address and port: nobody else can inject into the session through the relay.
 * Idle time counts only datagrams from the peer: a live WireGuard session always hears from its
 * peer (handshake responses at every rekey, at the latest every 2 min, plus data and keepalives),
 * while junk from the client never gets an answer.
 * Drops follow UDP semantics (WireGuard and TCP inside it recover); nothing is buffered without
 * bound. Messages above the WebSocket server's maxPayload never get here (ws closes with 1009).
 */

import dgram from 'node:dgram';
import type { RawData, WebSocket } from 'ws';
import { describeError } from '../../shared/errors.ts';
import { formatEndpoint, formatIp, type IpAddress } from '../../shared/ip-address.ts';
import { DatagramBatchWriter, parseDatagramBatch } from '../../shared/datagram-batch.ts';
import {
  batchLimits,
  RELAY_SUBPROTOCOL_V3,
  RelayCloseCode,
  type BatchLimits,
  truncateCloseReason,
  wireguardMessageShape,
  type RelaySubprotocol,
} from '../../shared/relay-protocol.ts';
import type { Logger } from './log.ts';
import { TokenBucket } from '../../shared/token-bucket.ts';

/** Why a datagram was dropped (counted, never thrown). */
export type SessionDropReason =
  | 'notWireguard'
  | 'rateLimited'
  | 'udpQueueFull'
  | 'backpressure'
  | 'peerNotWireguard';

export const SESSION_DROP_REASONS: readonly SessionDropReason[] = [
  'notWireguard',
  'rateLimited',
  'udpQueueFull',
  'backpressure',
  'peerNotWireguard',
];

/** Per-session limits, resolved from the relay options. */
export interface SessionLimits {
  /** Token bucket rate for browser → endpoint datagrams. */
  readonly maxPps: number;
  /** Token bucket depth. */
  readonly burst: number;
  /** Rate-limited drops within one second that make the relay close with RATE_LIMITED. */
  readonly rateAbuseDrops: number;
  /** Close with IDLE_TIMEOUT after this long without a datagram from the peer (client datagrams do not count). */
  readonly idleTimeoutMs: number;
  /** Above this many bytes waiting on the WebSocket, datagrams from the endpoint are dropped. */
  readonly maxBufferedBytes: number;
  /** Above this many datagrams waiting in the UDP socket, datagrams from the browser are dropped. */
  readonly maxUdpQueue: number;
  /**
   * `wgweb.v3`: how long (ms) a batch of a bulk flow may wait for more datagrams before it goes to
   * the client (0: every batch leaves at the end of its UDP read, as with `wgweb.v2`).
   */
  readonly batchDelayMs: number;
}

/**
 * `wgweb.v3`: a UDP read that brought at least this many datagrams is a bulk flow, whose batch may
 * wait for the next reads; smaller reads (a ping, a handshake, interactive traffic) leave at once.
 */
export const BULK_READ_DATAGRAMS = 8;

/** Counters of one session. */
export interface SessionCounters {
  datagramsToPeer: number;
  bytesToPeer: number;
  datagramsFromPeer: number;
  bytesFromPeer: number;
  /** WebSocket messages sent to the client (wgweb.v2/v3 batches carry several datagrams each). */
  messagesToClient: number;
  /** Socket errors reported by the kernel (e.g. ICMP port unreachable from the endpoint). */
  udpErrors: number;
  drops: Record<SessionDropReason, number>;
}

export function emptyCounters(): SessionCounters {
  return {
    datagramsToPeer: 0,
    bytesToPeer: 0,
    datagramsFromPeer: 0,
    bytesFromPeer: 0,
    messagesToClient: 0,
    udpErrors: 0,
    drops: { notWireguard: 0, rateLimited: 0, udpQueueFull: 0, backpressure: 0, peerNotWireguard: 0 },
  };
}

/** Adds `b` into `a`. */
export function addCounters(a: SessionCounters, b: SessionCounters): void {
  a.datagramsToPeer += b.datagramsToPeer;
  a.bytesToPeer += b.bytesToPeer;
  a.datagramsFromPeer += b.datagramsFromPeer;
  a.bytesFromPeer += b.bytesFromPeer;
  a.messagesToClient += b.messagesToClient;
  a.udpErrors += b.udpErrors;
  for (const r of SESSION_DROP_REASONS) a.drops[r] += b.drops[r];
}

/** A snapshot of one session for stats(). */
export interface SessionInfo {
  readonly id: number;
  /** The client's address:port as seen by the relay. */
  readonly client: string;
  /** The endpoint as the client named it. */
  readonly endpoint: string;
  /** The address:port the UDP socket is connected to. */
  readonly destination: string;
  /** The relay's own UDP address:port for this session (what the endpoint sees as the source). */
  readonly local: string;
  /** The framing negotiated for this session. */
  readonly protocol: RelaySubprotocol;
  readonly counters: SessionCounters;
}

/**
 * Opens a UDP socket connected to `address`:`port` (so it only receives from there).
 * @throws the socket error (e.g. ENETUNREACH) when the kernel refuses the connect.
 */
export function openConnectedUdp(address: IpAddress, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: address.length === 4 ? 'udp4' : 'udp6' });
    const fail = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // already closed
      }
      reject(err);
    };
    socket.once('error', fail);
    socket.connect(port, formatIp(address), () => {
      socket.off('error', fail);
      // Bigger kernel buffers absorb bursts of a bulk transfer; the kernel caps them at rmem_max/wmem_max.
      try {
        socket.setRecvBufferSize(1 << 20);
        socket.setSendBufferSize(1 << 20);
      } catch {
        // Not fatal: the defaults work, just with more drops under bursts.
      }
      resolve(socket);
    });
  });
}

/**
 * Where a session's datagrams for the client go instead of its WebSocket while attached: the body
 * of its fetch stream (relay-stream-endpoint.ts). It takes whole `wgweb.v2` batches, whose records
 * concatenate into the stream's framing.
 */
export interface ClientDownstream {
  /** Bytes written and not yet handed to the kernel (held against --max-buffer like ws.bufferedAmount). */
  readonly bufferedBytes: number;
  /** Writes one batch of records. */
  write(records: Uint8Array): void;
}

export interface RelaySessionOptions {
  readonly id: number;
  readonly ws: WebSocket;
  /** The negotiated subprotocol: `wgweb.v1` one datagram per message, `wgweb.v2` batches. */
  readonly protocol: RelaySubprotocol;
  readonly udp: dgram.Socket;
  readonly client: string;
  readonly endpoint: string;
  readonly destination: string;
  readonly limits: SessionLimits;
  /** --max-message: the largest datagram, in either framing. */
  readonly maxMessage: number;
  readonly log: Logger;
  /** Monotonic ms. */
  readonly now: () => number;
  /** Called once when the session has ended (either side). */
  readonly onEnd: (session: RelaySession) => void;
}

/** One WebSocket ⇄ one connected UDP socket. Created after the policy allowed the endpoint. */
export class RelaySession {
  readonly id: number;
  readonly client: string;
  readonly endpoint: string;
  readonly destination: string;
  /** The relay's UDP source address:port, as the endpoint sees it (modulo NAT). */
  readonly local: string;
  readonly protocol: RelaySubprotocol;
  readonly counters: SessionCounters = emptyCounters();
  /** Cleared by the relay's ping sweep, set by any pong or message. */
  alive = true;

  private readonly ws: WebSocket;
  private readonly udp: dgram.Socket;
  private readonly limits: SessionLimits;
  private readonly maxMessage: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly onEnd: (session: RelaySession) => void;
  private readonly limiter: TokenBucket;
  private readonly openedAt: number;
  private lastActivity: number;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private windowStart: number;
  private windowDrops = 0;
  private ended = false;
  private udpClosed = false;
  /** wgweb.v2/v3: datagrams from the peer waiting for the flush; undefined with wgweb.v1. */
  private readonly batch: DatagramBatchWriter | undefined;
  /** wgweb.v2/v3: the bounds of a client → relay batch. */
  private readonly upLimits: BatchLimits | undefined;
  private flushScheduled = false;
  /** wgweb.v3 with a batch delay: a held batch's deadline timer. */
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  /** Datagrams added since the last end-of-read check (the size of this UDP read). */
  private readCount = 0;
  /** The last batch left because it was full: the flow is still a bulk one. */
  private lastFlushFull = false;
  /** When the last UDP read that brought datagrams ended (ms, the session's clock). */
  private lastReadAt = -Infinity;
  private readonly batchDelayMs: number;
  /** A fetch-stream body carrying the downstream instead of the WebSocket (batched framings only). */
  private downstream: ClientDownstream | undefined;

  constructor(o: RelaySessionOptions) {
    this.id = o.id;
    this.ws = o.ws;
    this.udp = o.udp;
    this.client = o.client;
    this.endpoint = o.endpoint;
    this.destination = o.destination;
    const la = o.udp.address();
    this.local = formatEndpoint({ host: la.address, port: la.port });
    this.protocol = o.protocol;
    const down = batchLimits(o.protocol, 'down');
    this.batch = down ? new DatagramBatchWriter(down) : undefined;
    this.upLimits = batchLimits(o.protocol, 'up');
    this.batchDelayMs = o.protocol === RELAY_SUBPROTOCOL_V3 ? o.limits.batchDelayMs : 0;
    this.limits = o.limits;
    this.maxMessage = o.maxMessage;
    this.log = o.log;
    this.now = o.now;
    this.onEnd = o.onEnd;
    this.limiter = new TokenBucket({ ratePerSecond: o.limits.maxPps, burst: o.limits.burst });
    this.openedAt = this.lastActivity = this.windowStart = this.now();

    // The session boundary: an error while handling one message ends this session (1011) and is
    // logged; it never reaches the process or another session.
    // The hot handlers are bound once: no closure per message or datagram (#19, docs/benchmarks.md section 10).
    this.ws.on('message', this.onClientMessage);
    this.ws.on('pong', () => {
      this.alive = true;
    });
    this.ws.on('close', (code, reason) => this.finish('client', code, reason.toString('utf8')));
    this.ws.on('error', (err) => this.log.debug('session.ws_error', { id: this.id, error: err.message }));
    this.udp.on('message', this.onPeerMessage);
    // Without a send callback, send errors arrive here too; ICMP errors on a connected socket
    // (port unreachable) arrive as recvmsg errors. Neither is fatal for a UDP flow.
    this.udp.on('error', (err: NodeJS.ErrnoException) => {
      this.counters.udpErrors++;
      if (this.counters.udpErrors <= 3) this.log.debug('session.udp_error', { id: this.id, code: err.code, syscall: err.syscall });
    });
    this.udp.on('close', () => {
      this.udpClosed = true;
    });
    this.armIdle(this.limits.idleTimeoutMs);
  }

  /** Errors contained by this session's boundary (0 unless the relay has a bug). */
  internalErrors = 0;

  /** ws 'message': one client message, inside the session boundary. */
  private readonly onClientMessage = (data: RawData, isBinary: boolean): void => {
    try {
      this.fromClient(data, isBinary);
    } catch (e) {
      this.contain('fromClient', e);
    }
  };

  /** udp 'message': one datagram from the peer, inside the session boundary. */
  private readonly onPeerMessage = (msg: Buffer): void => {
    try {
      this.fromPeer(msg);
    } catch (e) {
      this.contain('fromPeer', e);
    }
  };

  /** An error thrown by a handler (`where`) ends this session only. */
  private contain(where: string, e: unknown): void {
    this.internalErrors++;
    this.log.error('session.internal_error', { id: this.id, client: this.client, where, error: describeError(e) });
    try {
      this.close(RelayCloseCode.INTERNAL_ERROR, 'relay internal error');
    } catch {
      this.terminate();
    }
  }

  /** Closes the session from the relay side with `code` and `reason` (sent to the client). */
  close(code: number, reason: string): void {
    if (this.ended) return;
    const r = truncateCloseReason(reason);
    // Datagrams already accepted for the client go out ahead of the close frame (wgweb.v2).
    this.flush();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, r);
    this.finish('relay', code, r);
  }

  /** Drops the TCP connection without a close handshake (shutdown deadline, dead peer). */
  terminate(): void {
    this.ws.terminate();
    this.finish('relay', 1006, 'terminated');
  }

  /** Sends a WebSocket ping (the relay's liveness sweep). */
  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }

  /**
   * Sends the downstream into `d` from now on (the pending batch first goes out on the WebSocket,
   * so datagrams keep their order). Only with a batched framing.
   * @throws {TypeError} with wgweb.v1 (no records to stream).
   */
  attachDownstream(d: ClientDownstream): void {
    if (!this.batch) throw new TypeError('a downstream stream needs a batched framing');
    this.flush();
    this.downstream = d;
  }

  /** Back to the WebSocket (the stream ended while the session lives). No-op for another `d`. */
  detachDownstream(d: ClientDownstream): void {
    if (this.downstream !== d) return;
    this.downstream = undefined;
    this.flush();
  }

  /** How long the session has been open (ms, the session's clock). */
  get ageMs(): number {
    return this.now() - this.openedAt;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** A snapshot for stats(). */
  info(): SessionInfo {
    return {
      id: this.id,
      client: this.client,
      endpoint: this.endpoint,
      destination: this.destination,
      local: this.local,
      protocol: this.protocol,
      counters: { ...this.counters, drops: { ...this.counters.drops } },
    };
  }

  private fromClient(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    this.alive = true;
    if (!isBinary) {
      this.close(RelayCloseCode.UNSUPPORTED_DATA, 'text message: the relay carries binary datagrams only');
      return;
    }
    // With the default binaryType ("nodebuffer") ws hands over one Buffer per message.
    const buf = data as Buffer;
    if (!this.batch) {
      this.datagramFromClient(buf);
      return;
    }
    const parsed = parseDatagramBatch(buf, this.upLimits);
    if (!parsed.ok) {
      // RFC 6455 §7.4.1: 1007, data inconsistent with the type of the message. A broken frame
      // means the client's framing is off: guessing where the next record starts could forward
      // garbage, so the session ends (one bad *datagram* inside a good frame is only dropped).
      this.close(RelayCloseCode.INVALID_PAYLOAD, `malformed ${this.protocol} batch: ${parsed.reason}`);
      return;
    }
    for (const d of parsed.datagrams) {
      this.datagramFromClient(d);
      if (this.ended) return;
    }
  }

  /** One datagram from the browser, in either framing: size, shape, rate, queue, send. */
  private datagramFromClient(buf: Uint8Array): void {
    // In wgweb.v1 ws's maxPayload usually enforces this already (1009); it is repeated here because
    // maxPayload also admits wgweb.v2 batches, and in v2 it bounds each datagram.
    if (buf.length > this.maxMessage) {
      this.close(RelayCloseCode.MESSAGE_TOO_BIG, `a ${buf.length}-byte datagram (--max-message ${this.maxMessage})`);
      return;
    }
    if (wireguardMessageShape(buf) === undefined) {
      this.counters.drops.notWireguard++;
      return;
    }
    const now = this.now();
    if (!this.limiter.take(now)) {
      this.counters.drops.rateLimited++;
      if (now - this.windowStart >= 1000) {
        this.windowStart = now;
        this.windowDrops = 0;
      }
      if (++this.windowDrops > this.limits.rateAbuseDrops) {
        this.close(RelayCloseCode.RATE_LIMITED, `more than ${this.limits.maxPps} datagrams per second`);
      }
      return;
    }
    if (this.udpClosed) return;
    if (this.udp.getSendQueueCount() > this.limits.maxUdpQueue) {
      this.counters.drops.udpQueueFull++;
      return;
    }
    this.udp.send(buf);
    this.counters.datagramsToPeer++;
    this.counters.bytesToPeer += buf.length;
    // Not activity: only what the peer sends back keeps a session alive, so a client firing
    // WireGuard-shaped junk (that no peer answers) still meets the idle timeout.
  }

  private fromPeer(msg: Buffer): void {
    if (this.ended) return;
    if (wireguardMessageShape(msg) === undefined) {
      this.counters.drops.peerNotWireguard++;
      return;
    }
    if (this.ws.readyState !== this.ws.OPEN) return;
    // UDP semantics instead of unbounded buffering when the browser reads slower than the peer
    // sends; per datagram in both framings (a pending batch counts as already buffered).
    if ((this.downstream ? this.downstream.bufferedBytes : this.ws.bufferedAmount) + (this.batch?.byteLength ?? 0) > this.limits.maxBufferedBytes) {
      this.counters.drops.backpressure++;
      return;
    }
    if (this.batch) {
      if (!this.batch.fits(msg.length)) this.flush(true);
      this.batch.add(msg);
      this.readCount++;
      // Coalesce what arrives close together: libuv delivers every datagram of one socket read
      // in the poll phase, and setImmediate runs right after it, so a batch collects one read's
      // worth and a lone datagram waits no more than that one turn of the event loop.
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.endOfRead();
        });
      }
    } else {
      this.ws.send(msg, { binary: true });
      this.counters.messagesToClient++;
    }
    this.counters.datagramsFromPeer++;
    this.counters.bytesFromPeer += msg.length;
    this.lastActivity = this.now();
  }

  /**
   * After the datagrams of one UDP read were batched. `wgweb.v2` (and v3 without a delay): the
   * batch leaves now. `wgweb.v3`: in a stream the batch waits up to `batchDelayMs` so the next
   * reads join it: a browser pays per message, and an ACK-clocked TCP flow arrives a few datagrams
   * per read (#19: 8 datagrams, 10 KiB, per message on average in a browser download,
   * docs/benchmarks.md). A stream is a read that follows the previous one within the delay, a
   * read of at least {@link BULK_READ_DATAGRAMS}, or one after a batch that filled up. A held
   * batch leaves when it is full or at the deadline. The first read after a quiet spell (a ping,
   * a handshake, a keystroke) never waits, so idle latency is unchanged.
   */
  private endOfRead(): void {
    const read = this.readCount;
    this.readCount = 0;
    const now = this.now();
    const streaming = now - this.lastReadAt <= this.batchDelayMs;
    this.lastReadAt = now;
    if (this.holdTimer !== undefined) return;
    if (this.batchDelayMs > 0 && this.batch!.count > 0 && (streaming || read >= BULK_READ_DATAGRAMS || this.lastFlushFull)) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.flush();
      }, this.batchDelayMs);
      return;
    }
    this.flush();
  }

  /** wgweb.v2/v3: sends the pending batch as one message (`full`: because the next datagram did not fit). */
  private flush(full = false): void {
    if (this.holdTimer !== undefined) {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
    }
    this.lastFlushFull = full;
    const message = this.batch?.take();
    if (!message || this.ended || this.ws.readyState !== this.ws.OPEN) return;
    if (this.downstream) this.downstream.write(message);
    else this.ws.send(message, { binary: true });
    this.counters.messagesToClient++;
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.ended) return;
      const idle = this.now() - this.lastActivity;
      if (idle >= this.limits.idleTimeoutMs) {
        this.close(RelayCloseCode.IDLE_TIMEOUT, `idle for ${Math.round(this.limits.idleTimeoutMs / 1000)} s`);
      } else this.armIdle(this.limits.idleTimeoutMs - idle);
    }, Math.max(1, ms));
  }

  private finish(by: 'client' | 'relay', code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (!this.udpClosed) {
      try {
        this.udp.close();
      } catch {
        // already closed
      }
      this.udpClosed = true;
    }
    const c = this.counters;
    this.log.info('session.close', {
      id: this.id,
      client: this.client,
      endpoint: this.endpoint,
      destination: this.destination,
      local: this.local,
      protocol: this.protocol,
      by,
      code,
      reason,
      durationMs: Math.round(this.now() - this.openedAt),
      toPeer: c.datagramsToPeer,
      fromPeer: c.datagramsFromPeer,
      bytesToPeer: c.bytesToPeer,
      bytesFromPeer: c.bytesFromPeer,
      messagesToClient: c.messagesToClient,
      udpErrors: c.udpErrors,
      drops: c.drops,
    });
    this.onEnd(this);
  }
}
