/**
 * TCP numbers: first the ones a specification fixes, then the implementation choices wgweb makes
 * (each with the reason). Times are milliseconds, sizes bytes.
 */

// ---------------------------------------------------------------------------------------------
// Fixed by specifications
// ---------------------------------------------------------------------------------------------

/** RFC 9293 §3.7.1 / RFC 1122 §4.2.2.6: MSS assumed when an IPv4 peer sends no MSS option. */
export const DEFAULT_MSS_IPV4 = 536;
/** RFC 8200 §5 (1280-byte minimum MTU) minus 60 bytes of IPv6 and TCP headers. */
export const DEFAULT_MSS_IPV6 = 1220;
/** IPv4 (20) + TCP (20) header bytes, subtracted from an MTU to get an MSS. */
export const IPV4_TCP_HEADERS = 40;
/** IPv6 (40) + TCP (20) header bytes. */
export const IPV6_TCP_HEADERS = 60;
/** RFC 6298 §2.1: RTO before the first RTT sample. */
export const INITIAL_RTO_MS = 1000;
/** RFC 6298 §2.5 allows an upper bound of at least 60 s. */
export const MAX_RTO_MS = 60_000;
/** RFC 5681 §3.2 / RFC 6675: duplicate ACKs (or SACKed segments) that signal a loss. */
export const DUP_ACK_THRESHOLD = 3;
/** RFC 6928: initial window of 10 segments. */
export const INITIAL_WINDOW_SEGMENTS = 10;
/** RFC 7323: the unscaled window field is 16 bits. */
export const MAX_UNSCALED_WINDOW = 0xffff;
/** RFC 1122 §4.2.3.2: a delayed ACK waits less than 500 ms. */
export const MAX_DELAYED_ACK_MS = 500;
/** RFC 6528 §3: the ISN clock ticks every 4 microseconds, 250 ticks per millisecond. */
export const ISN_TICKS_PER_MS = 250;

// ---------------------------------------------------------------------------------------------
// Implementation choices
// ---------------------------------------------------------------------------------------------

/**
 * Lower bound on the RTO. RFC 6298 §2.4 says 1 s; Linux uses 200 ms. We take 300 ms: our path runs
 * over a WebSocket, i.e. over another TCP connection whose own retransmissions (at least Linux's
 * 200 ms minimum plus its RTT) show up here as delay spikes rather than loss, and a worker's timers
 * and GC add tens of milliseconds of jitter. 300 ms stays clear of one outer retransmission on a
 * short path while keeping tail-loss recovery for small request/response exchanges well under the
 * 1 s an interactive user would notice. Timestamps give an RTT sample on every ACK, so RTTVAR
 * tracks the jitter above that floor.
 */
export const MIN_RTO_MS = 300;
/** RFC 6298 §2: clock granularity G; our clock is milliseconds. */
export const CLOCK_GRANULARITY_MS = 1;
/**
 * Connect timeout: SYNs at 0, 1, 3, 7 and 15 s (RFC 6298 backoff from 1 s), then give up at 25 s
 * total, inside the 20-30 s a user waits for a browser tab.
 */
export const CONNECT_TIMEOUT_MS = 25_000;
/** Consecutive RTO expiries without progress before an established connection times out. */
export const MAX_RETRANSMISSIONS = 10;
/** Unanswered window probes before giving up (any ACK resets the count; RFC 1122 §4.2.2.17 says keep probing while the peer answers). */
export const MAX_PERSIST_PROBES = 15;
/**
 * TIME-WAIT length. RFC 9293 says 2*MSL (4 minutes); a short one is safe here because ISNs follow
 * the RFC 6528 clock, timestamps give PAWS protection, and the table never reuses a 4-tuple while
 * it is in TIME-WAIT. 5 s still covers a peer's retransmitted FIN (its RTO and one backoff).
 */
export const TIME_WAIT_MS = 5_000;
/** How long a fully closed socket may sit in FIN-WAIT-2 waiting for the peer's FIN (Linux tcp_fin_timeout). */
export const FIN_WAIT_2_TIMEOUT_MS = 60_000;
/** Delayed-ACK timer (Linux's minimum ATO), well under the RFC 1122 bound of 500 ms. */
export const DELAYED_ACK_MS = 40;
/** Number of data segments acknowledged at once at the start of a connection (quick ACK), so slow start is not slowed. */
export const QUICK_ACK_SEGMENTS = 16;
/** Smallest MSS we drop to after ICMP packet-too-big (IPv4 576-byte minimum reassembly size minus headers). */
export const MIN_MSS_IPV4 = 536;
/** Smallest MSS for IPv6 (1280-byte minimum MTU minus headers). */
export const MIN_MSS_IPV6 = 1220;
/** Send buffer bound per socket (grown lazily from {@link SEND_BUFFER_INITIAL}). */
export const SEND_BUFFER_DEFAULT = 1024 * 1024;
/** First allocation of a send buffer. */
export const SEND_BUFFER_INITIAL = 16 * 1024;
/** Receive window at the start of a connection. */
export const RECEIVE_BUFFER_INITIAL = 64 * 1024;
/** Receive window auto-tuning ceiling: enough for ~4 MB of bandwidth-delay product. */
export const RECEIVE_BUFFER_MAX = 4 * 1024 * 1024;
/** Bound on out-of-order ranges held by the receive assembler; beyond it new islands are dropped. */
export const MAX_OUT_OF_ORDER_RANGES = 64;
/** Bound on SACKed ranges remembered by the sender's scoreboard. */
export const MAX_SCOREBOARD_RANGES = 256;
/** Default accept backlog of a listener. */
export const DEFAULT_BACKLOG = 64;
/** Challenge ACKs (RFC 5961 §7) allowed per socket per second. */
export const CHALLENGE_ACK_LIMIT_PER_SECOND = 10;
/** Keepalive defaults when enabled (RFC 1122 §4.2.3.6 says idle ≥ 2 h; an interactive tunnel wants much less). */
export const KEEPALIVE_IDLE_MS = 60_000;
export const KEEPALIVE_INTERVAL_MS = 10_000;
export const KEEPALIVE_PROBES = 6;
