/**
 * The Noise_IKpsk2 handshake of WireGuard (paper §5.4.2–§5.4.5), for one peer, both roles.
 *
 *   initiator                                        responder
 *   createInitiation ── initiation (148 B) ─────────▶ decryptInitiationStatic (find the peer)
 *                                                     consumeInitiation      (timestamp, flood)
 *   consumeResponse  ◀──────────── response (92 B) ── createResponse
 *   deriveTransportKeys                               deriveTransportKeys
 *
 * Only the cryptographic state machine lives here: chaining key C, transcript hash H, ephemeral
 * keys, indices, the last accepted timestamp. MAC1/MAC2 are added and checked by cookie.ts;
 * indices are allocated and timers driven by peer.ts and tunnel.ts.
 */
import { isAllZero, zeroize } from '../shared/bytes.ts';
import { dh, KEY_LENGTH, publicKeyFromPrivate } from './noise-keys.ts';
import { aeadOpen, aeadSeal, hash, HASH_SIZE, kdf1, kdf2, kdf3 } from './noise-primitives.ts';
import { compareTai64n } from './tai64n.ts';
import {
  AEAD_TAG_SIZE,
  CONSTRUCTION,
  HANDSHAKE_INITIATION_RATE_MS,
  IDENTIFIER,
  INITIATION_SIZE,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  RESPONSE_SIZE,
  TIMESTAMP_SIZE,
} from './constants.ts';
import { INITIATION, InitiationView, RESPONSE, ResponseView, writeU32LE } from './messages.ts';

const encoder = new TextEncoder();

/** C₀ = HASH(CONSTRUCTION): the initial chaining key (paper §5.4). */
export const INITIAL_CHAIN_KEY: Uint8Array = hash(encoder.encode(CONSTRUCTION));
/** H₀ = HASH(C₀ ‖ IDENTIFIER): the initial transcript hash (paper §5.4). */
export const INITIAL_HASH: Uint8Array = hash(INITIAL_CHAIN_KEY, encoder.encode(IDENTIFIER));

const EMPTY = new Uint8Array(0);

/** This device's static key pair. */
export interface StaticIdentity {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Builds a {@link StaticIdentity} from a 32-byte private key (copied). @throws {RangeError} on a bad length. */
export function staticIdentity(privateKey: Uint8Array): StaticIdentity {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== KEY_LENGTH) {
    throw new RangeError(`private key must be ${KEY_LENGTH} bytes, got ${privateKey instanceof Uint8Array ? privateKey.length : typeof privateKey}`);
  }
  const copy = privateKey.slice();
  return { privateKey: copy, publicKey: publicKeyFromPrivate(copy) };
}

/** Where a handshake stands (the same states as the kernel and wireguard-go). */
export type HandshakeState = 'zeroed' | 'initiation-created' | 'initiation-consumed' | 'response-created' | 'response-consumed';

/**
 * The device-level first half of consuming an initiation: everything up to and including the
 * decryption of the initiator's static key, which names the peer (paper §5.4.2).
 */
export interface DecryptedInitiation {
  readonly remoteStatic: Uint8Array;
  readonly senderIndex: number;
  readonly ephemeral: Uint8Array;
  readonly encryptedTimestamp: Uint8Array;
  readonly hash: Uint8Array;
  readonly chainKey: Uint8Array;
}

/**
 * Responder, step 1: decrypt the initiator's static public key.
 * Returns `undefined` when the message does not decrypt under our static key (or carries a
 * low-order ephemeral), i.e. it is not for us.
 */
export function decryptInitiationStatic(identity: StaticIdentity, msg: InitiationView): DecryptedInitiation | undefined {
  const ephemeral = msg.ephemeral.slice();
  let h = hash(INITIAL_HASH, identity.publicKey);
  h = hash(h, ephemeral);
  let c = kdf1(INITIAL_CHAIN_KEY, ephemeral);
  const ss = dh(identity.privateKey, ephemeral);
  if (!ss) return undefined;
  let k: Uint8Array;
  [c, k] = kdf2(c, ss);
  zeroize(ss);
  const remoteStatic = aeadOpen(k, 0, msg.encryptedStatic, h);
  zeroize(k);
  if (!remoteStatic) return undefined;
  h = hash(h, msg.encryptedStatic);
  return {
    remoteStatic,
    senderIndex: msg.senderIndex,
    ephemeral,
    encryptedTimestamp: msg.encryptedTimestamp.slice(),
    hash: h,
    chainKey: c,
  };
}

/** Why consuming an initiation failed (each maps to a drop reason). */
export type InitiationRejection = 'handshake-decrypt' | 'stale-timestamp' | 'rate-limited';

/** Keys and indices of a completed handshake, handed to a new keypair. */
export interface TransportKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly isInitiator: boolean;
  readonly localIndex: number;
  readonly remoteIndex: number;
}

/**
 * Handshake state for one peer. Holds the precomputed static-static DH and the preshared key
 * (zeros when none, as the paper specifies for the psk2 pattern).
 */
export class Handshake {
  state: HandshakeState = 'zeroed';
  /** Transcript hash H (exposed read-only for tests and the timeline). */
  hash: Uint8Array = new Uint8Array(HASH_SIZE);
  /** Chaining key C. */
  chainKey: Uint8Array = new Uint8Array(HASH_SIZE);
  /** Our index for this handshake, once allocated. */
  localIndex: number | undefined;
  /** The peer's index (sender index of its message). */
  remoteIndex = 0;
  /** Greatest TAI64N timestamp accepted from this peer (paper §5.1). */
  readonly lastTimestamp: Uint8Array = new Uint8Array(TIMESTAMP_SIZE);
  /** `now` of the last consumed initiation, for the per-peer flood limit. */
  lastInitiationConsumedAt = -Infinity;

  readonly identity: StaticIdentity;
  readonly remoteStatic: Uint8Array;
  readonly presharedKey: Uint8Array;
  private readonly precomputedStaticStatic: Uint8Array;
  private localEphemeral: Uint8Array | undefined;
  private remoteEphemeral: Uint8Array | undefined;

  /**
   * @throws {RangeError} when a key has the wrong length or the peer's public key is a low-order
   *   point (the static-static DH would be zero and no handshake could ever succeed).
   */
  constructor(identity: StaticIdentity, remoteStatic: Uint8Array, presharedKey?: Uint8Array) {
    if (!(remoteStatic instanceof Uint8Array) || remoteStatic.length !== KEY_LENGTH) throw new RangeError(`PublicKey must be ${KEY_LENGTH} bytes`);
    if (presharedKey !== undefined && (!(presharedKey instanceof Uint8Array) || presharedKey.length !== KEY_LENGTH)) {
      throw new RangeError(`PresharedKey must be ${KEY_LENGTH} bytes`);
    }
    const ss = dh(identity.privateKey, remoteStatic);
    if (!ss) throw new RangeError('PublicKey is a low-order point: no handshake with it can succeed');
    this.identity = identity;
    this.remoteStatic = remoteStatic.slice();
    this.presharedKey = presharedKey ? presharedKey.slice() : new Uint8Array(KEY_LENGTH);
    this.precomputedStaticStatic = ss;
  }

  /**
   * Initiator: builds a handshake initiation (paper §5.4.2) with MAC1/MAC2 left zero.
   * @param ephemeralPrivate a fresh clamped private key (consumed: zeroed with the handshake)
   * @param timestamp the 12-byte TAI64N of now
   * @param senderIndex our freshly allocated index
   */
  createInitiation(ephemeralPrivate: Uint8Array, timestamp: Uint8Array, senderIndex: number): Uint8Array {
    this.wipeSecrets();
    let h = hash(INITIAL_HASH, this.remoteStatic);
    const ephemeral = publicKeyFromPrivate(ephemeralPrivate);
    let c = kdf1(INITIAL_CHAIN_KEY, ephemeral);
    h = hash(h, ephemeral);
    const ss = dh(ephemeralPrivate, this.remoteStatic);
    // The peer key was checked for low order in the constructor, so this cannot be zero.
    if (!ss) throw new Error('unreachable: DH with a checked public key was zero');
    let k: Uint8Array;
    [c, k] = kdf2(c, ss);
    zeroize(ss);
    const encryptedStatic = aeadSeal(k, 0, this.identity.publicKey, h);
    h = hash(h, encryptedStatic);
    [c, k] = kdf2(c, this.precomputedStaticStatic);
    const encryptedTimestamp = aeadSeal(k, 0, timestamp, h);
    zeroize(k);
    h = hash(h, encryptedTimestamp);

    const msg = new Uint8Array(INITIATION_SIZE);
    msg[0] = MESSAGE_INITIATION;
    writeU32LE(msg, INITIATION.sender, senderIndex);
    msg.set(ephemeral, INITIATION.ephemeral);
    msg.set(encryptedStatic, INITIATION.static);
    msg.set(encryptedTimestamp, INITIATION.timestamp);

    this.hash = h;
    this.chainKey = c;
    this.localEphemeral = ephemeralPrivate;
    this.localIndex = senderIndex;
    this.state = 'initiation-created';
    return msg;
  }

  /**
   * Responder, step 2 (after {@link decryptInitiationStatic} named this peer): decrypt and check
   * the timestamp, apply the flood limit, and take over the handshake state.
   */
  consumeInitiation(d: DecryptedInitiation, now: number): InitiationRejection | undefined {
    const [c, k] = kdf2(d.chainKey, this.precomputedStaticStatic);
    const timestamp = aeadOpen(k, 0, d.encryptedTimestamp, d.hash);
    zeroize(k);
    if (!timestamp || timestamp.length !== TIMESTAMP_SIZE) {
      zeroize(c);
      return 'handshake-decrypt';
    }
    // Replay protection (paper §5.1): only strictly newer timestamps from this peer.
    let rejection: InitiationRejection | undefined;
    if (compareTai64n(timestamp, this.lastTimestamp) <= 0) rejection = 'stale-timestamp';
    // Flood protection: an attacker replaying fresh-looking initiations cannot force more than
    // one ephemeral computation per HANDSHAKE_INITIATION_RATE_MS.
    else if (now - this.lastInitiationConsumedAt <= HANDSHAKE_INITIATION_RATE_MS) rejection = 'rate-limited';
    if (rejection) {
      zeroize(c);
      return rejection;
    }

    this.wipeSecrets();
    this.hash = hash(d.hash, d.encryptedTimestamp);
    this.chainKey = c;
    this.remoteIndex = d.senderIndex;
    this.remoteEphemeral = d.ephemeral.slice();
    this.lastTimestamp.set(timestamp);
    this.lastInitiationConsumedAt = now;
    this.state = 'initiation-consumed';
    return undefined;
  }

  /**
   * Responder: builds the handshake response (paper §5.4.3) with MAC1/MAC2 left zero, or
   * `undefined` if no initiation is pending.
   */
  createResponse(ephemeralPrivate: Uint8Array, senderIndex: number): Uint8Array | undefined {
    if (this.state !== 'initiation-consumed' || !this.remoteEphemeral) return undefined;
    const ephemeral = publicKeyFromPrivate(ephemeralPrivate);
    let h = hash(this.hash, ephemeral);
    let c = kdf1(this.chainKey, ephemeral);
    const ee = dh(ephemeralPrivate, this.remoteEphemeral);
    const es = dh(ephemeralPrivate, this.remoteStatic);
    if (!ee || !es) return undefined;
    c = kdf1(c, ee);
    c = kdf1(c, es);
    zeroize(ee, es);
    const [c2, tau, k] = kdf3(c, this.presharedKey);
    h = hash(h, tau);
    const encryptedNothing = aeadSeal(k, 0, EMPTY, h);
    zeroize(tau, k, c);
    h = hash(h, encryptedNothing);

    const msg = new Uint8Array(RESPONSE_SIZE);
    msg[0] = MESSAGE_RESPONSE;
    writeU32LE(msg, RESPONSE.sender, senderIndex);
    writeU32LE(msg, RESPONSE.receiver, this.remoteIndex);
    msg.set(ephemeral, RESPONSE.ephemeral);
    msg.set(encryptedNothing, RESPONSE.empty);

    this.hash = h;
    this.chainKey = c2;
    zeroize(this.localEphemeral);
    this.localEphemeral = ephemeralPrivate;
    this.localIndex = senderIndex;
    this.state = 'response-created';
    return msg;
  }

  /**
   * Initiator: consumes the handshake response (paper §5.4.3). Returns false, leaving the state
   * untouched, when the response does not authenticate or no initiation is outstanding.
   */
  consumeResponse(msg: ResponseView): boolean {
    if (this.state !== 'initiation-created' || !this.localEphemeral) return false;
    const ephemeral = msg.ephemeral;
    let h = hash(this.hash, ephemeral);
    let c = kdf1(this.chainKey, ephemeral);
    const ee = dh(this.localEphemeral, ephemeral);
    const se = dh(this.identity.privateKey, ephemeral);
    if (!ee || !se) return false;
    c = kdf1(c, ee);
    c = kdf1(c, se);
    zeroize(ee, se);
    const [c2, tau, k] = kdf3(c, this.presharedKey);
    h = hash(h, tau);
    const ok = aeadOpen(k, 0, msg.encryptedNothing, h);
    zeroize(tau, k, c);
    if (!ok || msg.encryptedNothing.length !== AEAD_TAG_SIZE) {
      zeroize(c2);
      return false;
    }
    this.hash = hash(h, msg.encryptedNothing);
    this.chainKey = c2;
    this.remoteIndex = msg.senderIndex;
    this.state = 'response-consumed';
    return true;
  }

  /**
   * Both roles: (T_send, T_recv) from the final chaining key (paper §5.4.5), then zero the
   * handshake. `undefined` unless a response was just created or consumed.
   */
  deriveTransportKeys(): TransportKeys | undefined {
    let isInitiator: boolean;
    if (this.state === 'response-consumed') isInitiator = true;
    else if (this.state === 'response-created') isInitiator = false;
    else return undefined;
    const [t1, t2] = kdf2(this.chainKey, EMPTY);
    const keys: TransportKeys = {
      sendKey: isInitiator ? t1 : t2,
      receiveKey: isInitiator ? t2 : t1,
      isInitiator,
      localIndex: this.localIndex ?? 0,
      remoteIndex: this.remoteIndex,
    };
    this.clear();
    return keys;
  }

  /**
   * Zeroes ephemeral secrets, C and H and forgets the local index. The caller owns the index
   * table and frees or re-maps that index itself.
   */
  clear(): void {
    this.wipeSecrets();
    this.localIndex = undefined;
    this.state = 'zeroed';
  }

  private wipeSecrets(): void {
    zeroize(this.localEphemeral, this.remoteEphemeral, this.chainKey, this.hash);
    this.localEphemeral = undefined;
    this.remoteEphemeral = undefined;
    this.chainKey = new Uint8Array(HASH_SIZE);
    this.hash = new Uint8Array(HASH_SIZE);
  }

  /** Zeroes everything including the static-static secret and PSK (peer removal, tunnel close). */
  destroy(): void {
    this.clear();
    zeroize(this.precomputedStaticStatic, this.presharedKey);
  }

  /** True when a preshared key other than all zeros is configured. */
  get hasPresharedKey(): boolean {
    return !isAllZero(this.presharedKey);
  }
}
