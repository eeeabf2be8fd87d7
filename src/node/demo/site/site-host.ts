/**
 * What the demo site reads from the demo peer, as an interface: the peer implements it and hands
 * itself to createIntranetSite, so the site never imports the peer (no import cycle).
 */
import type { Endpoint, IpAddress } from '../../../shared/ip-address.ts';
import type { PeerStats } from '../../../wireguard/tunnel.ts';
import type { UdpPeer } from '../../udp-peer.ts';
import type { DemoRegistration } from '../demo-registry.ts';
import type { HttpServerStats } from '../http/http-server.ts';
import type { DnsZoneStats } from '../services/dns-zone.ts';

/** Public facts for the UI (`GET /api/demo/info`): nothing secret. */
export interface DemoInfo {
  publicKey: string;
  endpoint: string;
  /** `10.44.0.1`, `fd44::1`. */
  address4: string;
  address6: string;
  /** `10.44.0.0/24`, `fd44::/64`: what a client routes into the tunnel. */
  networks: string[];
  zone: string;
  /** Site URL inside the tunnel. */
  siteUrl: string;
  services: { name: string; protocol: string; port: number; description: string }[];
  registrations: { count: number; capacity: number };
  limits: { expiresIfUnusedInSeconds: number; idleTimeoutSeconds: number };
}

/** A registered visitor as the site shows them (public data only). */
export interface DemoVisitor {
  registration: DemoRegistration;
  /** The demo peer's Tunnel.stats() row for the visitor's key. */
  stats: PeerStats | undefined;
  /** ms (registry clock) when the registration expires if nothing more is heard. */
  expiresAt: number;
}

/** The demo peer as the site sees it. */
export interface DemoSiteHost {
  readonly peer: UdpPeer;
  readonly publicKey: string;
  readonly startedAt: number;
  readonly now: () => number;
  readonly endpoint: Endpoint;
  readonly address4: IpAddress;
  readonly address6: IpAddress;
  /** The visitor registered for a tunnel address, if any. */
  visitor(address: IpAddress): DemoVisitor | undefined;
  /** Handshakes completed with `publicKey` since its config was issued. */
  handshakeCount(publicKey: string): number;
  info(): DemoInfo;
  stats(): { http: HttpServerStats; dns: DnsZoneStats; registrations: number };
}
