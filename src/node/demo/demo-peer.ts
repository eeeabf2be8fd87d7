/**
 * The built-in demo peer: an ordinary WireGuard peer made of wgweb's own core and netstack
 * (src/node/udp-peer.ts), listening on a UDP port on this machine, with services behind it that a
 * visitor reaches through the tunnel. `wgweb relay` starts one by default on loopback, so wgweb
 * can be tried with nothing else installed (docs/demo.md).
 *
 *   browser ─▶ worker ─▶ WebSocket ─▶ relay ─▶ UDP ─▶ UdpPeer (Tunnel + NetInterface)
 *                                                       ├─ TCP 80  HttpServer ─▶ intranet site
 *                                                       ├─ TCP/UDP 7 echo, 9 discard
 *                                                       ├─ UDP/TCP 53 DNS (intranet.demo)
 *                                                       └─ ICMP echo (NetInterface answers it)
 *
 *   register() ─▶ key pair + next free 10.44.0.N / fd44::N ─▶ tunnel.addPeer(/32 + /128)
 *             ─▶ wg-quick text for the client (Endpoint = this peer's UDP address)
 *   every sweepIntervalMs: DemoRegistry.sweep(rx counters) ─▶ tunnel.removePeer for the expired
 */
import { formatEndpoint, formatIp, formatPrefix, ipEquals, parsePrefix, type Endpoint, type IpAddress, type IpPrefix } from '../../shared/ip-address.ts';
import { formatWgQuickConfig, type WgQuickConfig } from '../../shared/wg-quick-config.ts';
import { formatKey, generatePrivateKey, parseKey, publicKeyFromPrivate } from '../../wireguard/noise-keys.ts';
import type { PeerStats, TunnelEvent } from '../../wireguard/tunnel.ts';
import { TcpSocketTable } from '../../netstack/socket/tcp-socket-table.ts';
import { UdpPeer } from '../udp-peer.ts';
import {
  CLIENT_PERSISTENT_KEEPALIVE,
  DEFAULT_IDLE_TTL_MS,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_PENDING_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEMO_ADDRESS4,
  DEMO_ADDRESS6,
  DEMO_ZONE,
  DISCARD_PORT,
  ECHO_PORT,
  HTTP_PORT,
  SERVER_TCP_OPTIONS,
} from './demo-constants.ts';
import { DNS_PORT } from '../../protocols/dns/dns-constants.ts';
import { DemoRegistry, type DemoRegistration, type ExpiryReason } from './demo-registry.ts';
import { HttpServer, type HttpServerStats } from './http/http-server.ts';
import { startDiscardService } from './services/discard-service.ts';
import { startDnsServer, type DnsServer } from './services/dns-server.ts';
import { DnsZone, type DnsZoneStats } from './services/dns-zone.ts';
import { startEchoService, type StreamService } from './services/echo-service.ts';
import { ServiceGuard } from './services/service-guard.ts';
import { createIntranetSite } from './site/intranet-site.ts';
import type { DemoInfo, DemoSiteHost, DemoVisitor } from './site/site-host.ts';

export type { DemoInfo, DemoVisitor } from './site/site-host.ts';

/** Where the demo peer's log lines go (the relay passes its JSON logger). */
export interface DemoLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

export interface DemoPeerOptions {
  /**
   * UDP address to bind (default 127.0.0.1). Clients' configs name it as their Endpoint, so it
   * must be reachable by whoever sends the UDP: the relay (loopback), or a test namespace.
   */
  host?: string;
  /** UDP port (default 0: a free one). */
  port?: number;
  /** The peer's tunnel addresses with their networks (default 10.44.0.1/24, fd44::1/64). */
  address4?: string;
  address6?: string;
  /** Registrations at once (default 250). */
  maxClients?: number;
  /** Withdraw a config not used within this long (default 5 min). */
  pendingTtlMs?: number;
  /** Withdraw a registration idle this long (default 10 min). */
  idleTtlMs?: number;
  /** How often expiry runs (default 15 s); 0 turns the timer off (tests call sweep()). */
  sweepIntervalMs?: number;
  /** Clock for registrations (default performance.now); tests pass a fake one. */
  now?: () => number;
  /** The peer's private key (default: a fresh one per start). */
  privateKey?: Uint8Array;
  logger?: DemoLogger;
}

/** What `GET /api/demo/config` hands out. */
export interface DemoClientConfig {
  /** The wg-quick `.conf` text. */
  config: string;
  /** The client's keys, base64. The private key is the client's own: it is not kept here. */
  privateKey: string;
  publicKey: string;
  /** `10.44.0.N/32`, `fd44::N/128`. */
  address4: string;
  address6: string;
  /** The demo peer's public key and UDP endpoint (`127.0.0.1:PORT`). */
  peerPublicKey: string;
  endpoint: string;
  /** Seconds the config stays valid without a handshake. */
  expiresIfUnusedInSeconds: number;
  /** Seconds of silence after which a used registration ends. */
  idleTimeoutSeconds: number;
}

/** Why registration failed. */
export class DemoFullError extends Error {
  constructor(readonly capacity: number) {
    super(`the demo peer has ${capacity} clients already; try again in a few minutes, when idle ones have expired`);
    this.name = 'DemoFullError';
  }
}

/** See the module comment. */
export class DemoPeer implements DemoSiteHost {
  readonly peer: UdpPeer;
  readonly registry: DemoRegistry;
  readonly publicKey: string;
  /** Our tunnel addresses with prefix length. */
  readonly prefix4: IpPrefix;
  readonly prefix6: IpPrefix;
  readonly zone: DnsZone;
  readonly http: HttpServer;
  /** Contains each service's errors (counted by service in stats().serviceErrors). */
  readonly guard: ServiceGuard;
  /** When the peer started (registry clock), for the site's uptime. */
  readonly startedAt: number;
  readonly now: () => number;
  private readonly logger: DemoLogger | undefined;
  private readonly services: (StreamService | DnsServer)[];
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly handshakes = new Map<string, number>();
  private closed = false;

  private constructor(
    peer: UdpPeer,
    registry: DemoRegistry,
    prefix4: IpPrefix,
    prefix6: IpPrefix,
    now: () => number,
    logger: DemoLogger | undefined,
    guard: ServiceGuard,
  ) {
    this.peer = peer;
    this.registry = registry;
    this.prefix4 = prefix4;
    this.prefix6 = prefix6;
    this.now = now;
    this.logger = logger;
    this.guard = guard;
    this.startedAt = now();
    this.publicKey = peer.loop.tunnel.publicKey;
    const net = peer.loop.net;
    const tcp = net.tcp;
    if (!(tcp instanceof TcpSocketTable)) throw new TypeError('the UdpPeer has no TCP socket table');
    const wake = (): void => peer.loop.wake();
    this.zone = new DnsZone({
      zone: DEMO_ZONE,
      address4: prefix4.address,
      address6: prefix6.address,
      clientAddresses: (a) => {
        const r = this.registry.byAddress(a);
        return r ? { address4: r.address4, address6: r.address6 } : undefined;
      },
    });
    this.http = new HttpServer({
      listener: tcp.listen({ port: HTTP_PORT, backlog: 128, options: SERVER_TCP_OPTIONS }),
      wake,
      handler: createIntranetSite(this),
      onError: (e) => guard.record('http', e),
    });
    this.services = [
      startEchoService({ net, tcp, wake, guard }),
      startDiscardService({ net, tcp, wake, guard }),
      startDnsServer({ net, tcp, zone: this.zone, wake, guard }),
    ];
  }

  /**
   * Binds the UDP socket and starts the services.
   * @throws {RangeError} for bad options; the socket's error (EADDRINUSE, EADDRNOTAVAIL) when it
   *   cannot bind.
   */
  static async start(options: DemoPeerOptions = {}): Promise<DemoPeer> {
    const prefix4 = parsePrefix(options.address4 ?? DEMO_ADDRESS4);
    const prefix6 = parsePrefix(options.address6 ?? DEMO_ADDRESS6);
    if (prefix4.address.length !== 4) throw new RangeError('address4 must be an IPv4 address with prefix, e.g. 10.44.0.1/24');
    if (prefix6.address.length !== 16) throw new RangeError('address6 must be an IPv6 address with prefix, e.g. fd44::1/64');
    const now = options.now ?? (() => performance.now());
    const registry = new DemoRegistry({
      network4: prefix4,
      network6: prefix6,
      reserved: [prefix4.address, prefix6.address],
      capacity: options.maxClients ?? DEFAULT_MAX_CLIENTS,
      pendingTtlMs: options.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS,
      idleTtlMs: options.idleTtlMs ?? DEFAULT_IDLE_TTL_MS,
    });
    const privateKey = options.privateKey ?? generatePrivateKey();
    const config: WgQuickConfig = {
      interface: { privateKey, addresses: [prefix4, prefix6], dnsServers: [], dnsSearch: [] },
      peers: [],
    };
    let demo: DemoPeer | undefined;
    const guard = new ServiceGuard(options.logger);
    const peer = await UdpPeer.start({
      config,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      onTunnelEvent: (e) => demo?.onTunnelEvent(e),
      // Whatever a datagram sets off inside the peer (tunnel, stack, a service) stays there.
      onError: (e) => guard.record('peer', e),
    });
    try {
      demo = new DemoPeer(peer, registry, prefix4, prefix6, now, options.logger, guard);
    } catch (e) {
      await peer.close();
      throw e;
    }
    const interval = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (interval > 0) {
      demo.sweepTimer = setInterval(() => demo!.sweep(), interval);
      demo.sweepTimer.unref();
    }
    return demo;
  }

  /** The UDP address clients send to (a wildcard bind is shown as loopback). */
  get endpoint(): Endpoint {
    const e = this.peer.endpoint;
    const host = e.host === '0.0.0.0' ? '127.0.0.1' : e.host === '::' ? '::1' : e.host;
    return { host, port: e.port };
  }

  get address4(): IpAddress {
    return this.prefix4.address;
  }

  get address6(): IpAddress {
    return this.prefix6.address;
  }

  /** The demo networks (what clients route into the tunnel). */
  get networks(): IpPrefix[] {
    return [network(this.prefix4), network(this.prefix6)];
  }

  /**
   * Creates a client: a fresh key pair, the next free addresses, a peer entry in our tunnel.
   * @throws {DemoFullError} when every slot is taken.
   */
  register(requestedBy?: string): DemoClientConfig {
    this.checkOpen();
    const privateKey = generatePrivateKey();
    const publicKeyBytes = publicKeyFromPrivate(privateKey);
    const publicKey = formatKey(publicKeyBytes);
    const r = this.registry.register(publicKey, this.now(), requestedBy);
    if (!r) throw new DemoFullError(this.registry.capacity);
    const allowed: IpPrefix[] = [
      { address: r.address4, prefixLength: 32 },
      { address: r.address6, prefixLength: 128 },
    ];
    try {
      this.peer.loop.tunnel.addPeer({ publicKey: publicKeyBytes, allowedIPs: allowed });
    } catch (e) {
      this.registry.release(publicKey);
      throw e;
    }
    const endpoint = this.endpoint;
    const config = formatWgQuickConfig({
      interface: {
        privateKey,
        addresses: allowed,
        dnsServers: [this.address4],
        dnsSearch: [],
      },
      peers: [
        {
          publicKey: parseKey(this.publicKey),
          endpoint,
          allowedIPs: this.networks,
          persistentKeepalive: CLIENT_PERSISTENT_KEEPALIVE,
        },
      ],
    });
    this.logger?.info('demo.registered', { client: publicKey, address4: formatIp(r.address4), address6: formatIp(r.address6), by: requestedBy });
    const result: DemoClientConfig = {
      // Short comment lines: the editor does not wrap, and a phone shows about 36 columns.
      config: `# wgweb demo client\n# made ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n# expires after ${Math.round(this.registry.pendingTtlMs / 60000)} min unused\n${config}`,
      privateKey: formatKey(privateKey),
      publicKey,
      address4: formatPrefix(allowed[0]),
      address6: formatPrefix(allowed[1]),
      peerPublicKey: this.publicKey,
      endpoint: formatEndpoint(endpoint),
      expiresIfUnusedInSeconds: Math.round(this.registry.pendingTtlMs / 1000),
      idleTimeoutSeconds: Math.round(this.registry.idleTtlMs / 1000),
    };
    privateKey.fill(0);
    return result;
  }

  /** Ends a registration now (removes the peer). @returns whether it existed. */
  unregister(publicKey: string): boolean {
    const r = this.registry.release(publicKey);
    if (!r) return false;
    this.removeFromTunnel(publicKey);
    return true;
  }

  /** Expires idle registrations (also run by the timer). @returns what was removed and why. */
  sweep(): { publicKey: string; reason: ExpiryReason }[] {
    if (this.closed) return [];
    const stats = new Map(this.peer.loop.tunnel.stats().peers.map((p) => [p.publicKey, p]));
    const expired = this.registry.sweep(this.now(), (key) => {
      const s = stats.get(key);
      return s ? { rxBytes: s.rxBytes } : undefined;
    });
    for (const { registration, reason } of expired) {
      if (reason !== 'removed') this.removeFromTunnel(registration.publicKey);
      this.logger?.info('demo.expired', { client: registration.publicKey, address4: formatIp(registration.address4), reason });
    }
    return expired.map((e) => ({ publicKey: e.registration.publicKey, reason: e.reason }));
  }

  /** The visitor behind a tunnel address (the site's "you"), if registered. */
  visitor(address: IpAddress): DemoVisitor | undefined {
    const registration = this.registry.byAddress(address);
    if (!registration) return undefined;
    const stats = this.peer.loop.tunnel.stats().peers.find((p) => p.publicKey === registration.publicKey);
    if (stats) this.registry.observe(registration, { rxBytes: stats.rxBytes }, this.now());
    return { registration, stats, expiresAt: this.registry.expiresAt(registration) };
  }

  /** Handshakes completed with `publicKey` since it registered. */
  handshakeCount(publicKey: string): number {
    return this.handshakes.get(publicKey) ?? 0;
  }

  /** True when `address` is one of the demo peer's own addresses. */
  isOwnAddress(address: IpAddress): boolean {
    return ipEquals(address, this.address4) || ipEquals(address, this.address6);
  }

  info(): DemoInfo {
    return {
      publicKey: this.publicKey,
      endpoint: formatEndpoint(this.endpoint),
      address4: formatIp(this.address4),
      address6: formatIp(this.address6),
      networks: this.networks.map(formatPrefix),
      zone: DEMO_ZONE,
      siteUrl: `http://${DEMO_ZONE}/`,
      services: [
        { name: 'http', protocol: 'tcp', port: HTTP_PORT, description: 'the intranet web site, /bytes/N downloads and POST /upload' },
        { name: 'echo', protocol: 'tcp+udp', port: ECHO_PORT, description: 'RFC 862 echo' },
        { name: 'discard', protocol: 'tcp+udp', port: DISCARD_PORT, description: 'RFC 863 discard' },
        { name: 'dns', protocol: 'udp+tcp', port: DNS_PORT, description: `authoritative for ${DEMO_ZONE}` },
        { name: 'ping', protocol: 'icmp', port: 0, description: 'ICMP and ICMPv6 echo' },
      ],
      registrations: { count: this.registry.size, capacity: this.registry.capacity },
      limits: {
        expiresIfUnusedInSeconds: Math.round(this.registry.pendingTtlMs / 1000),
        idleTimeoutSeconds: Math.round(this.registry.idleTtlMs / 1000),
      },
    };
  }

  /** Counters for diagnostics. */
  stats(): { http: HttpServerStats; dns: DnsZoneStats; registrations: number; serviceErrors: Record<string, number> } {
    return { http: this.http.stats(), dns: this.zone.stats(), registrations: this.registry.size, serviceErrors: this.guard.stats() };
  }

  /** Stops the services and the UDP socket; keys are zeroed. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.http.close();
    for (const s of this.services) s.close();
    await this.peer.close();
  }

  private onTunnelEvent(e: TunnelEvent): void {
    if (e.type === 'session-established') {
      this.handshakes.set(e.peer, (this.handshakes.get(e.peer) ?? 0) + 1);
      this.logger?.debug?.('demo.handshake', { client: e.peer });
    }
  }

  private removeFromTunnel(publicKey: string): void {
    this.handshakes.delete(publicKey);
    try {
      this.peer.loop.tunnel.removePeer(publicKey);
    } catch {
      // already gone
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the demo peer is closed');
  }
}

function network(p: IpPrefix): IpPrefix {
  const a = Uint8Array.from(p.address);
  for (let bit = p.prefixLength; bit < a.length * 8; bit++) a[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { address: a, prefixLength: p.prefixLength };
}
