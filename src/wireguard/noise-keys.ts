/**
 * Curve25519 keys as WireGuard uses them (WireGuard paper §5.4: DH, DH-GENERATE, DH-PUBKEY).
 * Byte- and text-compatible with `wg genkey`, `wg pubkey` and `wg genpsk`: 32 bytes, standard base64.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { fromBase64, isAllZero, toBase64, webCryptoRandomBytes } from '../shared/bytes.ts';
import type { RandomBytes } from '../shared/bytes.ts';

/** Length of a Curve25519 key, a preshared key, and a BLAKE2s hash. */
export const KEY_LENGTH = 32;

/** Applies X25519 clamping (RFC 7748 §5) in place, exactly as `wg genkey` does, and returns `key`. */
export function clampPrivateKey(key: Uint8Array): Uint8Array {
  key[0] &= 248;
  key[31] = (key[31] & 127) | 64;
  return key;
}

/** A new clamped private key (`wg genkey`). */
export function generatePrivateKey(random: RandomBytes = webCryptoRandomBytes): Uint8Array {
  return clampPrivateKey(random(KEY_LENGTH));
}

/** The public key for `privateKey` (`wg pubkey`). Clamping is applied by X25519 itself. */
export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  checkKeyLength(privateKey, 'private key');
  return x25519.getPublicKey(privateKey);
}

/** A new 32-byte preshared key (`wg genpsk`). */
export function generatePresharedKey(random: RandomBytes = webCryptoRandomBytes): Uint8Array {
  return random(KEY_LENGTH);
}

/**
 * X25519(privateKey, publicKey). Returns `undefined` for the all-zero result that a low-order
 * public key produces: the protocol must then reject the message (WireGuard paper §5.4.2).
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  try {
    const shared = x25519.getSharedSecret(privateKey, publicKey);
    return isAllZero(shared) ? undefined : shared;
  } catch {
    // noble throws on an all-zero shared secret; treat it like the explicit check above.
    return undefined;
  }
}

/**
 * Decodes a base64 key as printed by `wg` (44 characters, 32 bytes).
 * @param what names the key in the error message ("PublicKey", "private key", ...).
 * @throws {RangeError} e.g. `PublicKey must be 32 bytes of base64`.
 */
export function parseKey(text: string, what = 'key'): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text.trim());
  } catch {
    throw new RangeError(`${what} must be 32 bytes of base64`);
  }
  if (bytes.length !== KEY_LENGTH) throw new RangeError(`${what} must be 32 bytes of base64`);
  return bytes;
}

/** Base64 text form of a key, as `wg` prints it. */
export function formatKey(key: Uint8Array): string {
  checkKeyLength(key, 'key');
  return toBase64(key);
}

function checkKeyLength(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new RangeError(`${what} must be ${KEY_LENGTH} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
  }
}
