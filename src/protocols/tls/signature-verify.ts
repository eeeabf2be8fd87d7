/**
 * Signature checks for certificates (RFC 5280 §4.1.1.3) and for TLS handshake signatures
 * (RFC 8446 §4.4.3 CertificateVerify, RFC 5246 §7.4.3 ServerKeyExchange), with the signer's key
 * taken from its certificate.
 *
 * Flow: pick the algorithm (from the certificate's AlgorithmIdentifier, or from the TLS
 * SignatureScheme code, RFC 8446 §4.2.3) → check it fits the key type → verify with WebCrypto
 * (RSA PKCS#1 v1.5, RSA-PSS, ECDSA; present in Node ≥ 20 and in workers) or @noble/curves
 * (Ed25519: WebCrypto's Ed25519 is missing from older browsers, and noble is already bundled).
 * Bad keys or signatures give `false`, never an exception: these are network bytes.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import { SignatureScheme } from './tls-constants.ts';
import type { PublicKeyKind, SignatureAlgorithm } from './x509-certificate.ts';

/** The subject key of a certificate, as {@link verifySignature} needs it. */
export interface SignerKey {
  spkiDer: Uint8Array;
  publicKey: PublicKeyKind;
}

const CURVE_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

export { SignatureScheme };

/** The algorithm a TLS SignatureScheme names, plus the curve TLS 1.3 binds it to; `undefined` if unsupported. */
export function schemeAlgorithm(
  scheme: number,
): { alg: SignatureAlgorithm; curve?: 'P-256' | 'P-384' | 'P-521'; legacy?: true; pssKey?: true } | undefined {
  const S = SignatureScheme;
  switch (scheme) {
    case S.rsa_pkcs1_sha1:
      return { alg: { kind: 'rsa-pkcs1', hash: 'SHA-1' }, legacy: true };
    case S.ecdsa_sha1:
      return { alg: { kind: 'ecdsa', hash: 'SHA-1' }, legacy: true };
    case S.rsa_pkcs1_sha256:
      return { alg: { kind: 'rsa-pkcs1', hash: 'SHA-256' } };
    case S.rsa_pkcs1_sha384:
      return { alg: { kind: 'rsa-pkcs1', hash: 'SHA-384' } };
    case S.rsa_pkcs1_sha512:
      return { alg: { kind: 'rsa-pkcs1', hash: 'SHA-512' } };
    case S.ecdsa_secp256r1_sha256:
      return { alg: { kind: 'ecdsa', hash: 'SHA-256' }, curve: 'P-256' };
    case S.ecdsa_secp384r1_sha384:
      return { alg: { kind: 'ecdsa', hash: 'SHA-384' }, curve: 'P-384' };
    case S.ecdsa_secp521r1_sha512:
      return { alg: { kind: 'ecdsa', hash: 'SHA-512' }, curve: 'P-521' };
    // RFC 8446 §4.2.3: rsa_pss_rsae_* use a salt as long as the digest.
    case S.rsa_pss_rsae_sha256:
      return { alg: { kind: 'rsa-pss', hash: 'SHA-256', saltLength: 32 } };
    case S.rsa_pss_rsae_sha384:
      return { alg: { kind: 'rsa-pss', hash: 'SHA-384', saltLength: 48 } };
    case S.rsa_pss_rsae_sha512:
      return { alg: { kind: 'rsa-pss', hash: 'SHA-512', saltLength: 64 } };
    // rsa_pss_pss_*: the same signature, but the certificate key must be an RSASSA-PSS key.
    case S.rsa_pss_pss_sha256:
      return { alg: { kind: 'rsa-pss', hash: 'SHA-256', saltLength: 32 }, pssKey: true };
    case S.rsa_pss_pss_sha384:
      return { alg: { kind: 'rsa-pss', hash: 'SHA-384', saltLength: 48 }, pssKey: true };
    case S.rsa_pss_pss_sha512:
      return { alg: { kind: 'rsa-pss', hash: 'SHA-512', saltLength: 64 }, pssKey: true };
    case S.ed25519:
      return { alg: { kind: 'ed25519' } };
    default:
      return undefined;
  }
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available: wgweb needs a secure context (https or localhost)');
  return s;
}

/** ECDSA-Sig-Value DER (X.509, TLS) → the fixed-width r‖s form WebCrypto verifies; `undefined` if malformed. */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  let v: ECDSASigValue;
  try {
    v = AsnConvert.parse(der, ECDSASigValue);
  } catch {
    return undefined;
  }
  // Re-encoding must give the same bytes: rejects trailing data and non-minimal encodings (BER).
  const again = new Uint8Array(AsnConvert.serialize(v));
  if (again.length !== der.length || again.some((b, i) => b !== der[i])) return undefined;
  const out = new Uint8Array(size * 2);
  for (const [i, part] of [new Uint8Array(v.r), new Uint8Array(v.s)].entries()) {
    let p = part;
    while (p.length > 0 && p[0] === 0) p = p.subarray(1);
    if (p.length > size) return undefined;
    out.set(p, i * size + size - p.length);
  }
  return out;
}

/**
 * Verifies `signature` over `data` with the key of `signer` under `alg`. `false` for any mismatch:
 * wrong key type for the algorithm, malformed key or signature, or a signature that does not verify.
 */
export async function verifySignature(signer: SignerKey, alg: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const key = signer.publicKey;
  try {
    switch (alg.kind) {
      case 'ed25519':
        if (key.kind !== 'ed25519' || key.raw.length !== 32 || signature.length !== 64) return false;
        // RFC 8032 §5.1.7 strict decoding (not ZIP-215's relaxed rules): what TLS stacks accept.
        return ed25519.verify(signature, data, key.raw, { zip215: false });
      case 'ecdsa': {
        if (key.kind !== 'ec') return false;
        const raw = ecdsaDerToRaw(signature, CURVE_BYTES[key.curve]);
        if (!raw) return false;
        const k = await subtle().importKey('spki', signer.spkiDer as BufferSource, { name: 'ECDSA', namedCurve: key.curve }, false, ['verify']);
        return await subtle().verify({ name: 'ECDSA', hash: alg.hash }, k, raw as BufferSource, data as BufferSource);
      }
      case 'rsa-pkcs1': {
        // RFC 4055 §1.2: an RSASSA-PSS key is for PSS signatures only.
        if (key.kind !== 'rsa' || key.pssOnly) return false;
        const k = await subtle().importKey('spki', signer.spkiDer as BufferSource, { name: 'RSASSA-PKCS1-v1_5', hash: alg.hash }, false, ['verify']);
        return await subtle().verify('RSASSA-PKCS1-v1_5', k, signature as BufferSource, data as BufferSource);
      }
      case 'rsa-pss': {
        if (key.kind !== 'rsa') return false;
        if (alg.saltLength < 0 || alg.saltLength > 1024) return false;
        const k = await subtle().importKey('spki', signer.spkiDer as BufferSource, { name: 'RSA-PSS', hash: alg.hash }, false, ['verify']);
        return await subtle().verify({ name: 'RSA-PSS', saltLength: alg.saltLength }, k, signature as BufferSource, data as BufferSource);
      }
    }
  } catch (e) {
    // No WebCrypto at all is a deployment problem, not a bad signature: let it surface.
    if (e instanceof Error && e.message.startsWith('WebCrypto')) throw e;
    return false;
  }
  return false;
}

