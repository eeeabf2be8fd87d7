/**
 * User keys for public key authentication (RFC 4252 §7): read OpenSSH private keys, sign, generate.
 *
 *   parsePrivateKey(text, passphrase?) ── "-----BEGIN OPENSSH PRIVATE KEY-----" (openssh-key-v1,
 *       OpenSSH PROTOCOL.key): magic, cipher, kdf, public key, private section (check ints, key,
 *       comment, 1,2,3.. padding); encrypted sections use bcrypt-pbkdf + aes256-ctr / aes256-gcm
 *   SshPrivateKey.sign(data, algorithm) ──▶ signature blob (string alg, string sig)
 *       ssh-ed25519 (RFC 8709), ecdsa-sha2-nistp256 (RFC 5656 §3.1.2), rsa-sha2-256/512 (RFC 8332)
 *   generateEd25519Key() ──▶ a new key; `toOpenSsh()` writes it back, `publicKeyLine` for authorized_keys
 *
 * Errors are WgwebError SSH_KEY_INVALID with a sentence saying what is wrong with the file.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { fromBase64, toBase64, type RandomBytes } from '../../shared/bytes.ts';
import { SshReader, SshWriter, bigintToBytes, bytesToBigint, SshDecodeError } from './ssh-codec.ts';
import { emsaPkcs1v15, modPow, parsePublicKey, publicKeyLine, rsaPublicBlob, type SshPublicKey } from './ssh-public-key.ts';
import { bcryptPbkdf } from './bcrypt-pbkdf.ts';

/** A private key able to sign userauth requests. */
export interface SshPrivateKey {
  readonly publicKey: SshPublicKey;
  readonly comment: string;
  /** Signature algorithm names this key can produce, preferred first. */
  readonly algorithms: readonly string[];
  /** A signature blob over `data` (RFC 4252 §7). */
  sign(data: Uint8Array, algorithm?: string): Uint8Array;
  /** The `type base64 comment` line for authorized_keys. */
  authorizedKeysLine(): string;
  /** The key in OpenSSH's private key format, unencrypted. */
  toOpenSsh(): string;
}

const MAGIC = new TextEncoder().encode('openssh-key-v1\0');
const PEM_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const PEM_END = '-----END OPENSSH PRIVATE KEY-----';

function invalid(message: string): WgwebError {
  return new WgwebError(ErrorCode.SSH_KEY_INVALID, message);
}

/**
 * Reads an OpenSSH private key. `passphrase` decrypts protected keys.
 * @throws {WgwebError} SSH_KEY_INVALID: not an OpenSSH key, needs/has a wrong passphrase, unsupported type.
 */
export function parsePrivateKey(text: string, passphrase?: string): SshPrivateKey {
  if (typeof text !== 'string') throw new TypeError('parsePrivateKey(text): text must be a string');
  const begin = text.indexOf(PEM_BEGIN);
  const end = text.indexOf(PEM_END);
  if (begin < 0 || end < begin) {
    if (/BEGIN (RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY/.test(text)) {
      throw invalid('this is a PEM/PKCS#8 private key; convert it to the OpenSSH format with: ssh-keygen -p -f KEYFILE');
    }
    throw invalid('not an OpenSSH private key (expected "-----BEGIN OPENSSH PRIVATE KEY-----")');
  }
  let raw: Uint8Array;
  try {
    raw = fromBase64(text.slice(begin + PEM_BEGIN.length, end).replace(/\s+/g, ''));
  } catch {
    throw invalid('the private key is not valid base64');
  }
  try {
    return parseKeyV1(raw, passphrase);
  } catch (e) {
    if (e instanceof WgwebError) throw e;
    if (e instanceof SshDecodeError) throw invalid(`the private key file is truncated or malformed (${e.message})`);
    throw e;
  }
}

function parseKeyV1(raw: Uint8Array, passphrase: string | undefined): SshPrivateKey {
  for (let i = 0; i < MAGIC.length; i++) if (raw[i] !== MAGIC[i]) throw invalid('not an openssh-key-v1 private key');
  const r = new SshReader(raw, MAGIC.length);
  const cipher = r.text();
  const kdf = r.text();
  const kdfOptions = r.string();
  const count = r.uint32();
  if (count !== 1) throw invalid(`the file holds ${count} keys; wgweb reads files with one key`);
  r.string(); // public key (repeated inside the private section)
  let section = r.string();
  if (cipher !== 'none') {
    if (kdf !== 'bcrypt') throw invalid(`unsupported key derivation ${kdf}`);
    if (passphrase === undefined || passphrase === '') throw invalid('the private key is protected by a passphrase: give the passphrase');
    const ko = new SshReader(kdfOptions);
    const salt = ko.string();
    const rounds = ko.uint32();
    // aes256-gcm's 16-byte tag follows the section, outside its length (OpenSSH's key format).
    const tag = cipher === 'aes256-gcm@openssh.com' ? r.raw(16) : undefined;
    section = decryptSection(cipher, section, passphrase, salt, rounds, tag);
  }
  const s = new SshReader(section);
  if (s.uint32() !== s.uint32()) {
    throw invalid(cipher === 'none' ? 'the private key is corrupt (check values differ)' : 'wrong passphrase for the private key');
  }
  const type = s.text();
  let key: SshPrivateKey;
  switch (type) {
    case 'ssh-ed25519': {
      s.string();
      const sk = s.string();
      if (sk.length !== 64) throw invalid('malformed ssh-ed25519 private key');
      key = ed25519Key(sk.slice(0, 32), s.text());
      break;
    }
    case 'ecdsa-sha2-nistp256': {
      if (s.text() !== 'nistp256') throw invalid('malformed ecdsa-sha2-nistp256 private key');
      s.string();
      const d = s.mpint();
      // SEC 1 §3.2.1: the private scalar lies in [1, n-1]; anything else is a damaged file.
      if (d <= 0n || d >= p256.Point.Fn.ORDER) throw invalid('malformed ecdsa-sha2-nistp256 private key (the scalar is out of range)');
      key = ecdsaKey(bigintToBytes(d, 32), s.text());
      break;
    }
    case 'ssh-rsa': {
      const n = s.mpint();
      const e = s.mpint();
      const d = s.mpint();
      const iqmp = s.mpint();
      const p = s.mpint();
      const q = s.mpint();
      key = rsaKey({ n, e, d, iqmp, p, q }, s.text());
      break;
    }
    default:
      throw invalid(`unsupported private key type ${type} (wgweb reads ssh-ed25519, ecdsa-sha2-nistp256 and ssh-rsa)`);
  }
  return key;
}

function decryptSection(cipher: string, section: Uint8Array, passphrase: string, salt: Uint8Array, rounds: number, tag?: Uint8Array): Uint8Array {
  if (rounds < 1 || rounds > 1 << 16) throw invalid(`implausible bcrypt rounds ${rounds}`);
  const pass = new TextEncoder().encode(passphrase);
  switch (cipher) {
    case 'aes256-ctr':
    case 'aes128-ctr': {
      const kl = cipher === 'aes256-ctr' ? 32 : 16;
      const km = bcryptPbkdf(pass, salt, kl + 16, rounds);
      if (section.length % 16) throw invalid('the encrypted private key is not block aligned');
      return ctr(km.subarray(0, kl), km.subarray(kl, kl + 16)).decrypt(section);
    }
    case 'aes256-gcm@openssh.com': {
      // Key and 12-byte IV from bcrypt-pbkdf, no associated data; the tag proves the passphrase
      // and that the file is intact (a wrong one fails here, before the check ints).
      const km = bcryptPbkdf(pass, salt, 32 + 12, rounds);
      const sealed = new Uint8Array(section.length + 16);
      sealed.set(section, 0);
      sealed.set(tag!, section.length);
      try {
        return gcm(km.subarray(0, 32), km.subarray(32, 44)).decrypt(sealed);
      } catch {
        throw invalid('wrong passphrase for the private key (or the file is damaged)');
      }
    }
    default:
      throw invalid(`unsupported private key cipher ${cipher}`);
  }
}

function baseKey(publicKey: SshPublicKey, comment: string, algorithms: string[], sign: (data: Uint8Array, alg: string) => Uint8Array, privatePart: (w: SshWriter) => void): SshPrivateKey {
  return {
    publicKey,
    comment,
    algorithms,
    sign(data, algorithm = algorithms[0]!) {
      if (!algorithms.includes(algorithm)) throw new RangeError(`a ${publicKey.type} key cannot sign ${algorithm}`);
      return new SshWriter().string(algorithm).string(sign(data, algorithm)).finish();
    },
    authorizedKeysLine: () => publicKeyLine(publicKey, comment || undefined),
    toOpenSsh: () => writeOpenSsh(publicKey, comment, privatePart),
  };
}

function ed25519Key(seed: Uint8Array, comment: string): SshPrivateKey {
  const pk = ed25519.getPublicKey(seed);
  const blob = new SshWriter().string('ssh-ed25519').string(pk).finish();
  const publicKey = parsePublicKey(blob)!;
  return baseKey(publicKey, comment, ['ssh-ed25519'], (data) => ed25519.sign(data, seed), (w) => {
    const sk = new Uint8Array(64);
    sk.set(seed, 0);
    sk.set(pk, 32);
    w.string('ssh-ed25519').string(pk).string(sk);
  });
}

function ecdsaKey(d: Uint8Array, comment: string): SshPrivateKey {
  const q = p256.getPublicKey(d, false);
  const blob = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(q).finish();
  const publicKey = parsePublicKey(blob);
  if (!publicKey) throw invalid('malformed ecdsa-sha2-nistp256 private key');
  return baseKey(
    publicKey,
    comment,
    ['ecdsa-sha2-nistp256'],
    (data) => {
      const sig = p256.sign(data, d, { lowS: false });
      return new SshWriter().mpintFromUnsigned(sig.subarray(0, 32)).mpintFromUnsigned(sig.subarray(32, 64)).finish();
    },
    (w) => w.string('ecdsa-sha2-nistp256').string('nistp256').string(q).mpint(bytesToBigint(d)),
  );
}

interface RsaParts {
  n: bigint;
  e: bigint;
  d: bigint;
  iqmp: bigint;
  p: bigint;
  q: bigint;
}

function rsaKey(k: RsaParts, comment: string): SshPrivateKey {
  const publicKey = parsePublicKey(rsaPublicBlob(k.e, k.n));
  if (!publicKey || k.p * k.q !== k.n) throw invalid('malformed ssh-rsa private key');
  const bytes = Math.ceil(publicKey.bits / 8);
  const dp = k.d % (k.p - 1n);
  const dq = k.d % (k.q - 1n);
  return baseKey(
    publicKey,
    comment,
    ['rsa-sha2-512', 'rsa-sha2-256'],
    (data, alg) => {
      const m = bytesToBigint(emsaPkcs1v15(alg === 'rsa-sha2-512' ? 'sha512' : 'sha256', data, bytes));
      // RFC 8017 §5.1.2 (CRT): m1 = c^dP mod p, m2 = c^dQ mod q, h = qInv (m1 - m2) mod p.
      const m1 = modPow(m, dp, k.p);
      const m2 = modPow(m, dq, k.q);
      const h = (((m1 - m2) % k.p) + k.p) % k.p * k.iqmp % k.p;
      const s = m2 + h * k.q;
      return bigintToBytes(s, bytes);
    },
    (w) => w.string('ssh-rsa').mpint(k.n).mpint(k.e).mpint(k.d).mpint(k.iqmp).mpint(k.p).mpint(k.q),
  );
}

function writeOpenSsh(publicKey: SshPublicKey, comment: string, privatePart: (w: SshWriter) => void): string {
  const check = crypto.getRandomValues(new Uint8Array(4));
  const s = new SshWriter().raw(check).raw(check);
  privatePart(s);
  s.string(comment);
  for (let i = 1; s.length % 8; i++) s.byte(i);
  const w = new SshWriter().raw(MAGIC).string('none').string('none').string(new Uint8Array(0)).uint32(1).string(publicKey.blob).string(s.finish());
  const b64 = toBase64(w.finish());
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${PEM_BEGIN}\n${lines.join('\n')}\n${PEM_END}\n`;
}

/** A fresh Ed25519 key pair (the page's "generate a key"). */
export function generateEd25519Key(comment = 'wgweb', random: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n))): SshPrivateKey {
  return ed25519Key(random(32), comment);
}

/** Reads a private key as a public key line's base64 check helper for the UI. */
export function describePrivateKey(key: SshPrivateKey): string {
  return `${key.publicKey.type} ${key.publicKey.bits} bits${key.comment ? ` (${key.comment})` : ''}`;
}
