/**
 * WireGuard constants. The first part is fixed by the protocol (WireGuard paper §5.4 and §6,
 * wireguard.com/protocol) and must match every other implementation; the second part holds this
 * implementation's own choices, which peers never see on the wire.
 *
 * All times are milliseconds, the unit of the `now` that the sans-IO core is driven with.
 */

// ---------------------------------------------------------------------------------------------
// Specification constants
// ---------------------------------------------------------------------------------------------

/** Noise protocol name; its BLAKE2s hash is the initial chaining key (paper §5.4). */
export const CONSTRUCTION = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s';
/** Mixed into the initial hash so that WireGuard transcripts differ from other Noise users (paper §5.4). */
export const IDENTIFIER = 'WireGuard v1 zx2c4 Jason@zx2c4.com';
/** Label for the MAC1 key: HASH(LABEL_MAC1 ‖ Spub of the receiver) (paper §5.4.4). */
export const LABEL_MAC1 = 'mac1----';
/** Label for the cookie encryption key: HASH(LABEL_COOKIE ‖ Spub of the receiver) (paper §5.4.7). */
export const LABEL_COOKIE = 'cookie--';

/** Message type numbers, the first byte of every message followed by three zero bytes (paper §5.4). */
export const MESSAGE_INITIATION = 1;
export const MESSAGE_RESPONSE = 2;
export const MESSAGE_COOKIE_REPLY = 3;
export const MESSAGE_TRANSPORT = 4;

/** Exact sizes of the fixed-size messages, and the smallest transport message (a keepalive). */
export const INITIATION_SIZE = 148;
export const RESPONSE_SIZE = 92;
export const COOKIE_REPLY_SIZE = 64;
export const TRANSPORT_HEADER_SIZE = 16;
/** Poly1305 tag length (RFC 8439 §2.5). */
export const AEAD_TAG_SIZE = 16;
/** An empty transport message: header plus tag. This is a keepalive (paper §6.5). */
export const KEEPALIVE_SIZE = TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;

/** TAI64N timestamp length (paper §5.1). */
export const TIMESTAMP_SIZE = 12;
/** MAC1/MAC2 and cookie length: keyed BLAKE2s truncated to 16 bytes (paper §5.4.4). */
export const MAC_SIZE = 16;
/** XChaCha20-Poly1305 nonce length in a cookie reply (paper §5.4.7). */
export const COOKIE_NONCE_SIZE = 24;

/**
 * Rekey after this many messages under one key: 2^60 (paper §6.1). Counters are 64-bit, so the
 * limits are also given as the high 32-bit word used by the two-number counters in keypair.ts.
 */
export const REKEY_AFTER_MESSAGES = 2n ** 60n;
export const REKEY_AFTER_MESSAGES_HI = 2 ** 28;
/** Never use a key for more than 2^64 − 2^13 − 1 messages (paper §6.1): 0xffffffff_ffffdfff. */
export const REJECT_AFTER_MESSAGES = 2n ** 64n - 2n ** 13n - 1n;
export const REJECT_AFTER_MESSAGES_HI = 0xffffffff;
export const REJECT_AFTER_MESSAGES_LO = 0xffffdfff;

/** Initiator starts a new handshake when its current key is this old (paper §6.1). */
export const REKEY_AFTER_TIME_MS = 120_000;
/** A key is never used (either way) once it is this old (paper §6.1). */
export const REJECT_AFTER_TIME_MS = 180_000;
/** Give up retrying a handshake after this long (paper §6.4). */
export const REKEY_ATTEMPT_TIME_MS = 90_000;
/** Retransmit an unanswered initiation after this long, plus jitter (paper §6.4). */
export const REKEY_TIMEOUT_MS = 5_000;
/** Jitter added to REKEY_TIMEOUT: uniform in [0, 334) ms, as in the kernel and wireguard-go. */
export const REKEY_TIMEOUT_JITTER_MAX_MS = 334;
/** Passive keepalive after receiving data and sending nothing for this long (paper §6.5). */
export const KEEPALIVE_TIMEOUT_MS = 10_000;
/** A cookie (and the responder's cookie secret) is good for two minutes (paper §5.4.7). */
export const COOKIE_REFRESH_TIME_MS = 120_000;
/** Transport plaintext is zero-padded to a multiple of 16 bytes (paper §5.4.6). */
export const PADDING_MULTIPLE = 16;

// ---------------------------------------------------------------------------------------------
// Implementation choices
// ---------------------------------------------------------------------------------------------

/** At most one initiation per peer is consumed per 1/50 s (wireguard-go HandshakeInitationRate; not in the paper). */
export const HANDSHAKE_INITIATION_RATE_MS = 20;
/**
 * Whitening of TAI64N nanoseconds: the low 24 bits are cleared (about 16.8 ms granularity), as the
 * kernel and wireguard-go do, so a timestamp does not reveal the sender's clock precisely.
 */
export const TAI64N_WHITENER_MASK = 0xffffff;
/** Packets queued per peer while no session exists (kernel and wireguard-go use 128). */
export const MAX_STAGED_PACKETS = 128;
/**
 * Handshake messages per second above which the device considers itself under load and demands
 * cookies (paper §5.3). The kernel measures its queue length instead; a sans-IO core counts
 * handshake messages seen in the last second.
 */
export const UNDER_LOAD_HANDSHAKES_PER_SECOND = 32;
/** Stay under load this long after the threshold was last crossed (wireguard-go UnderLoadAfterTime). */
export const UNDER_LOAD_AFTER_TIME_MS = 1_000;
/** Per-source handshake rate limit when under load: tokens per second and burst (wireguard-go ratelimiter). */
export const RATE_LIMIT_PER_SECOND = 20;
export const RATE_LIMIT_BURST = 5;
/** Sources tracked by the rate limiter at once; new sources beyond this are refused while under load. */
export const RATE_LIMIT_MAX_SOURCES = 4096;
/** Replay window: a ring of 256 32-bit blocks (8192 bits, like the kernel), so 8160 counters of history. */
export const REPLAY_RING_BLOCKS = 256;
export const REPLAY_BLOCK_BITS = 32;
export const REPLAY_WINDOW_SIZE = (REPLAY_RING_BLOCKS - 1) * REPLAY_BLOCK_BITS;
/** Largest IP packet accepted from the local stack (IP total length is 16 bits). */
export const MAX_PACKET_SIZE = 65535;
