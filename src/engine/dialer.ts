/**
 * The contract between the application layer (DNS resolver, HTTP client) and whatever carries its
 * bytes: the in-tunnel TCP/UDP stack in the worker, or real Node sockets in tests
 * (test/helpers/node-dialer.ts). Isomorphic: streams and promises only, no Node or DOM APIs.
 *
 *   HttpClient / DnsResolver ──▶ Dialer.connectTcp / openUdp ──▶ netstack sockets (worker)
 *                                                             └─▶ node:net / node:dgram (tests)
 *
 * Implementations report failures as {@link WgwebError}s built with the helpers below, so that a
 * user sees the same sentence whichever stack is underneath.
 */
import { WgwebError, ErrorCode } from '../shared/errors.ts';
import { formatEndpoint, formatIp, type IpAddress } from '../shared/ip-address.ts';

/**
 * One established TCP connection.
 *
 * - `readable` yields the bytes the peer sent; it closes (done) on the peer's FIN and errors with a
 *   {@link WgwebError} `CONNECTION_RESET` when the peer resets the connection.
 * - `writable` carries bytes to the peer; a write rejects once the connection is reset or aborted.
 *   Closing the writable (or calling {@link TcpConnection.close}) sends FIN after queued data.
 * - `closed` resolves once the connection is gone in both directions, whether it ended gracefully,
 *   by reset or by {@link TcpConnection.abort}. It never rejects: errors surface on the streams.
 */
export interface TcpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  /** Graceful close: flush queued data, then FIN. Reading may continue until the peer's FIN. */
  close(): void;
  /** Immediate close (RST); pending reads and writes fail with `reason`. */
  abort(reason?: unknown): void;
  readonly closed: Promise<void>;
}

/** What {@link UdpEndpointSocket.receive} resolves to: one datagram and where it came from. */
export interface UdpDatagram {
  readonly address: IpAddress;
  readonly port: number;
  readonly data: Uint8Array;
}

/**
 * An unconnected UDP socket bound to one local port; it can talk to any remote endpoint.
 * Datagrams are queued (boundedly, dropping the excess) until {@link receive} takes them.
 */
export interface UdpEndpointSocket {
  /** Sends one datagram. Never throws for network reasons: UDP delivery is best effort. */
  send(address: IpAddress, port: number, data: Uint8Array): void;
  /**
   * The next datagram to arrive. Rejects with a {@link WgwebError} `ABORTED` when `signal` aborts
   * or the socket is closed, and with the socket's error when it failed (e.g. its port was taken).
   */
  receive(signal?: AbortSignal): Promise<UdpDatagram>;
  close(): void;
}

/** Options for {@link Dialer.connectTcp}. */
export interface ConnectOptions {
  /** Aborts the attempt; the promise then rejects with a {@link WgwebError} `ABORTED`. */
  signal?: AbortSignal;
  /** Gives up after this long with a {@link WgwebError} `TIMEOUT` (no limit when absent). */
  timeoutMs?: number;
}

/** Options for {@link Dialer.openUdp}. */
export interface OpenUdpOptions {
  /**
   * Local port to bind. Absent or 0: the implementation picks a free ephemeral port. The DNS
   * resolver passes a random port per query (RFC 5452 §9.2); if the port is taken, the socket's
   * {@link UdpEndpointSocket.receive} rejects (or `openUdp` throws) and the resolver moves on.
   */
  localPort?: number;
}

/** Opens connections and sockets; implemented by the worker's netstack and by tests. */
export interface Dialer {
  /**
   * Opens a TCP connection. Rejects with a {@link WgwebError}: `CONNECTION_REFUSED` (RST in answer
   * to SYN), `TIMEOUT`, `HOST_UNREACHABLE` (no route, ICMP unreachable), `CONNECTION_RESET`, or
   * `ABORTED`. Build them with {@link connectionRefused} and friends.
   */
  connectTcp(address: IpAddress, port: number, options?: ConnectOptions): Promise<TcpConnection>;
  /** Opens a UDP socket. */
  openUdp(options?: OpenUdpOptions): UdpEndpointSocket;
}

/** `10.0.0.2:9090`, `[fd00::2]:9090`. */
export function formatSocketAddress(address: IpAddress, port: number): string {
  return formatEndpoint({ host: formatIp(address), port });
}

/** The peer answered the SYN with RST (RFC 9293 §3.10.7.3): nothing listens there. */
export function connectionRefused(address: IpAddress, port: number, cause?: unknown): WgwebError {
  const where = formatSocketAddress(address, port);
  return new WgwebError(
    ErrorCode.CONNECTION_REFUSED,
    `connection refused by ${where}: nothing is listening on that port`,
    { address: formatIp(address), port },
    { cause },
  );
}

/** No SYN-ACK within the connect timeout. */
export function connectTimedOut(address: IpAddress, port: number, timeoutMs: number, cause?: unknown): WgwebError {
  const where = formatSocketAddress(address, port);
  return new WgwebError(
    ErrorCode.TIMEOUT,
    `no answer from ${where} within ${timeoutMs} ms: check that the host is up and that the tunnel's AllowedIPs cover it`,
    { address: formatIp(address), port, timeoutMs },
    { cause },
  );
}

/** No route to the host, or an ICMP destination-unreachable (other than port-unreachable) came back. */
export function hostUnreachable(address: IpAddress, port: number, why?: string, cause?: unknown): WgwebError {
  const where = formatSocketAddress(address, port);
  return new WgwebError(
    ErrorCode.HOST_UNREACHABLE,
    `${where} is unreachable${why ? `: ${why}` : ''}`,
    { address: formatIp(address), port },
    { cause },
  );
}

/** The peer reset an established (or half-open) connection. */
export function connectionReset(address: IpAddress, port: number, cause?: unknown): WgwebError {
  const where = formatSocketAddress(address, port);
  return new WgwebError(
    ErrorCode.CONNECTION_RESET,
    `the connection to ${where} was reset by the peer`,
    { address: formatIp(address), port },
    { cause },
  );
}

/** The caller's AbortSignal fired. `reason` (the signal's reason) is kept as the cause. */
export function aborted(what: string, reason?: unknown): WgwebError {
  return new WgwebError(ErrorCode.ABORTED, `${what} was aborted`, {}, { cause: reason });
}
