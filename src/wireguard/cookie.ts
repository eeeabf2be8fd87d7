/**
 * MAC1, MAC2 and cookies: WireGuard's denial-of-service mitigation (paper §5.3, §5.4.4, §5.4.7).
 *
 * Every handshake message ends in mac1 ‖ mac2:
 *   mac1 = MAC(HASH(LABEL_MAC1 ‖ Spub_receiver), msg up to mac1)    proves the sender knows our public key
 *   mac2 = MAC(cookie, msg up to mac2)  or zeros                    proves the sender's source address
 *
 * A responder under load answers a handshake message lacking a valid mac2 with a cookie reply
 * instead of doing any Diffie-Hellman work:
 *   cookie = MAC(Rm, source address and port), Rm a random secret replaced every two minutes
 *   reply  = XAEAD(HASH(LABEL_COOKIE ‖ Spub_responder), random 24-byte nonce, cookie, mac1 of the message)
 * The initiator decrypts it with the mac1 it last sent and uses the cookie for mac2 for two minutes.
 *
 * {@link CookieChecker} is the receiving side (one per device, keyed by our public key);
 * {@link CookieGenerator} the sending side (one per peer, keyed by the peer's public key).
 */
import { constantTimeEqual, isAllZero, zeroize } from '../shared/bytes.ts';
import { tryParseIp, type Endpoint } from '../shared/ip-address.ts';
import type { RandomBytes } from '../shared/bytes.ts';
import { hash, mac, xaeadOpen, xaeadSeal } from './noise-primitives.ts';
import { COOKIE_NONCE_SIZE, COOKIE_REFRESH_TIME_MS, COOKIE_REPLY_SIZE, LABEL_COOKIE, LABEL_MAC1, MAC_SIZE, MESSAGE_COOKIE_REPLY } from './constants.ts';
import { COOKIE_REPLY, CookieReplyView, writeU32LE } from './messages.ts';

const encoder = new TextEncoder();
const LABEL_MAC1_BYTES = encoder.encode(LABEL_MAC1);
const LABEL_COOKIE_BYTES = encoder.encode(LABEL_COOKIE);

/** HASH(LABEL_MAC1 ‖ publicKey): the MAC1 key for messages sent to the owner of `publicKey`. */
export function mac1Key(publicKey: Uint8Array): Uint8Array {
  return hash(LABEL_MAC1_BYTES, publicKey);
}

/** HASH(LABEL_COOKIE ‖ publicKey): the key that encrypts cookies sent by the owner of `publicKey`. */
export function cookieKey(publicKey: Uint8Array): Uint8Array {
  return hash(LABEL_COOKIE_BYTES, publicKey);
}

/**
 * The bytes a cookie binds to: the source IP address (4 or 16 bytes) and the UDP port, big-endian.
 * A host name (never a source of a received datagram in practice) is used as text.
 */
export function cookieSourceBytes(source: Endpoint): Uint8Array {
  const ip = tryParseIp(source.host);
  const host = ip ?? encoder.encode(source.host);
  const out = new Uint8Array(host.length + 2);
  out.set(host);
  out[host.length] = source.port >>> 8;
  out[host.length + 1] = source.port & 0xff;
  return out;
}

/** Offset of mac1 in a handshake message (mac1 and mac2 are its last 32 bytes). */
function mac1Offset(msg: Uint8Array): number {
  return msg.length - 2 * MAC_SIZE;
}

/** Offset of mac2 in a handshake message. */
function mac2Offset(msg: Uint8Array): number {
  return msg.length - MAC_SIZE;
}

/** Receiving side of MAC1/MAC2: verifies macs on messages to us and issues cookie replies. */
export class CookieChecker {
  private readonly mac1Key: Uint8Array;
  private readonly encryptionKey: Uint8Array;
  private secret: Uint8Array = new Uint8Array(32);
  private secretSetAt = -Infinity;

  constructor(localPublicKey: Uint8Array) {
    this.mac1Key = mac1Key(localPublicKey);
    this.encryptionKey = cookieKey(localPublicKey);
  }

  /** True when the handshake message carries a valid mac1 for our public key. */
  checkMac1(msg: Uint8Array): boolean {
    const off = mac1Offset(msg);
    if (off < 0) return false;
    return constantTimeEqual(mac(this.mac1Key, msg.subarray(0, off)), msg.subarray(off, off + MAC_SIZE));
  }

  /** True when mac2 is valid for a cookie we handed to `source` under the current secret. */
  checkMac2(msg: Uint8Array, source: Uint8Array, now: number): boolean {
    if (now - this.secretSetAt > COOKIE_REFRESH_TIME_MS) return false;
    const off = mac2Offset(msg);
    if (off < MAC_SIZE) return false;
    const cookie = mac(this.secret, source);
    const expected = mac(cookie, msg.subarray(0, off));
    zeroize(cookie);
    return constantTimeEqual(expected, msg.subarray(off));
  }

  /** True when the message's mac2 field is all zeros (the sender had no cookie). */
  static hasNoMac2(msg: Uint8Array): boolean {
    return isAllZero(msg.subarray(mac2Offset(msg)));
  }

  /**
   * Builds a 64-byte cookie reply to `msg` (an initiation or response with a valid mac1) from
   * `source`, addressed to the message's sender index. The secret is renewed once it is older
   * than two minutes (paper §5.4.7).
   */
  createReply(msg: Uint8Array, receiverIndex: number, source: Uint8Array, now: number, random: RandomBytes): Uint8Array {
    if (now - this.secretSetAt > COOKIE_REFRESH_TIME_MS) {
      zeroize(this.secret);
      this.secret = random(32);
      this.secretSetAt = now;
    }
    const cookie = mac(this.secret, source);
    const nonce = random(COOKIE_NONCE_SIZE);
    const off = mac1Offset(msg);
    const sealed = xaeadSeal(this.encryptionKey, nonce, cookie, msg.subarray(off, off + MAC_SIZE));
    zeroize(cookie);
    const reply = new Uint8Array(COOKIE_REPLY_SIZE);
    reply[0] = MESSAGE_COOKIE_REPLY;
    writeU32LE(reply, COOKIE_REPLY.receiver, receiverIndex);
    reply.set(nonce, COOKIE_REPLY.nonce);
    reply.set(sealed, COOKIE_REPLY.cookie);
    return reply;
  }

  /** Zeroes the cookie secret. */
  destroy(): void {
    zeroize(this.secret, this.mac1Key, this.encryptionKey);
    this.secretSetAt = -Infinity;
  }
}

/** Sending side of MAC1/MAC2 for one peer: adds macs and remembers the cookie the peer gave us. */
export class CookieGenerator {
  private readonly mac1Key: Uint8Array;
  private readonly encryptionKey: Uint8Array;
  private cookie: Uint8Array = new Uint8Array(MAC_SIZE);
  private cookieSetAt = -Infinity;
  private lastMac1: Uint8Array | undefined;

  constructor(remotePublicKey: Uint8Array) {
    this.mac1Key = mac1Key(remotePublicKey);
    this.encryptionKey = cookieKey(remotePublicKey);
  }

  /** True while a cookie from the peer is fresh enough to use for mac2. */
  hasFreshCookie(now: number): boolean {
    return now - this.cookieSetAt <= COOKIE_REFRESH_TIME_MS;
  }

  /**
   * Fills mac1 (and mac2 when a fresh cookie is known) of an outgoing handshake message in place.
   * Returns whether mac2 was set.
   */
  addMacs(msg: Uint8Array, now: number): boolean {
    const off1 = mac1Offset(msg);
    const off2 = mac2Offset(msg);
    const m1 = mac(this.mac1Key, msg.subarray(0, off1));
    msg.set(m1, off1);
    this.lastMac1 = m1;
    if (!this.hasFreshCookie(now)) {
      msg.fill(0, off2);
      return false;
    }
    msg.set(mac(this.cookie, msg.subarray(0, off2)), off2);
    return true;
  }

  /** Decrypts a cookie reply against the last mac1 we sent; false when it does not authenticate. */
  consumeReply(reply: CookieReplyView, now: number): boolean {
    if (!this.lastMac1) return false;
    const cookie = xaeadOpen(this.encryptionKey, reply.nonce, reply.encryptedCookie, this.lastMac1);
    if (!cookie || cookie.length !== MAC_SIZE) return false;
    zeroize(this.cookie);
    this.cookie = cookie;
    this.cookieSetAt = now;
    return true;
  }

  /** Zeroes the cookie. */
  destroy(): void {
    zeroize(this.cookie, this.mac1Key, this.encryptionKey);
    this.cookieSetAt = -Infinity;
  }
}
