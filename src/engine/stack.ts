/**
 * The one place a wg-quick config becomes a running stack: the WireGuard {@link Tunnel} (keys,
 * peers, AllowedIPs) and the {@link NetInterface} with its TCP table, sized by the config's MTU
 * (wg-quick's default when absent). The Session (browser worker and CLI) and the Node UDP peer
 * both build theirs here, then drive it with an EventLoop.
 *
 *   WgQuickConfig ─▶ Tunnel (src/wireguard) + NetInterface + TcpSocketTable (src/netstack)
 */
import { DEFAULT_MTU, type WgQuickConfig } from '../shared/wg-quick-config.ts';
import { NetInterface } from '../netstack/net-interface.ts';
import { TcpSocketTable } from '../netstack/socket/tcp-socket-table.ts';
import { Tunnel } from '../wireguard/tunnel.ts';

/** A stack built from a config. */
export interface WgStack {
  /**
   * Seals in place (TunnelOptions.sealInPlace): give its `sendPacket` only packets that are its to
   * overwrite, as `net.poll`'s are (an EventLoop does exactly that).
   */
  tunnel: Tunnel;
  net: NetInterface<TcpSocketTable>;
  /** The interface MTU in use. */
  mtu: number;
}

/** Options of {@link createStack}. */
export interface StackOptions {
  /**
   * The caller owns every datagram it feeds in and never reads it again, so the tunnel may
   * decrypt in place (TunnelOptions.decryptInPlace: no buffer allocated per received packet).
   * Default false.
   */
  ownsDatagrams?: boolean;
  /**
   * The datagram sink is done with each outgoing datagram when it returns (it copies or sends
   * it at once, as RelayTransport.send does), so TCP builds each poll's segments, and the packets
   * and datagrams made of them in place, in the memory of the previous poll's
   * (TcpSocketTableOptions.reuseSegmentMemory). Default false (a UDP socket may keep a datagram
   * until it is sent).
   */
  sinkCopies?: boolean;
}

/**
 * Builds the tunnel and the network interface for `config`. Wall-clock time for TAI64N is the
 * monotonic clock plus `performance.timeOrigin`, as in both runtimes' event loops.
 */
export function createStack(config: WgQuickConfig, options: StackOptions = {}): WgStack {
  const mtu = config.interface.mtu ?? DEFAULT_MTU;
  const tunnel = new Tunnel(
    {
      privateKey: config.interface.privateKey,
      peers: config.peers.map((p) => ({
        publicKey: p.publicKey,
        presharedKey: p.presharedKey,
        endpoint: p.endpoint,
        allowedIPs: p.allowedIPs,
        persistentKeepalive: p.persistentKeepalive,
      })),
    },
    // net.poll's packets come with the tunnel's room around them (shared/packet-room.ts) and are
    // not read again after sendPacket (the EventLoop hands each to onPacket first): sealed in place.
    { wallClockOffsetMs: performance.timeOrigin, mtu, decryptInPlace: options.ownsDatagrams === true, sealInPlace: true },
  );
  const tcp = new TcpSocketTable({ mtu, reuseSegmentMemory: options.sinkCopies === true });
  const net = new NetInterface<TcpSocketTable>({ addresses: config.interface.addresses, mtu, tcp });
  return { tunnel, net, mtu };
}
