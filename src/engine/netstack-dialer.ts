/**
 * The {@link Dialer} of the tunnel: TCP connections and UDP sockets on wgweb's own netstack,
 * so the HTTP client and the DNS resolver run unchanged over WireGuard.
 *
 *   connectTcp ──▶ no peer's AllowedIPs hold the address? ──▶ HOST_UNREACHABLE at once
 *              ──▶ net.tcp.connect (SYN at the next poll) ──▶ wait for 'connected' | 'error' | timeout
 *                                                            ──▶ TcpStreamConnection (streams)
 *   openUdp    ──▶ net.udpBind ──▶ receive() waits for the socket's onReadable
 */
import { WgwebError, ErrorCode } from '../shared/errors.ts';
import type { IpAddress } from '../shared/ip-address.ts';
import {
  aborted,
  connectTimedOut,
  hostUnreachable,
  type ConnectOptions,
  type Dialer,
  type OpenUdpOptions,
  type TcpConnection,
  type UdpDatagram,
  type UdpEndpointSocket,
} from './dialer.ts';
import type { NetInterface } from '../netstack/net-interface.ts';
import type { TcpSocketTable } from '../netstack/socket/tcp-socket-table.ts';
import type { UdpSocket } from '../netstack/socket/udp-socket.ts';
import { TcpStreamConnection, tcpErrorToWgweb } from './tcp-stream-connection.ts';

/** Why an address outside every peer's AllowedIPs cannot be reached, in words a user can act on. */
export const NO_PEER_FOR_ADDRESS = "no [Peer]'s AllowedIPs include it, so the tunnel has nowhere to send it (add it to AllowedIPs)";

/** Default connect timeout when the caller gives none (a little under the SYN retry budget). */
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

/** Options of {@link NetstackDialer}. */
export interface NetstackDialerOptions {
  /**
   * Whether the tunnel can carry packets to `address` (some peer's AllowedIPs hold it). A packet
   * without a peer is dropped by cryptokey routing (WireGuard paper §2), so a connection attempt
   * could only time out; kernel WireGuard answers such a send with "host unreachable" at once,
   * and so does this dialer. Absent: every address is tried.
   */
  routable?: (address: IpAddress) => boolean;
}

/** Dials through a {@link NetInterface}; `wake` asks the event loop to run a step. */
export class NetstackDialer implements Dialer {
  private readonly net: NetInterface<TcpSocketTable>;
  private readonly wake: () => void;
  private readonly now: () => number;
  private readonly routable: ((address: IpAddress) => boolean) | undefined;

  constructor(net: NetInterface<TcpSocketTable>, wake: () => void, now: () => number, options: NetstackDialerOptions = {}) {
    this.net = net;
    this.wake = wake;
    this.now = now;
    this.routable = options.routable;
  }

  connectTcp(address: IpAddress, port: number, options: ConnectOptions = {}): Promise<TcpConnection> {
    const tcp = this.net.tcp;
    if (!tcp) return Promise.reject(new WgwebError(ErrorCode.INTERNAL, 'this interface has no TCP'));
    if (isLoopback(address)) {
      return Promise.reject(hostUnreachable(address, port, 'loopback addresses are this machine, not a host inside the tunnel'));
    }
    const localAddress = this.net.sourceAddressFor(address);
    if (!localAddress) {
      const family = address.length === 4 ? 'IPv4' : 'IPv6';
      return Promise.reject(hostUnreachable(address, port, `the config's Address has no ${family} address to send from`));
    }
    if (this.routable && !this.routable(address)) {
      return Promise.reject(hostUnreachable(address, port, NO_PEER_FOR_ADDRESS));
    }
    if (options.signal?.aborted) return Promise.reject(aborted('the connection attempt', options.signal.reason));
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = tcp.connect({ localAddress, remoteAddress: address, remotePort: port }, this.now());
    return new Promise<TcpConnection>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const timer = setTimeout(() => {
        socket.abort();
        this.wake();
        settle(() => reject(connectTimedOut(address, port, timeoutMs)));
      }, timeoutMs);
      const onAbort = (): void => {
        socket.abort();
        this.wake();
        settle(() => reject(aborted('the connection attempt', options.signal?.reason)));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.onEvent = (event) => {
        if (event === 'connected') {
          settle(() => resolve(new TcpStreamConnection(socket, this.wake)));
        } else if (event === 'error' || event === 'closed') {
          const err = socket.error
            ? tcpErrorToWgweb(socket.error, address, port, timeoutMs)
            : hostUnreachable(address, port, 'the connection closed before it was established');
          settle(() => reject(err));
        }
      };
      this.wake();
    });
  }

  openUdp(options: OpenUdpOptions = {}): UdpEndpointSocket {
    return new NetstackUdpSocket(this.net.udpBind(options.localPort || undefined), this.wake);
  }
}

/** {@link UdpEndpointSocket} over a netstack {@link UdpSocket}. */
class NetstackUdpSocket implements UdpEndpointSocket {
  private readonly socket: UdpSocket;
  private readonly wake: () => void;
  private waiters: (() => void)[] = [];

  constructor(socket: UdpSocket, wake: () => void) {
    this.socket = socket;
    this.wake = wake;
    socket.onReadable = () => {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    };
  }

  send(address: IpAddress, port: number, data: Uint8Array): void {
    try {
      this.socket.send(address, port, data);
    } catch {
      // Best effort, like UDP: no source address of that family or a closed socket loses the datagram.
      return;
    }
    this.wake();
  }

  async receive(signal?: AbortSignal): Promise<UdpDatagram> {
    for (;;) {
      if (signal?.aborted) throw aborted('receiving', signal.reason);
      const d = this.socket.recv();
      if (d) return { address: d.address, port: d.port, data: d.data };
      if (this.socket.closed) throw aborted('receiving on a closed socket');
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** 127.0.0.0/8 and ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3) never leave the host. */
function isLoopback(a: IpAddress): boolean {
  if (a.length === 4) return a[0] === 127;
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1;
}
