/**
 * A chain of routers behind a wireguard-go peer, for the traceroute tests (interop and e2e): the
 * peer's namespace forwards to a router namespace, which forwards to a far host; every address is
 * inside the peer's tunnel networks (so inside the client's AllowedIPs), and a dnsmasq on the
 * peer's tunnel address (the client config's DNS =) names all three hops, forward and PTR.
 *
 *   client ──tunnel──▶ wireguard-go (ns A: .1 / ::1, "peer.trace.test", dnsmasq)
 *       ──link──▶ ns R (.100 / ::100, "router.trace.test") ──link──▶ ns B (.200 / ::200, "far.trace.test")
 *
 * The router answers Time Exceeded from its tunnel-network address: its route back to the tunnel
 * network carries `src`, which Linux uses as the source of the ICMP errors it sends. ICMP error
 * rate limiting (a burst of 6 per destination, then one a second) is off in all three
 * namespaces, so repeated traces within seconds never lose an answer to it.
 */
import { createNamespace, linkNamespaces, type Namespace } from '../../harness/netns.ts';
import { startDnsmasq } from '../../harness/dnsmasq.ts';
import type { WgGoPeer } from '../../harness/wireguard-go-peer.ts';

/** The addresses of the chain; hop 1 is the peer's own tunnel address. */
export interface RouterChain {
  readonly router: Namespace;
  readonly far: Namespace;
  readonly peer4: string;
  readonly peer6: string;
  readonly router4: string;
  readonly router6: string;
  readonly far4: string;
  readonly far6: string;
}

/** The names dnsmasq gives the hops (PTR and A/AAAA). */
export const CHAIN_NAMES = { peer: 'peer.trace.test', router: 'router.trace.test', far: 'far.trace.test' } as const;

/**
 * Builds the chain behind `peer` (which needs IPv4 and IPv6 tunnel addresses) with namespaces
 * labelled `label`; they close with closeAllNamespaces() like any other.
 */
export async function startRouterChain(peer: WgGoPeer, label: string): Promise<RouterChain> {
  const a = peer.ns;
  const [net4, net6] = peer.tunnelNetworks;
  const peer4 = peer.tunnelAddress4!;
  const peer6 = peer.tunnelAddress6!;
  const router4 = peer4.replace(/\.1$/, '.100');
  const far4 = peer4.replace(/\.1$/, '.200');
  const router6 = peer6.replace(/::1$/, '::100');
  const far6 = peer6.replace(/::1$/, '::200');
  const r = await createNamespace({ name: `${label}r` });
  const b = await createNamespace({ name: `${label}f` });
  const ar = await linkNamespaces(a, r);
  const rb = await linkNamespaces(r, b);
  const noRateLimit = ['net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0'];
  const forwarding = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'];
  await a.exec('sysctl', ['-qw', ...forwarding, ...noRateLimit]);
  await r.exec('sysctl', ['-qw', ...forwarding, ...noRateLimit]);
  await b.exec('sysctl', ['-qw', ...noRateLimit]);
  await a.exec('ip', ['-6', 'route', 'add', `${far6}/128`, 'via', ar.addressB6]);
  await r.exec('ip', ['-6', 'addr', 'add', `${router6}/128`, 'dev', ar.ifB, 'nodad']);
  await r.exec('ip', ['-6', 'route', 'add', `${far6}/128`, 'via', rb.addressB6]);
  await r.exec('ip', ['-6', 'route', 'add', net6, 'via', ar.addressA6, 'src', router6]);
  await b.exec('ip', ['-6', 'addr', 'add', `${far6}/128`, 'dev', rb.ifB, 'nodad']);
  await b.exec('ip', ['-6', 'route', 'add', net6, 'via', rb.addressA6]);
  await a.exec('ip', ['route', 'add', `${far4}/32`, 'via', ar.addressB4]);
  await a.exec('ip', ['route', 'add', `${router4}/32`, 'via', ar.addressB4]);
  await r.exec('ip', ['addr', 'add', `${router4}/32`, 'dev', ar.ifB]);
  await r.exec('ip', ['route', 'add', `${far4}/32`, 'via', rb.addressB4]);
  await r.exec('ip', ['route', 'add', net4, 'via', ar.addressA4, 'src', router4]);
  await b.exec('ip', ['addr', 'add', `${far4}/32`, 'dev', rb.ifB]);
  await b.exec('ip', ['route', 'add', net4, 'via', rb.addressA4]);
  await startDnsmasq(a, peer4, [
    `--host-record=${CHAIN_NAMES.peer},${peer4},${peer6}`,
    `--host-record=${CHAIN_NAMES.router},${router4},${router6}`,
    `--host-record=${CHAIN_NAMES.far},${far4},${far6}`,
  ]);
  return { router: r, far: b, peer4, peer6, router4, router6, far4, far6 };
}
