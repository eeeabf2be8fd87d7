/**
 * SSH public keys and signatures: host keys the server proves, user keys the client offers.
 *
 *   parsePublicKey(blob) ──▶ SshPublicKey { type, blob, verify(signatureBlob, data) }
 *   ssh-ed25519          RFC 8709 §4/§6: string "ssh-ed25519", string key(32); signature 64 bytes
 *   ecdsa-sha2-nistp256  RFC 5656 §3.1: string name, string "nistp256", string Q; signature
 *                        string(mpint r || mpint s) over SHA-256
 *   ssh-rsa key with rsa-sha2-256 / rsa-sha2-512 signatures (RFC 8332 §3): string "ssh-rsa",
 *                        mpint e, mpint n; PKCS#1 v1.5 (RFC 8017 §8.2.2) checked with bigint math
 *   fingerprint(blob)    `SHA256:` + unpadded base64 of SHA-256(blob), as `ssh-keygen -l` prints it
 *
 * Verification never throws on network bytes: malformed keys/signatures verify as false.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { toBase64, fromBase64 } from '../../shared/bytes.ts';
import { SshReader, SshWriter, bigintToBytes, bytesToBigint } from './ssh-codec.ts';

/** Host key algorithms (signature names) in our order of preference. */
export const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'] as const;

/** A parsed public key. */
export interface SshPublicKey {
  /** The key type in the blob: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  readonly type: string;
  /** The wire encoding (what fingerprints and known_hosts lines are made of). */
  readonly blob: Uint8Array;
  /** RSA modulus size in bits, EC/Ed curve size otherwise. */
  readonly bits: number;
  /** Checks an SSH signature blob (string alg, string sig) over `data` with the allowed algorithm names. */
  verify(signatureBlob: Uint8Array, data: Uint8Array, allowedAlgorithms?: readonly string[]): boolean;
}

/** `SHA256:<base64 without padding>` of the key blob, as OpenSSH prints it. */
export function fingerprint(blob: Uint8Array): string {
  return 'SHA256:' + toBase64(sha256(blob)).replace(/=+$/, '');
}

/** The `type base64` form used in authorized_keys and known_hosts. */
export function publicKeyLine(key: SshPublicKey, comment?: string): string {
  return `${key.type} ${toBase64(key.blob)}${comment ? ' ' + comment : ''}`;
}

/** Reads `type base64 [comment]` (an authorized_keys / .pub line without options). */
export function parsePublicKeyLine(line: string): SshPublicKey {
  const parts = line.trim().split(/\s+/);
  const b64 = parts[1];
  if (!parts[0] || !b64) throw new TypeError('a public key line is "TYPE BASE64 [comment]"');
  let blob: Uint8Array;
  try {
    blob = fromBase64(b64);
  } catch {
    throw new TypeError('the public key is not valid base64');
  }
  const key = parsePublicKey(blob);
  if (!key || key.type !== parts[0]) throw new TypeError(`unsupported or malformed ${parts[0]} public key`);
  return key;
}

/** Parses a public key blob; undefined when malformed or of an unsupported type. */
export function parsePublicKey(blob: Uint8Array): SshPublicKey | undefined {
  try {
    const r = new SshReader(blob);
    const type = r.text();
    switch (type) {
      case 'ssh-ed25519': {
        const pk = r.string().slice();
        if (pk.length !== 32 || r.remaining) return undefined;
        return { type, blob, bits: 256, verify: (sig, data, allowed) => verifyWith(sig, allowed, [type], (s) => s.length === 64 && safe(() => ed25519.verify(s, data, pk))) };
      }
      case 'ecdsa-sha2-nistp256': {
        if (r.text() !== 'nistp256') return undefined;
        const q = r.string().slice();
        if (r.remaining || !safe(() => (p256.Point.fromBytes(q), true))) return undefined;
        return {
          type,
          blob,
          bits: 256,
          verify: (sig, data, allowed) =>
            verifyWith(sig, allowed, [type], (s) => {
              const sr = new SshReader(s);
              const rr = sr.mpint();
              const ss = sr.mpint();
              if (sr.remaining || rr >= 1n << 256n || ss >= 1n << 256n) return false;
              const compact = new Uint8Array(64);
              compact.set(bigintToBytes(rr, 32), 0);
              compact.set(bigintToBytes(ss, 32), 32);
              return safe(() => p256.verify(compact, data, q, { lowS: false }));
            }),
        };
      }
      case 'ssh-rsa': {
        const e = r.mpint();
        const n = r.mpint();
        const bits = n.toString(2).length;
        // RFC 8332 §3.3 leaves minimum sizes to policy; OpenSSH refuses below 1024 bits.
        if (r.remaining || bits < 1024 || bits > 16384 || e < 3n) return undefined;
        return {
          type,
          blob,
          bits,
          verify: (sig, data, allowed) => {
            const alg = signatureAlgorithm(sig);
            const hash = alg === 'rsa-sha2-512' ? 'sha512' : alg === 'rsa-sha2-256' ? 'sha256' : undefined;
            if (!hash) return false;
            return verifyWith(sig, allowed, ['rsa-sha2-512', 'rsa-sha2-256'], (s) => rsaVerify(n, e, bits, hash, data, s));
          },
        };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** The algorithm name at the start of a signature blob, or '' when malformed. */
export function signatureAlgorithm(sig: Uint8Array): string {
  try {
    return new SshReader(sig).text();
  } catch {
    return '';
  }
}

function verifyWith(sigBlob: Uint8Array, allowed: readonly string[] | undefined, own: readonly string[], check: (sig: Uint8Array) => boolean): boolean {
  try {
    const r = new SshReader(sigBlob);
    const alg = r.text();
    const sig = r.string();
    if (r.remaining) return false;
    if (!own.includes(alg)) return false;
    if (allowed && !allowed.includes(alg)) return false;
    return check(sig);
  } catch {
    return false;
  }
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO = {
  sha256: Uint8Array.from([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
  sha512: Uint8Array.from([0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]),
};

/** EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) of `data` for a `k`-byte modulus. */
export function emsaPkcs1v15(hash: 'sha256' | 'sha512', data: Uint8Array, k: number): Uint8Array {
  const digest = hash === 'sha256' ? sha256(data) : sha512(data);
  const t = new Uint8Array(DIGEST_INFO[hash].length + digest.length);
  t.set(DIGEST_INFO[hash], 0);
  t.set(digest, DIGEST_INFO[hash].length);
  if (k < t.length + 11) throw new RangeError('RSA modulus too short');
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0;
  em[1] = 1;
  em[k - t.length - 1] = 0;
  em.set(t, k - t.length);
  return em;
}

/** base^exp mod m (square-and-multiply on bigints). */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    e >>= 1n;
    b = (b * b) % m;
  }
  return result;
}

function rsaVerify(n: bigint, e: bigint, bits: number, hash: 'sha256' | 'sha512', data: Uint8Array, sig: Uint8Array): boolean {
  const k = Math.ceil(bits / 8);
  // RFC 8332 §3: a signature shorter than the modulus is left-padded (OpenSSH accepts that too).
  if (sig.length > k) return false;
  const s = bytesToBigint(sig);
  if (s >= n) return false;
  const m = bigintToBytes(modPow(s, e, n), k);
  const em = emsaPkcs1v15(hash, data, k);
  let diff = 0;
  for (let i = 0; i < k; i++) diff |= m[i]! ^ em[i]!;
  return diff === 0;
}

/** The public blob of an RSA key. */
export function rsaPublicBlob(e: bigint, n: bigint): Uint8Array {
  return new SshWriter().string('ssh-rsa').mpint(e).mpint(n).finish();
}
