/**
 * Numbers of the IP layer (src/netstack outside TCP; TCP's are in socket/tcp-constants.ts), in
 * the style of wireguard-go's constants.go: first the ones a specification fixes, then the
 * implementation choices wgweb makes, each with its reason. Header lengths stay with their wire
 * format (wire/*.ts). Times are milliseconds, sizes bytes.
 */

// ---------------------------------------------------------------------------------------------
// Fixed by specifications
// ---------------------------------------------------------------------------------------------

/** RFC 6335 §6 / RFC 6056: the dynamic (ephemeral) port range, for UDP and TCP alike. */
export const EPHEMERAL_PORT_MIN = 49152;
export const EPHEMERAL_PORT_MAX = 65535;
/** RFC 1812 §4.3.2.3: an ICMPv4 error message must not exceed 576 bytes. */
export const ICMPV4_ERROR_MAX_BYTES = 576;
/** TOS of ICMPv4 errors: precedence 6, "internetwork control" (RFC 1812 §4.3.2.5), as Linux sends them. */
export const ICMPV4_ERROR_TOS = 0xc0;
/** RFC 1191 §7: MTU plateaus, to guess a path MTU when a router reports none. */
export const MTU_PLATEAUS: readonly number[] = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];
/**
 * Most echo data a request can carry (ping -s): the 16-bit length of the (reassembled) datagram
 * minus the headers, as NetInterface checks it (IPv4: 65535 − 20 − 8, RFC 791; IPv6: 65535 − 8
 * Fragment − 8, RFC 8200 §4.5).
 */
export const MAX_ECHO_PAYLOAD_V4 = 65_507;
export const MAX_ECHO_PAYLOAD_V6 = 65_519;
/** RFC 791 / RFC 8200: the 16-bit total/payload length bounds a (reassembled) datagram. */
export const MAX_DATAGRAM_LENGTH = 65535;

// ---------------------------------------------------------------------------------------------
// Implementation choices
// ---------------------------------------------------------------------------------------------

/**
 * TTL (IPv4) and hop limit (IPv6) of packets we originate. No RFC fixes the value: RFC 1122
 * §3.2.1.7 only asks for a default big enough for the Internet's diameter, and RFC 8200 §3 leaves
 * the hop limit to the node; 64 is IANA's recommended default (RFC 1700, "IP Parameters") and what
 * Linux sends (net.ipv4.ip_default_ttl, net.ipv6.conf.*.hop_limit), so our packets look like the
 * kernel's in captures and a traceroute's rising TTLs compare with it.
 */
export const DEFAULT_TTL = 64;
export const DEFAULT_HOP_LIMIT = 64;
/** ICMP errors we generate per second, and their burst (Linux's icmp_ratelimit is of this order). */
export const ICMP_ERROR_RATE_PER_SECOND = 10;
export const ICMP_ERROR_BURST = 10;
/**
 * Fragment reassembly gives up this long after the first fragment. RFC 8200 §4.5 says 60 s; like
 * Linux's ipfrag_time we take 30 s, since a fragment later than that is lost anyway.
 */
export const FRAGMENT_TIMEOUT_MS = 30_000;
/** Datagrams in reassembly at once. */
export const FRAGMENT_MAX_REASSEMBLIES = 16;
/** Fragments per datagram: a 1280-byte MTU needs 52 for 65535 bytes. */
export const FRAGMENT_MAX_PER_DATAGRAM = 64;
/** Fragment bytes held across all datagrams in reassembly. */
export const FRAGMENT_MAX_BUFFERED_BYTES = 1 << 20;
/** Destinations whose path MTU is remembered at once. */
export const PATH_MTU_CACHE_ENTRIES = 256;
/** A learned path MTU is forgotten after this long, so a path can grow again (RFC 1191 §6.3 and RFC 8201 §4 suggest about 10 minutes). */
export const PATH_MTU_LIFETIME_MS = 10 * 60_000;
/** ICMP echo payload when none is given: 56 bytes, as ping(8) sends. */
export const DEFAULT_ECHO_PAYLOAD_BYTES = 56;
