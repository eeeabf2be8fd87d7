/**
 * What every Tunnel call returns: datagrams to send, decrypted packets to deliver, and events for
 * the UI's log and teaching timeline. Also the drop reasons counted in `stats().drops`.
 */
import type { Endpoint } from '../shared/ip-address.ts';

/** A peer's public key in standard base64 (as `wg` prints it). */
export type PeerId = string;

/** Why a datagram or packet was dropped. Every drop is counted under exactly one reason. */
export const DROP_REASONS = [
  /** Datagram shorter than a message header (< 4 bytes) or a transport message < 32 bytes. */
  'short',
  /** First four bytes are not a known message type (1..4 followed by three zero bytes). */
  'unknown-type',
  /** Handshake message of the wrong size (initiation 148, response 92, cookie reply 64). */
  'bad-size',
  /** MAC1 does not match our public key: not meant for us, or corrupted. */
  'bad-mac1',
  /** Under load and MAC2 is present but invalid (a cookie reply was sent). */
  'bad-mac2',
  /** Under load and MAC2 is absent (a cookie reply was sent). */
  'cookie-required',
  /** Handshake message failed to authenticate or carried an invalid key. */
  'handshake-decrypt',
  /** Initiation timestamp not newer than the last one accepted from that peer (replayed initiation). */
  'stale-timestamp',
  /** Initiation from a static key that is not a configured peer. */
  'unknown-peer',
  /** Receiver index names no handshake or session of ours. */
  'unknown-index',
  /** Cookie reply did not decrypt against the last MAC1 we sent. */
  'cookie-decrypt',
  /** Transport message failed authentication. */
  'decrypt-failed',
  /** Transport counter already seen, too far behind the window, or beyond REJECT_AFTER_MESSAGES. */
  'replayed',
  /** Transport message for a session older than REJECT_AFTER_TIME. */
  'expired-key',
  /** Decrypted packet's source address is not in the sending peer's AllowedIPs. */
  'source-not-allowed',
  /** Not an IPv4/IPv6 packet (from the local stack, or decrypted from a peer). */
  'not-ip',
  /** Packet larger than an IP packet can be. */
  'too-big',
  /** No peer's AllowedIPs contain the destination. */
  'no-route',
  /** The destination peer has no endpoint and no session, so it cannot be reached. */
  'no-endpoint',
  /** Handshake flood: per-peer initiation rate or per-source limit under load. */
  'rate-limited',
  /** Staged-packet queue full while waiting for a handshake; the oldest packet was dropped. */
  'queue-full',
  /** Staged packets discarded because the handshake gave up or keys were zeroed. */
  'flushed',
  /** Call after close(). */
  'closed',
  /** A bug: an exception inside the tunnel was caught so the caller's loop survives. */
  'internal-error',
] as const;

/** Why a datagram or packet was dropped. */
export type DropReason = (typeof DROP_REASONS)[number];

/** What started a handshake initiation. */
export type HandshakeTrigger =
  | 'connect'
  | 'data'
  | 'keepalive'
  | 'persistent-keepalive'
  | 'retry'
  | RekeyReason;

/** Why an established session is being replaced. */
export type RekeyReason =
  /** Initiator's current key reached REKEY_AFTER_TIME (120 s). */
  | 'rekey-after-time'
  /** More than REKEY_AFTER_MESSAGES were sent with the current key. */
  | 'rekey-after-messages'
  /** Initiator received data with a key close to REJECT_AFTER_TIME (165 s). */
  | 'rekey-before-reject'
  /** Data was sent and nothing came back for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s). */
  | 'no-reply'
  /** Sending found the current key expired (REJECT_AFTER_TIME or REJECT_AFTER_MESSAGES). */
  | 'key-expired';

/** Why a keepalive was sent. */
export type KeepaliveReason =
  /** Passive keepalive: data arrived and nothing went back for KEEPALIVE_TIMEOUT. */
  | 'passive'
  /** PersistentKeepalive interval. */
  | 'persistent'
  /** Initiator confirming a fresh session right after the response (nothing else to send). */
  | 'handshake-complete'
  /**
   * Our outside address changed (a new relay session, so a new UDP source port): the peer learns
   * it from this authenticated packet at once (roaming, WireGuard paper §2.1) instead of sending
   * into the old one until the next rekey.
   */
  | 'endpoint-changed';

interface EventBase {
  /** The peer concerned; '' for device-level events about unauthenticated sources. */
  readonly peer: PeerId;
  /** `now` of the call that produced the event. */
  readonly at: number;
}

/** A protocol event for the UI's log and teaching timeline. */
export type TunnelEvent = EventBase &
  (
    | { readonly type: 'handshake-initiation-sent'; readonly size: number; readonly senderIndex: number; readonly attempt: number; readonly trigger: HandshakeTrigger; readonly mac2: boolean; readonly endpoint: Endpoint }
    | { readonly type: 'handshake-initiation-received'; readonly size: number; readonly senderIndex: number; readonly endpoint: Endpoint }
    | { readonly type: 'handshake-response-sent'; readonly size: number; readonly senderIndex: number; readonly receiverIndex: number; readonly mac2: boolean; readonly endpoint: Endpoint }
    | { readonly type: 'handshake-response-received'; readonly size: number; readonly senderIndex: number; readonly receiverIndex: number; readonly endpoint: Endpoint; readonly rttMs: number | undefined }
    | { readonly type: 'cookie-reply-sent'; readonly size: number; readonly receiverIndex: number; readonly endpoint: Endpoint }
    | { readonly type: 'cookie-reply-received'; readonly size: number; readonly receiverIndex: number; readonly endpoint: Endpoint }
    | { readonly type: 'session-established'; readonly role: 'initiator' | 'responder'; readonly localIndex: number; readonly remoteIndex: number }
    | { readonly type: 'session-confirmed'; readonly localIndex: number; readonly remoteIndex: number }
    | { readonly type: 'keepalive-sent'; readonly size: number; readonly receiverIndex: number; readonly counter: number; readonly reason: KeepaliveReason }
    | { readonly type: 'keepalive-received'; readonly size: number; readonly localIndex: number; readonly counter: number }
    | { readonly type: 'rekey-started'; readonly reason: RekeyReason; readonly keyAgeMs: number | undefined }
    | { readonly type: 'handshake-retry'; readonly attempt: number; readonly elapsedMs: number }
    | { readonly type: 'handshake-failed'; readonly attempts: number; readonly elapsedMs: number; readonly endpoint: Endpoint | undefined; readonly message: string }
    | { readonly type: 'keys-expired'; readonly slot: 'current' | 'previous' | 'next'; readonly localIndex: number; readonly ageMs: number }
    | { readonly type: 'keys-zeroed'; readonly idleMs: number }
    | { readonly type: 'endpoint-changed'; readonly from: Endpoint | undefined; readonly to: Endpoint }
  );

/** The `type` of a {@link TunnelEvent}. */
export type TunnelEventType = TunnelEvent['type'];

/** A datagram for the network: UDP payload to `endpoint`. */
export interface OutgoingDatagram {
  /** The peer it belongs to; '' for a cookie reply to an unauthenticated source. */
  readonly peer: PeerId;
  readonly endpoint: Endpoint;
  readonly data: Uint8Array;
}

/** A decrypted inner IP packet for the local stack (padding removed). */
export interface IncomingPacket {
  readonly peer: PeerId;
  readonly data: Uint8Array;
}

/** Result of every Tunnel call. */
export interface TunnelResult {
  datagrams: OutgoingDatagram[];
  packets: IncomingPacket[];
  events: TunnelEvent[];
}

/** An empty result to append to. */
export function emptyResult(): TunnelResult {
  return { datagrams: [], packets: [], events: [] };
}

/** A zeroed drop counter for every reason. */
export function emptyDropCounters(): Record<DropReason, number> {
  const out = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) out[r] = 0;
  return out;
}
