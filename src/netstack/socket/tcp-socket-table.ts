/**
 * All TCP connections and listeners of one interface: demultiplexing, port allocation, and the
 * replies RFC 9293 gives when no connection matches. This is the TCP side of the
 * {@link TransportLayer} contract with NetInterface.
 *
 *   NetInterface ──receive(segment, src, dst)──▶ parseTcp ──▶ 4-tuple lookup ──▶ TcpSocket.receive
 *                                                       └─▶ listener (SYN → new socket) / RST (§3.10.7.1)
 *   NetInterface ──poll(now)──▶ control RSTs + TcpSocket.dispatch for every socket due ──▶ segments
 *   NetInterface ──pollAt()──▶ earliest socket timer (or now when output is pending)
 *   NetInterface ──handleIcmpError──▶ TcpSocket.handleIcmp (PMTU, unreachable)
 *
 * Owner callbacks (`onEvent` of sockets and listeners) run at the end of each of those calls,
 * never in the middle of processing a segment, so they may call back into sockets freely.
 */
import { ipEquals, type IpAddress } from '../../shared/ip-address.ts';
import { emitTcp, parseTcp, TcpFlag, type TcpRepr } from '../wire/tcp.ts';
import { DEFAULT_BACKLOG } from './tcp-constants.ts';
import { EPHEMERAL_PORT_MAX, EPHEMERAL_PORT_MIN } from '../netstack-constants.ts';
import { IsnGenerator } from './tcp-isn.ts';
import { webCryptoRandomBytes, type RandomBytes } from '../../shared/bytes.ts';
import type { IcmpErrorReport, TransportLayer } from '../net-interface.ts';
import { TcpListener, type TcpListenerHost } from './tcp-listener.ts';
import { resolveTcpOptions, TcpSocket, type ResolvedTcpOptions, type TcpOutput, type TcpSocketHost, type TcpSocketOptions } from './tcp-socket.ts';
import { seqAdd } from './tcp-seq.ts';
import { DEFAULT_MTU } from '../../shared/wg-quick-config.ts';
import { RecyclingSlab } from '../../shared/byte-slab.ts';

/** Options of a {@link TcpSocketTable}. */
export interface TcpSocketTableOptions {
  /** CSPRNG for ISN keys and port choice (default Web Crypto). */
  randomBytes?: RandomBytes;
  /** MTU of the interface (default 1420, WireGuard's): MSS = MTU - 40 (IPv4) or - 60 (IPv6). */
  mtu?: number;
  /** Defaults for every socket; per-connection options override them. */
  socketOptions?: TcpSocketOptions;
  /**
   * The segments `poll` returns are valid until the next `poll`, which builds its segments in the
   * same memory (a {@link RecyclingSlab}) instead of fresh slabs: for an owner done with each
   * segment, and with whatever was built around it in place (its IP packet, its sealed datagram),
   * before it polls again, as the EventLoop of a Session is (#19: writing fresh memory was the
   * upload's largest per-packet cost in a browser worker). Default false.
   */
  reuseSegmentMemory?: boolean;
}

/** Arguments of {@link TcpSocketTable.connect}. */
export interface TcpConnectRequest {
  localAddress: IpAddress;
  remoteAddress: IpAddress;
  remotePort: number;
  /** Absent or 0: a random free ephemeral port (RFC 6056 algorithm 1). */
  localPort?: number;
  options?: TcpSocketOptions;
}

/** Arguments of {@link TcpSocketTable.listen}. */
export interface TcpListenRequest {
  port: number;
  /** Bind to one local address; absent: all addresses. */
  address?: IpAddress;
  /** Half-open plus unaccepted connections allowed (default 64); further SYNs are dropped. */
  backlog?: number;
  options?: TcpSocketOptions;
}

/** Drop and reply counters by reason. */
export interface TcpTableStats {
  sockets: number;
  listeners: number;
  drops: Record<string, number>;
  resetsSent: number;
}


/** TCP for one network interface; see the file header for the flow. */
export class TcpSocketTable implements TransportLayer, TcpSocketHost, TcpListenerHost {
  private readonly buckets = new Map<number, TcpSocket[]>();
  private readonly sockets = new Set<TcpSocket>();
  private readonly listeners = new Map<number, TcpListener[]>();
  private control: TcpOutput[] = [];
  private attention = new Set<TcpSocket>();
  private spareAttention = new Set<TcpSocket>();
  private readonly listenerAttention = new Set<TcpListener>();
  private readonly isn: IsnGenerator;
  private readonly random: RandomBytes;
  private readonly defaults: ResolvedTcpOptions;
  private readonly mtu: number;
  private lastNow = 0;
  private cache: TcpSocket | undefined = undefined;
  private readonly drops: Record<string, number> = {};
  private resetsSent = 0;
  private flushing = false;
  /** TcpSocketTableOptions.reuseSegmentMemory. */
  private readonly segmentMemory: RecyclingSlab | undefined;

  constructor(options: TcpSocketTableOptions = {}) {
    this.random = options.randomBytes ?? webCryptoRandomBytes;
    this.isn = new IsnGenerator(this.random);
    const mtu = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new RangeError(`mtu must be an integer from 576 to 65535, not ${mtu}`);
    this.mtu = mtu;
    this.defaults = resolveTcpOptions(options.socketOptions ?? {});
    this.segmentMemory = options.reuseSegmentMemory === true ? new RecyclingSlab() : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Application API
  // ---------------------------------------------------------------------------------------------

  /**
   * Active open (RFC 9293 §3.10.1): returns a socket in SYN-SENT; the SYN leaves at the next poll.
   * @throws {RangeError} on bad addresses/ports, a local port whose 4-tuple is taken (also in
   *   TIME-WAIT), or when no ephemeral port is free.
   */
  connect(request: TcpConnectRequest, now: number): TcpSocket {
    const { localAddress, remoteAddress, remotePort } = request;
    checkAddress(localAddress, 'localAddress');
    checkAddress(remoteAddress, 'remoteAddress');
    if (localAddress.length !== remoteAddress.length) throw new RangeError('localAddress and remoteAddress must both be IPv4 or both be IPv6');
    checkPort(remotePort, 'remotePort');
    const options = request.options ? resolveTcpOptions(request.options, this.defaults) : this.defaults;
    let localPort = request.localPort ?? 0;
    if (localPort !== 0) {
      checkPort(localPort, 'localPort');
      if (this.lookup(localAddress, localPort, remoteAddress, remotePort)) {
        throw new RangeError(`local port ${localPort} is already in use toward that remote address and port (possibly in TIME-WAIT)`);
      }
    } else {
      localPort = this.allocatePort(localAddress, remoteAddress, remotePort);
    }
    this.lastNow = now;
    const { isn, tsOffset } = this.isn.generate(localAddress, localPort, remoteAddress, remotePort, now);
    const socket = new TcpSocket(this, options, this.mtu, copy(localAddress), localPort, copy(remoteAddress), remotePort, isn, tsOffset, false);
    this.add(socket);
    socket.openActive(now);
    return socket;
  }

  /**
   * Passive open (RFC 9293 §3.10.1): accept connections on `port`.
   * @throws {RangeError} on a bad port/backlog or when another listener already holds the port.
   */
  listen(request: TcpListenRequest): TcpListener {
    checkPort(request.port, 'port');
    if (request.address !== undefined) checkAddress(request.address, 'address');
    const backlog = request.backlog ?? DEFAULT_BACKLOG;
    if (!Number.isInteger(backlog) || backlog < 1) throw new RangeError(`backlog must be a positive integer, not ${backlog}`);
    const list = this.listeners.get(request.port) ?? [];
    for (const l of list) {
      if (l.address === undefined || request.address === undefined || ipEquals(l.address, request.address)) {
        throw new RangeError(`port ${request.port} already has a listener`);
      }
    }
    const options = request.options ? resolveTcpOptions(request.options, this.defaults) : this.defaults;
    const listener = new TcpListener(this, request.port, request.address ? copy(request.address) : undefined, backlog, options);
    list.push(listener);
    this.listeners.set(request.port, list);
    return listener;
  }

  /** Counters: drops by reason, RSTs sent, live sockets. */
  stats(): TcpTableStats {
    let listeners = 0;
    for (const l of this.listeners.values()) listeners += l.length;
    return { sockets: this.sockets.size, listeners, drops: { ...this.drops }, resetsSent: this.resetsSent };
  }

  /** Live sockets (all states but CLOSED), for diagnostics. */
  get connections(): readonly TcpSocket[] {
    return [...this.sockets];
  }

  // ---------------------------------------------------------------------------------------------
  // TransportLayer
  // ---------------------------------------------------------------------------------------------

  receive(segment: Uint8Array, src: IpAddress, dst: IpAddress, now: number): void {
    this.lastNow = now;
    const seg = parseTcp(segment);
    if (typeof seg === 'string') {
      this.drop(seg);
      return;
    }
    if (seg.srcPort === 0 || seg.dstPort === 0) {
      this.drop('tcp-port-zero');
      return;
    }
    let socket = this.lookup(dst, seg.dstPort, src, seg.srcPort);
    if (socket && socket.isTimeWait && (seg.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) {
      // RFC 6191 / RFC 1122 §4.2.2.13: a new SYN may reopen a 4-tuple in TIME-WAIT.
      const listener = this.findListener(dst, seg.dstPort);
      if (listener && socket.reuseFromTimeWait(seg)) socket = undefined;
    }
    if (socket) {
      socket.receive(seg, now);
    } else {
      const listener = this.findListener(dst, seg.dstPort);
      if (listener) this.receiveOnListener(listener, seg, src, dst, now);
      else this.replyToClosed(seg, src, dst, 'tcp-no-socket');
    }
    this.flush();
  }

  poll(now: number): TcpOutput[] {
    this.lastNow = now;
    // The owner is done with the last poll's segments (reuseSegmentMemory); segments queued since
    // (RSTs, immediate duplicate ACKs) still wait to be returned, so their memory is kept.
    if (this.segmentMemory && this.control.length === 0) this.segmentMemory.recycle();
    const out: TcpOutput[] = [];
    for (let round = 0; round < 4; round++) {
      if (this.control.length > 0) {
        for (const c of this.control) out.push(c);
        this.control = [];
      }
      let any = false;
      for (const s of this.sockets) {
        if (s.pollAt() <= now) {
          s.dispatch(now, out);
          any = true;
        }
      }
      this.flush();
      if (!any && this.control.length === 0) break;
      // Event callbacks may have queued data or closed sockets: one more round sends it now.
      let again = this.control.length > 0;
      if (!again) for (const s of this.sockets) if (s.pollAt() <= now) again = true;
      if (!again) break;
    }
    return out;
  }

  pollAt(): number {
    if (this.control.length > 0) return this.lastNow;
    let t = Infinity;
    for (const s of this.sockets) {
      const w = s.pollAt();
      if (w < t) t = w;
    }
    return t;
  }

  handleIcmpError(error: Pick<IcmpErrorReport, 'kind' | 'mtu' | 'src' | 'dst' | 'srcPort' | 'dstPort'>, now: number): void {
    this.lastNow = now;
    // The quoted packet is one we sent: src is ours. Accept the reverse orientation too.
    const socket =
      this.lookup(error.src, error.srcPort, error.dst, error.dstPort) ?? this.lookup(error.dst, error.dstPort, error.src, error.srcPort);
    if (!socket) {
      this.drop('icmp-no-socket');
      return;
    }
    socket.handleIcmp(error.kind, error.mtu, now);
    this.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Hosts for sockets and listeners
  // ---------------------------------------------------------------------------------------------

  /** @internal */
  /** @internal Memory for one outgoing segment (TcpSocketHost.takeSegment). */
  takeSegment(n: number): Uint8Array | undefined {
    return this.segmentMemory?.take(n);
  }

  sendControl(out: TcpOutput): void {
    if (out.segment[13] & TcpFlag.RST) this.resetsSent++;
    this.control.push(out);
  }

  /** @internal */
  socketNeedsAttention(socket: TcpSocket): void {
    this.attention.add(socket);
  }

  /** @internal */
  socketEstablished(socket: TcpSocket): void {
    const listener = socket.listenerRef as TcpListener | undefined;
    if (!listener || listener.closed) {
      socket.abort();
      return;
    }
    listener.enqueue(socket);
  }

  /** @internal */
  socketReleased(socket: TcpSocket): void {
    if (!this.sockets.delete(socket)) return;
    const key = socket.localPort * 65536 + socket.remotePort;
    const bucket = this.buckets.get(key);
    if (bucket) {
      const i = bucket.indexOf(socket);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.buckets.delete(key);
    }
    if (this.cache === socket) this.cache = undefined;
    const listener = socket.listenerRef as TcpListener | undefined;
    if (listener) {
      listener.forget(socket);
      socket.listenerRef = undefined;
    }
  }

  /** @internal */
  listenerClosed(listener: TcpListener): void {
    const list = this.listeners.get(listener.port);
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(listener.port);
  }

  /** @internal */
  listenerNeedsAttention(listener: TcpListener): void {
    this.listenerAttention.add(listener);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------------------------

  private add(socket: TcpSocket): void {
    this.sockets.add(socket);
    const key = socket.localPort * 65536 + socket.remotePort;
    const bucket = this.buckets.get(key);
    if (bucket) bucket.push(socket);
    else this.buckets.set(key, [socket]);
  }

  private lookup(local: IpAddress, localPort: number, remote: IpAddress, remotePort: number): TcpSocket | undefined {
    const c = this.cache;
    if (c && c.localPort === localPort && c.remotePort === remotePort && ipEquals(c.remoteAddress, remote) && ipEquals(c.localAddress, local)) return c;
    const bucket = this.buckets.get(localPort * 65536 + remotePort);
    if (!bucket) return undefined;
    for (const s of bucket) {
      if (ipEquals(s.remoteAddress, remote) && ipEquals(s.localAddress, local)) {
        this.cache = s;
        return s;
      }
    }
    return undefined;
  }

  private findListener(local: IpAddress, port: number): TcpListener | undefined {
    const list = this.listeners.get(port);
    if (!list) return undefined;
    let wildcard: TcpListener | undefined;
    for (const l of list) {
      if (l.address === undefined) wildcard = l;
      else if (ipEquals(l.address, local)) return l;
    }
    return wildcard;
  }

  /** RFC 9293 §3.10.7.2 (LISTEN). */
  private receiveOnListener(listener: TcpListener, seg: TcpRepr, src: IpAddress, dst: IpAddress, now: number): void {
    const f = seg.flags;
    if (f & TcpFlag.RST) {
      this.drop('tcp-listen-rst');
      return;
    }
    if (f & TcpFlag.ACK) {
      this.replyToClosed(seg, src, dst, 'tcp-listen-ack');
      return;
    }
    if (!(f & TcpFlag.SYN)) {
      this.drop('tcp-listen-no-syn');
      return;
    }
    if (dst.length !== src.length) {
      this.drop('tcp-family-mismatch');
      return;
    }
    if (!listener.hasRoom()) {
      // Like Linux without SYN cookies: drop, the peer's SYN retransmission tries again.
      this.drop('tcp-listen-overflow');
      return;
    }
    const { isn, tsOffset } = this.isn.generate(dst, seg.dstPort, src, seg.srcPort, now);
    const socket = new TcpSocket(this, listener.socketOptions, this.mtu, copy(dst), seg.dstPort, copy(src), seg.srcPort, isn, tsOffset, true);
    socket.listenerRef = listener;
    listener.embryonic.add(socket);
    this.add(socket);
    socket.openPassive(seg, now);
  }

  /** RFC 9293 §3.10.7.1: a segment for no connection gets a RST unless it is one. */
  private replyToClosed(seg: TcpRepr, src: IpAddress, dst: IpAddress, reason: string): void {
    this.drop(reason);
    if (seg.flags & TcpFlag.RST) return;
    let repr: TcpRepr;
    if (seg.flags & TcpFlag.ACK) {
      repr = { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: TcpFlag.RST, window: 0, payload: EMPTY };
    } else {
      const len = seg.payload.length + (seg.flags & TcpFlag.SYN ? 1 : 0) + (seg.flags & TcpFlag.FIN ? 1 : 0);
      repr = { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: 0, ack: seqAdd(seg.seq, len), flags: TcpFlag.RST | TcpFlag.ACK, window: 0, payload: EMPTY };
    }
    this.sendControl({ src: dst, dst: src, segment: emitTcp(repr, dst, src) });
  }

  private allocatePort(local: IpAddress, remote: IpAddress, remotePort: number): number {
    const span = EPHEMERAL_PORT_MAX - EPHEMERAL_PORT_MIN + 1;
    const free = (p: number) => !this.lookup(local, p, remote, remotePort) && !this.listeners.has(p);
    // RFC 6056 §3.3.1 (algorithm 1): uniformly random, then a scan from a random start.
    for (let i = 0; i < 32; i++) {
      const r = this.random(2);
      const p = EPHEMERAL_PORT_MIN + (((r[0] << 8) | r[1]) % span);
      if (free(p)) return p;
    }
    const r = this.random(2);
    const start = ((r[0] << 8) | r[1]) % span;
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_PORT_MIN + ((start + i) % span);
      if (free(p)) return p;
    }
    throw new RangeError('no free ephemeral port toward that remote address and port');
  }

  private drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  /** Delivers queued owner events (sockets, then listeners); callbacks may queue more. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let round = 0; round < 8 && (this.attention.size > 0 || this.listenerAttention.size > 0); round++) {
        // Swap the set out (no allocation per segment): callbacks may add to the fresh one.
        const sockets = this.attention;
        this.attention = this.spareAttention;
        this.spareAttention = sockets;
        for (const s of sockets) s.flushEvents();
        sockets.clear();
        if (this.listenerAttention.size > 0) {
          const listeners = [...this.listenerAttention];
          this.listenerAttention.clear();
          for (const l of listeners) l.flushEvents();
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

const EMPTY = new Uint8Array(0);

function copy(a: IpAddress): IpAddress {
  return Uint8Array.from(a);
}

function checkAddress(a: IpAddress, name: string): void {
  if (!(a instanceof Uint8Array) || (a.length !== 4 && a.length !== 16)) throw new TypeError(`${name} must be a 4- or 16-byte IpAddress`);
}

function checkPort(p: number, name: string): void {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`${name} must be an integer from 1 to 65535, not ${String(p)}`);
}
