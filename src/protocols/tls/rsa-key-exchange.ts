/**
 * The TLS 1.2 RSA key exchange (RFC 5246 §7.4.7.1), for legacy appliances only: the client makes
 * the 48-byte premaster secret (client_version ‖ 46 random bytes) and encrypts it to the server
 * certificate's RSA key with RSAES-PKCS1-v1_5 (RFC 8017 §7.2.1). No forward secrecy, which is why
 * it is opt-in per host.
 *
 *   leaf certificate DER ─▶ keyUsage allows keyEncipherment? ─▶ SPKI ─▶ RSAPublicKey (n, e)
 *       ─▶ EM = 00 02 PS 00 PMS ─▶ EM^e mod n
 *
 * WebCrypto has no PKCS#1 v1.5 encryption (only RSA-OAEP) and @noble has no RSA, so the public-key
 * operation is a BigInt modular exponentiation. It uses only public values (the key) and the
 * secret as the base, with a fixed exponent, so there is no secret-dependent branching to time.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, KeyUsage } from '@peculiar/asn1-x509';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { TLS12 } from './tls-constants.ts';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const KEY_USAGE = '2.5.29.15';

/** An RSA public key as integers, with the modulus length in bytes. */
export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  byteLength: number;
}

function toBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function toBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

/**
 * The rsaEncryption key of a certificate (DER).
 * @throws {RangeError} when the certificate's key is not an rsaEncryption key (RSA-PSS-only keys may
 *   not encrypt, RFC 4055 §1.2) or is unreadable, or when its keyUsage extension is present without
 *   keyEncipherment (RFC 5246 §7.4.2, RFC 5280 §4.2.1.3).
 */
export function rsaPublicKeyOf(certificateDer: Uint8Array): RsaPublicKey {
  const cert = AsnConvert.parse(certificateDer, Certificate);
  const spki = cert.tbsCertificate.subjectPublicKeyInfo;
  // RFC 5246 §7.4.2 and RFC 5280 §4.2.1.3: a key the premaster secret is encrypted to must allow
  // keyEncipherment when the certificate limits its key usage at all.
  const ku = cert.tbsCertificate.extensions?.find((e) => e.extnID === KEY_USAGE);
  if (ku && !(AsnConvert.parse(ku.extnValue, KeyUsage).toJSON() as string[]).includes('keyEncipherment')) {
    throw new RangeError(`the certificate's keyUsage does not allow key encipherment, which the RSA key exchange needs (RFC 5246 §7.4.2)`);
  }
  if (spki.algorithm.algorithm !== RSA_ENCRYPTION) throw new RangeError(`the certificate's key (${spki.algorithm.algorithm}) is not an RSA encryption key`);
  const key = AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey);
  let modulus = new Uint8Array(key.modulus);
  while (modulus.length > 1 && modulus[0] === 0) modulus = modulus.subarray(1);
  const n = toBigInt(modulus);
  const e = toBigInt(new Uint8Array(key.publicExponent));
  if (modulus.length < 128 || e < 3n || e % 2n === 0n) throw new RangeError(`the certificate's RSA key is unusable (${modulus.length * 8} bits, e = ${e})`);
  return { n, e, byteLength: modulus.length };
}

/** RSAES-PKCS1-v1_5 encryption of `message` (RFC 8017 §7.2.1); `random` supplies the padding. */
export function rsaPkcs1Encrypt(key: RsaPublicKey, message: Uint8Array, random: (n: number) => Uint8Array): Uint8Array {
  const k = key.byteLength;
  if (message.length > k - 11) throw new RangeError(`an RSA-${k * 8} key encrypts at most ${k - 11} bytes`);
  const em = new Uint8Array(k);
  em[1] = 2;
  // PS: k - mLen - 3 non-zero random bytes.
  const ps = em.subarray(2, k - message.length - 1);
  let filled = 0;
  while (filled < ps.length) {
    for (const b of random(ps.length - filled)) if (b !== 0 && filled < ps.length) ps[filled++] = b;
  }
  em.set(message, k - message.length);
  return toBytes(modPow(toBigInt(em), key.e, key.n), k);
}

/** A premaster secret and its encryption for the ClientKeyExchange (RFC 5246 §7.4.7.1). */
export function rsaKeyExchange(certificateDer: Uint8Array, random: (n: number) => Uint8Array): { premaster: Uint8Array; encrypted: Uint8Array } {
  const premaster = new Uint8Array(48);
  // client_version is the version offered in the ClientHello (we offer TLS 1.2 as the highest 1.2-style version).
  premaster[0] = TLS12 >> 8;
  premaster[1] = TLS12 & 0xff;
  premaster.set(random(46), 2);
  return { premaster, encrypted: rsaPkcs1Encrypt(rsaPublicKeyOf(certificateDer), premaster, random) };
}
