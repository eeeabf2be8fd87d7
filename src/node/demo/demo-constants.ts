/**
 * Numbers of the built-in demo peer (docs/demo.md). Split into what a protocol fixes
 * (well-known ports, RFC 1035 limits live in src/protocols/dns/dns-message.ts) versus what this
 * implementation chose.
 */

// ---------------------------------------------------------------------------------------------
// Spec constants: the well-known ports of the services behind the demo peer.

/** HTTP (RFC 9110 §4.2.1). */
export const HTTP_PORT = 80;
/** Echo Protocol (RFC 862), TCP and UDP. */
export const ECHO_PORT = 7;
/** Discard Protocol (RFC 863), TCP and UDP. */
export const DISCARD_PORT = 9;

// ---------------------------------------------------------------------------------------------
// Implementation choices.

/**
 * The demo peer's own tunnel addresses. 10.44.0.0/24 (RFC 1918) and fd44::/64 (RFC 4193 unique
 * local; a memorable rather than random Global ID, since the network never leaves the tunnel)
 * stay clear of this machine's 192.0.2.0/24 and fd00::/64 and of the test harness's 10.77/10.201/
 * 10.202 and fd77/fdc9 ranges. Clients get .2 to .254 and the same host number in IPv6.
 */
export const DEMO_ADDRESS4 = '10.44.0.1/24';
export const DEMO_ADDRESS6 = 'fd44::1/64';

/** The DNS zone the demo peer is authoritative for. */
export const DEMO_ZONE = 'intranet.demo';

/** Registrations alive at once (clients in 10.44.0.0/24 leave 253 host numbers). */
export const DEFAULT_MAX_CLIENTS = 250;
/** A config that never saw a handshake is withdrawn after this long. */
export const DEFAULT_PENDING_TTL_MS = 5 * 60_000;
/** A registration whose client sent nothing (not even its 25 s keepalive) for this long expires. */
export const DEFAULT_IDLE_TTL_MS = 10 * 60_000;
/** How often registrations are checked for expiry. */
export const DEFAULT_SWEEP_INTERVAL_MS = 15_000;
/** PersistentKeepalive written into client configs: keeps the registration alive while in use. */
export const CLIENT_PERSISTENT_KEEPALIVE = 25;

/** `GET /api/demo/config` per client IP: a burst of this many ... */
export const CONFIG_RATE_BURST = 5;
/** ... then one more every this many milliseconds (5 a minute). */
export const CONFIG_RATE_INTERVAL_MS = 12_000;
/** Client IPs tracked by the rate limiter before the fullest buckets are forgotten. */
export const CONFIG_RATE_TRACKED_IPS = 4096;

/**
 * TCP options of every demo listener: keepalive probes (RFC 1122 §4.2.3.6) find clients that
 * vanished without a FIN (a closed browser tab, an expired registration), so their connections
 * do not hold a service's connection slots forever: about 2 minutes after the last segment.
 */
export const SERVER_TCP_OPTIONS = { keepAlive: { idleMs: 60_000, intervalMs: 10_000, probes: 6 } } as const;

/** Largest `GET /bytes/N` (1 GiB). */
export const MAX_BYTES_RESPONSE = 1 << 30;
/** Largest form body the intranet site reads (guestbook). */
export const MAX_FORM_BYTES = 16 * 1024;
/** Guestbook entries kept (oldest dropped first). */
export const GUESTBOOK_ENTRIES = 50;
