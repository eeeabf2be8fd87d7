/**
 * The cryptographic primitives of the WireGuard paper §5.4, on @noble/hashes and @noble/ciphers:
 *
 *   HASH(x)        BLAKE2s-256 of the concatenation of its inputs
 *   MAC(key, x)    keyed BLAKE2s with a 16-byte output (RFC 7693)
 *   HMAC(key, x)   HMAC-BLAKE2s-256 (RFC 2104)
 *   KDF1..3        HKDF-style chain of HMACs (RFC 5869 with BLAKE2s), 1 to 3 outputs of 32 bytes
 *   AEAD(k, n, p, a)   ChaCha20-Poly1305 (RFC 8439) with nonce = 32 zero bits ‖ 64-bit LE counter
 *   XAEAD(k, n, p, a)  XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) with a 24-byte random nonce
 *
 * Transport data does not go through these helpers: keypair.ts seals and opens packets in place
 * with transport-aead.ts, a ChaCha20-Poly1305 specialised for that nonce and empty AD (the header
 * of that file says why it is not noble there). The handshake and cookies stay on noble.
 */
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AEAD_TAG_SIZE, MAC_SIZE } from './constants.ts';

/** BLAKE2s-256 output length. */
export const HASH_SIZE = 32;

/** HASH(parts[0] ‖ parts[1] ‖ …) with BLAKE2s-256. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = blake2s.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** MAC(key, data): keyed BLAKE2s with a 16-byte digest (paper §5.4.4, used for MAC1/MAC2/cookies). */
export function mac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return blake2s(data, { key, dkLen: MAC_SIZE });
}

/** HMAC-BLAKE2s(key, parts[0] ‖ parts[1] ‖ …). */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = nobleHmac.create(blake2s, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
const THREE = Uint8Array.of(3);

/** KDF1(key, input) = τ1 with τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1) (paper §5.4). */
export function kdf1(key: Uint8Array, input: Uint8Array): Uint8Array {
  const prk = hmac(key, input);
  const t1 = hmac(prk, ONE);
  prk.fill(0);
  return t1;
}

/** KDF2(key, input) = (τ1, τ2) with τ2 = HMAC(τ0, τ1 ‖ 0x2). */
export function kdf2(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array] {
  const prk = hmac(key, input);
  const t1 = hmac(prk, ONE);
  const t2 = hmac(prk, t1, TWO);
  prk.fill(0);
  return [t1, t2];
}

/** KDF3(key, input) = (τ1, τ2, τ3) with τ3 = HMAC(τ0, τ2 ‖ 0x3). */
export function kdf3(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  const prk = hmac(key, input);
  const t1 = hmac(prk, ONE);
  const t2 = hmac(prk, t1, TWO);
  const t3 = hmac(prk, t2, THREE);
  prk.fill(0);
  return [t1, t2, t3];
}

/**
 * Writes the 96-bit ChaCha20-Poly1305 nonce for a 64-bit counter given as two 32-bit words:
 * 32 zero bits then the counter little-endian (paper §5.4.6, RFC 8439 §2.8).
 */
export function writeCounterNonce(nonce: Uint8Array, counterLo: number, counterHi: number): void {
  nonce[0] = nonce[1] = nonce[2] = nonce[3] = 0;
  nonce[4] = counterLo;
  nonce[5] = counterLo >>> 8;
  nonce[6] = counterLo >>> 16;
  nonce[7] = counterLo >>> 24;
  nonce[8] = counterHi;
  nonce[9] = counterHi >>> 8;
  nonce[10] = counterHi >>> 16;
  nonce[11] = counterHi >>> 24;
}

function counterNonce(counter: number): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`AEAD counter must be a non-negative safe integer, got ${counter}`);
  const nonce = new Uint8Array(12);
  writeCounterNonce(nonce, counter >>> 0, Math.floor(counter / 2 ** 32));
  return nonce;
}

/** AEAD(key, counter, plaintext, ad): ChaCha20-Poly1305, ciphertext ‖ 16-byte tag. */
export function aeadSeal(key: Uint8Array, counter: number, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  return chacha20poly1305(key, counterNonce(counter), ad).encrypt(plaintext);
}

/** Opens an AEAD box; `undefined` when the tag does not verify (never throws for bad input bytes). */
export function aeadOpen(key: Uint8Array, counter: number, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  if (ciphertext.length < AEAD_TAG_SIZE) return undefined;
  try {
    return chacha20poly1305(key, counterNonce(counter), ad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

/** XAEAD(key, nonce24, plaintext, ad): XChaCha20-Poly1305, ciphertext ‖ 16-byte tag. */
export function xaeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
}

/** Opens an XAEAD box; `undefined` when the tag does not verify. */
export function xaeadOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  if (ciphertext.length < AEAD_TAG_SIZE) return undefined;
  try {
    return xchacha20poly1305(key, nonce, ad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}
