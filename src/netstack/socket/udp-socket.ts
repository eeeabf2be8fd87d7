/**
 * A UDP socket bound to one local port on a {@link NetInterface} (RFC 768), sans-IO: `send` queues
 * a datagram on the interface, which emits it on its next `poll`; datagrams that arrive wait in a
 * bounded queue until `recv` takes them (the excess is dropped and counted, as UDP allows).
 *
 *   send(address, port, data) ─▶ host.sendUdp ─▶ NetInterface queue ─▶ poll() ─▶ tunnel
 *   tunnel ─▶ NetInterface.receive ─▶ deliver ─▶ queue ─▶ onReadable() ─▶ recv()
 *   ICMP error quoting our datagram ─▶ deliverError ─▶ error queue ─▶ onReadable() ─▶ recvError()
 *
 * Create it with `net.udpBind(port?)`. The async wrappers (streams, promises) live in src/browser/worker.
 */
import type { IpAddress } from '../../shared/ip-address.ts';

/**
 * One datagram received: the Dialer's `UdpDatagram` (address, port, data; src/engine/dialer.ts)
 * plus the local address it was sent to and when it arrived.
 */
export interface ReceivedDatagram {
  /** The sender's address. */
  readonly address: IpAddress;
  /** The sender's port. */
  readonly port: number;
  /** The payload (the socket's own copy). */
  readonly data: Uint8Array;
  /** Our address it was sent to. */
  readonly localAddress: IpAddress;
  /** The `now` of the `receive` call that delivered it. */
  readonly receivedAt: number;
}

/** What an ICMP/ICMPv6 error said about one of our datagrams. */
export interface UdpSocketError {
  /**
   * `unreachable` (port unreachable: nothing listens there; other codes: host/net/admin),
   * `packet-too-big` (with `mtu`), `time-exceeded` (hop limit ran out in transit, or the far end
   * gave up reassembling), `parameter-problem`.
   */
  readonly kind: 'unreachable' | 'packet-too-big' | 'time-exceeded' | 'parameter-problem';
  /** ICMP (4) or ICMPv6 (6): how to read `code`. */
  readonly icmpVersion: 4 | 6;
  /** The ICMP code (e.g. 3 = port unreachable for ICMP, 4 for ICMPv6). */
  readonly code: number;
  /** True for port unreachable: the host answered, nothing listens on that port. */
  readonly portUnreachable: boolean;
  /** The router or host that reported the error. */
  readonly reporter: IpAddress;
  /** Where our datagram was going. */
  readonly address: IpAddress;
  readonly port: number;
  /** The path MTU a `packet-too-big` reported. */
  readonly mtu?: number;
  readonly receivedAt: number;
}

/** What a {@link UdpSocket} needs from its interface; implemented by NetInterface. */
export interface UdpSocketHost {
  /**
   * Queues one datagram from `localPort`; false when the interface's queue was full.
   * @throws {RangeError} on a bad address, port or size, or no local address of that family.
   */
  sendUdp(localPort: number, address: IpAddress, port: number, data: Uint8Array, options?: UdpSendOptions): boolean;
  /** Releases the port. */
  releaseUdp(socket: UdpSocket): void;
}

/** Per-datagram options of {@link UdpSocket.send}. */
export interface UdpSendOptions {
  /**
   * IPv4 TTL / IPv6 hop limit, 1 to 255 (default DEFAULT_TTL / DEFAULT_HOP_LIMIT): traceroute's
   * UDP probes raise it hop by hop, like Linux's IP_TTL / IPV6_UNICAST_HOPS socket options.
   */
  ttl?: number;
}

/** Counters for one socket. */
export interface UdpSocketStats {
  sent: number;
  received: number;
  /** Datagrams dropped because the receive queue was full. */
  dropped: number;
  errors: number;
}

/** Receive-queue limits. */
export interface UdpSocketOptions {
  /** Datagrams held until `recv` (default 128). */
  queueLength?: number;
  /** ICMP errors held until `recvError` (default 16). */
  errorQueueLength?: number;
}

/** A UDP socket bound to one local port. */
export class UdpSocket {
  /** The bound local port. */
  readonly localPort: number;
  /**
   * Called (synchronously, inside `NetInterface.receive`) after a datagram or error is queued. The
   * owner usually resolves a pending promise here; it may call `send` or `recv`.
   */
  onReadable: (() => void) | undefined = undefined;

  private readonly host: UdpSocketHost;
  private readonly queue: ReceivedDatagram[] = [];
  private readonly errorQueue: UdpSocketError[] = [];
  private readonly queueLength: number;
  private readonly errorQueueLength: number;
  private isClosed = false;
  private readonly counters: UdpSocketStats = { sent: 0, received: 0, dropped: 0, errors: 0 };

  /** @internal Use `NetInterface.udpBind`. */
  constructor(host: UdpSocketHost, localPort: number, options: UdpSocketOptions = {}) {
    this.host = host;
    this.localPort = localPort;
    this.queueLength = limit(options.queueLength ?? 128, 'queueLength');
    this.errorQueueLength = limit(options.errorQueueLength ?? 16, 'errorQueueLength');
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Datagrams waiting for {@link recv}. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Sends one datagram to `address`:`port` from this socket's port. Larger than the MTU, it is
   * fragmented (IPv4 and IPv6 alike); delivery is best effort, so a full interface queue drops it
   * (counted in the interface's `stats().drops` as `tx-queue-full`).
   * @returns true when queued, false when dropped for lack of queue space.
   * @throws {TypeError} when the socket is closed.
   * @throws {RangeError} on a bad address/port, a payload above 65507 (IPv4) / 65519 (IPv6)
   * bytes, a TTL outside 1..255, or no local address of the destination's family.
   */
  send(address: IpAddress, port: number, data: Uint8Array, options?: UdpSendOptions): boolean {
    if (this.isClosed) throw new TypeError(`UDP socket on port ${this.localPort} is closed`);
    const queued = this.host.sendUdp(this.localPort, address, port, data, options);
    if (queued) this.counters.sent++;
    return queued;
  }

  /** The oldest received datagram, or `undefined` when none is waiting. */
  recv(): ReceivedDatagram | undefined {
    return this.queue.shift();
  }

  /** The oldest ICMP error about our datagrams, or `undefined`. */
  recvError(): UdpSocketError | undefined {
    return this.errorQueue.shift();
  }

  /** Releases the port; queued datagrams stay readable, further sends throw. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.host.releaseUdp(this);
  }

  stats(): UdpSocketStats {
    return { ...this.counters };
  }

  /** @internal Called by the interface for each datagram to this port. */
  deliver(datagram: ReceivedDatagram): void {
    if (this.queue.length >= this.queueLength) {
      this.counters.dropped++;
      return;
    }
    this.queue.push(datagram);
    this.counters.received++;
    this.onReadable?.();
  }

  /** @internal Called by the interface for each ICMP error quoting one of our datagrams. */
  deliverError(error: UdpSocketError): void {
    this.counters.errors++;
    if (this.errorQueue.length >= this.errorQueueLength) this.errorQueue.shift();
    this.errorQueue.push(error);
    this.onReadable?.();
  }
}

function limit(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, not ${n}`);
  return n;
}
