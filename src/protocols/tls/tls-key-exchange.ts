/**
 * Ephemeral (EC)DH key shares for the named groups the client offers: X25519 (RFC 7748) and the
 * NIST curves P-256 / P-384 with uncompressed points (RFC 8446 §4.2.8.2). The shared secret is the
 * X25519 output or the ECDH point's x-coordinate (RFC 8446 §7.4), the same for TLS 1.2 ECDHE
 * (RFC 8422 §5.10).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { isAllZero } from '../../shared/bytes.ts';
import { NamedGroup } from './tls-constants.ts';
import { TlsDecodeError } from './tls-codec.ts';

export interface KeyShare {
  group: number;
  publicKey: Uint8Array;
  /** The shared secret with the peer's public key; throws TlsDecodeError (illegal_parameter) for a bad one. */
  agree(peer: Uint8Array): Uint8Array;
}

export const SUPPORTED_GROUPS: readonly number[] = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];

export function groupName(group: number): string {
  return group === NamedGroup.x25519 ? 'x25519' : group === NamedGroup.secp256r1 ? 'P-256' : group === NamedGroup.secp384r1 ? 'P-384' : `group 0x${group.toString(16)}`;
}

/** A fresh key pair in `group`; `secret` is for deterministic tests (RFC 8448 traces). */
export function generateKeyShare(group: number, secret?: Uint8Array): KeyShare {
  if (group === NamedGroup.x25519) {
    const sk = secret ?? x25519.utils.randomSecretKey();
    return {
      group,
      publicKey: x25519.getPublicKey(sk),
      agree(peer) {
        if (peer.length !== 32) throw new TlsDecodeError(`the server's X25519 key share has ${peer.length} bytes, not 32`, 47);
        const s = x25519.getSharedSecret(sk, peer);
        // RFC 8446 §7.4.2 / RFC 7748 §6.1: an all-zero result means a low-order point.
        if (isAllZero(s)) throw new TlsDecodeError("the server's X25519 key share is a low-order point", 47);
        return s;
      },
    };
  }
  const curve = group === NamedGroup.secp256r1 ? p256 : group === NamedGroup.secp384r1 ? p384 : undefined;
  if (!curve) throw new RangeError(`unsupported group 0x${group.toString(16)}`);
  const size = group === NamedGroup.secp256r1 ? 32 : 48;
  const sk = secret ?? curve.utils.randomSecretKey();
  return {
    group,
    publicKey: curve.getPublicKey(sk, false),
    agree(peer) {
      if (peer.length !== 1 + 2 * size || peer[0] !== 4) throw new TlsDecodeError(`the server's ${groupName(group)} key share is not an uncompressed point`, 47);
      try {
        return curve.getSharedSecret(sk, peer, false).slice(1, 1 + size);
      } catch {
        throw new TlsDecodeError(`the server's ${groupName(group)} key share is not a point on the curve`, 47);
      }
    },
  };
}
