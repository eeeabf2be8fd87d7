/**
 * Configuration of a {@link Tunnel} (the `[Interface]` private key and `[Peer]` sections of a
 * wg-quick file, as bytes), the construction options, and their validation. Invalid caller input
 * throws TypeError/RangeError with a message naming the field (the caller-mistake tier of the
 * error tiers in docs/contributing.md).
 */
import type { Endpoint, IpPrefix } from '../shared/ip-address.ts';
import type { RandomBytes } from '../shared/bytes.ts';
import { KEY_LENGTH } from './noise-keys.ts';

/** One `[Peer]`. */
export interface PeerConfig {
  /** The peer's Curve25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** Optional 32-byte preshared key (all zeros when absent, per the protocol). */
  presharedKey?: Uint8Array;
  /** Where to send handshakes; learned from authenticated packets when absent (roaming). */
  endpoint?: Endpoint;
  /** Cryptokey routing: destinations we send to this peer, sources we accept from it. */
  allowedIPs: IpPrefix[];
  /** Seconds between keepalives to keep NAT state alive; 0 or undefined = off. */
  persistentKeepalive?: number;
}

/** The `[Interface]` key and the peers. */
export interface TunnelConfig {
  /** Our Curve25519 private key, 32 bytes (as from `wg genkey`; clamping is applied by X25519). */
  privateKey: Uint8Array;
  peers: PeerConfig[];
}

/** Construction options (all optional). */
export interface TunnelOptions {
  /** CSPRNG; defaults to Web Crypto. Inject a seeded one for deterministic tests. */
  randomBytes?: RandomBytes;
  /**
   * Wall-clock ms = now + offset, for the TAI64N timestamp in initiations. When omitted the
   * offset is taken once from `Date.now()` at the first initiation: a peer rejects initiations
   * whose timestamp is not newer than the last it accepted, so timestamps must be real time.
   */
  wallClockOffsetMs?: number;
  /** Tunnel MTU used to bound padding (default 1420). */
  mtu?: number;
  /** Overrides the "under load" decision (cookie demands); for tests. */
  underLoad?: (now: number) => boolean;
  /**
   * Decrypt transport data in place: `receiveDatagram` may then overwrite the datagram's bytes
   * and returns packets that are views into it, instead of a fresh buffer per packet. For callers
   * that own each received datagram and do not read it afterwards (the Session's relay
   * transport). The packets are views valid until the caller reuses that memory, so what reads
   * them must copy what it keeps (the netstack does). Default false.
   */
  decryptInPlace?: boolean;
  /**
   * Seal transport data in place: `sendPacket` may then overwrite the packet and the
   * PACKET_HEADROOM bytes before it and PACKET_TAILROOM bytes after it (shared/packet-room.ts)
   * when its buffer has them, and returns the datagram as a view of those bytes, instead of
   * copying the packet into a new message. For callers whose packets are theirs to give away and
   * come with that room (NetInterface.poll's, driven by the EventLoop). A packet without the room
   * is copied as before. Default false.
   */
  sealInPlace?: boolean;
}

/**
 * Checks one peer config.
 * @throws {TypeError|RangeError} naming the offending field.
 */
export function validatePeerConfig(p: PeerConfig): void {
  if (typeof p !== 'object' || p === null) throw new TypeError('peer config must be an object');
  if (!(p.publicKey instanceof Uint8Array) || p.publicKey.length !== KEY_LENGTH) {
    throw new RangeError(`PublicKey must be ${KEY_LENGTH} bytes, got ${p.publicKey instanceof Uint8Array ? p.publicKey.length : typeof p.publicKey}`);
  }
  if (p.presharedKey !== undefined && (!(p.presharedKey instanceof Uint8Array) || p.presharedKey.length !== KEY_LENGTH)) {
    throw new RangeError(`PresharedKey must be ${KEY_LENGTH} bytes`);
  }
  if (p.endpoint !== undefined) validateEndpoint(p.endpoint);
  if (!Array.isArray(p.allowedIPs)) throw new TypeError('AllowedIPs must be an array of prefixes');
  for (const prefix of p.allowedIPs) {
    if (!prefix || !(prefix.address instanceof Uint8Array) || (prefix.address.length !== 4 && prefix.address.length !== 16)) {
      throw new RangeError('each AllowedIPs entry needs a 4- or 16-byte address');
    }
    const max = prefix.address.length * 8;
    if (!Number.isInteger(prefix.prefixLength) || prefix.prefixLength < 0 || prefix.prefixLength > max) {
      throw new RangeError(`AllowedIPs prefix length must be 0 to ${max}, got ${prefix.prefixLength}`);
    }
  }
  const ka = p.persistentKeepalive;
  if (ka !== undefined && (!Number.isInteger(ka) || ka < 0 || ka > 65535)) {
    throw new RangeError(`PersistentKeepalive must be 0 to 65535 seconds, got ${ka}`);
  }
}

/** @throws {TypeError|RangeError} unless `e` is a host plus a port 1..65535. */
export function validateEndpoint(e: Endpoint): void {
  if (typeof e !== 'object' || e === null || typeof e.host !== 'string' || e.host === '') {
    throw new TypeError('Endpoint must be { host, port } with a non-empty host');
  }
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw new RangeError(`Endpoint port must be 1 to 65535, got ${e.port}`);
}
