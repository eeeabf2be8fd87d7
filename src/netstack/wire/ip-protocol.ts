/**
 * IP protocol / IPv6 next-header numbers used by the netstack (IANA "Assigned Internet Protocol
 * Numbers"; RFC 8200 §4 for the IPv6 extension headers).
 */
export const IpProtocol = {
  /** IPv6 Hop-by-Hop Options (RFC 8200 §4.3); only valid right after the fixed header. */
  HopByHop: 0,
  Icmp: 1,
  Tcp: 6,
  Udp: 17,
  /** IPv6 Routing header (RFC 8200 §4.4). */
  Ipv6Route: 43,
  /** IPv6 Fragment header (RFC 8200 §4.5). */
  Ipv6Fragment: 44,
  /** Encapsulating Security Payload (RFC 4303): opaque, so it ends the walkable chain. */
  Esp: 50,
  /** Authentication Header (RFC 4302): length in 4-octet units, unlike other extension headers. */
  Ah: 51,
  Icmpv6: 58,
  /** IPv6 No Next Header (RFC 8200 §4.7). */
  Ipv6NoNext: 59,
  /** IPv6 Destination Options (RFC 8200 §4.6). */
  Ipv6DestinationOptions: 60,
} as const;
