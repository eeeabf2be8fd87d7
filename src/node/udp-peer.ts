/**
 * A Node UDP binding for the sans-IO core: wgweb listening as an ordinary WireGuard peer on a UDP
 * port, like `wg-quick up` would. Used by `wgweb peer`, by the built-in demo peer and by the
 * interop tests in which wireguard-go initiates to us.
 *
 *   UDP socket ──datagram──▶ EventLoop.datagramIn ──▶ Tunnel ──▶ NetInterface (answers ICMP echo,
 *        ▲                                                        serves TCP/UDP sockets)
 *        └──────────────── EventLoop output (to the peer's current endpoint) ◀──┘
 *
 * IPv4 and IPv6 share one dual-stack socket when binding to `::`; IPv4 peers then appear as
 * IPv4-mapped addresses, which are normalised back so roaming and `wg show` look as expected.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { WgQuickConfig } from '../shared/wg-quick-config.ts';
import type { Endpoint } from '../shared/ip-address.ts';
import type { TunnelEvent } from '../wireguard/tunnel.ts';
import { EventLoop } from '../engine/event-loop.ts';
import { createStack } from '../engine/stack.ts';

export interface UdpPeerOptions {
  config: WgQuickConfig;
  /** Address to bind; default `0.0.0.0`. Use `::` for dual stack. */
  host?: string;
  /** Overrides the config's ListenPort; 0 picks a free port. */
  port?: number;
  onTunnelEvent?: (event: TunnelEvent) => void;
  onPacket?: (direction: 'in' | 'out', packet: Uint8Array, at: number) => void;
  /**
   * An error thrown while handling a datagram or a timer (a service's bug, say): reported here and
   * contained, the peer keeps serving. Default: logged to stderr.
   */
  onError?: (error: unknown) => void;
}

/** A listening WireGuard peer on a real UDP socket. */
export class UdpPeer {
  readonly loop: EventLoop;
  private readonly socket: Socket;
  private closed = false;

  private constructor(loop: EventLoop, socket: Socket) {
    this.loop = loop;
    this.socket = socket;
  }

  /** Binds the socket and starts answering handshakes. */
  static async start(options: UdpPeerOptions): Promise<UdpPeer> {
    const { config } = options;
    const host = options.host ?? '0.0.0.0';
    const family = isIP(host) === 6 ? 'udp6' : 'udp4';
    // A large receive buffer absorbs bursts while the event loop is busy (RcvbufErrors otherwise).
    const socket = createSocket({ type: family, ipv6Only: false, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    const { tunnel, net } = createStack(config);
    let peer: UdpPeer | undefined;
    const onError = options.onError ?? ((e: unknown) => console.error('wgweb peer: internal error (still serving):', e));
    const loop = new EventLoop({
      onError,
      tunnel,
      net,
      output: (data, endpoint) => peer?.sendTo(data, endpoint),
      onTunnelEvent: options.onTunnelEvent,
      onPacket: options.onPacket,
    });
    peer = new UdpPeer(loop, socket);
    socket.on('message', (msg, rinfo) => {
      const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      // The boundary for everything one datagram sets off (tunnel, stack, the services' callbacks):
      // an error here is this datagram's, never the process's.
      try {
        loop.datagramIn(data, { host: normaliseAddress(rinfo.address), port: rinfo.port });
      } catch (e) {
        onError(e);
        loop.wake(); // the interrupted step re-arms the loop's timer
      }
    });
    // A UDP socket error (e.g. ICMP port unreachable surfacing as ECONNREFUSED) must not end the peer.
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? config.interface.listenPort ?? 0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    loop.step();
    return peer;
  }

  /** The bound UDP port. */
  get port(): number {
    return this.socket.address().port;
  }

  /** The bound address and port. */
  get endpoint(): Endpoint {
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  /** Stops listening and zeroes the keys. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.loop.close();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private sendTo(data: Uint8Array, endpoint: Endpoint): void {
    if (this.closed) return;
    // UDP semantics: a send error (no route, buffer full) is a lost datagram, not a crash.
    let host = endpoint.host;
    if (this.socket.address().family === 'IPv6' && isIP(host) === 4) host = `::ffff:${host}`;
    this.socket.send(data, endpoint.port, host, () => {});
  }
}

function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
