/**
 * Key exchange methods and key derivation (RFC 4253 §7-§8), sans-IO:
 *
 *   createKeyExchange(name, random) ──▶ { init: the client's public value,
 *                                         finish(serverPublic) ──▶ shared secret K as mpint bytes }
 *   curve25519-sha256 (RFC 8731): X25519, K = the 32 shared bytes read as an unsigned integer
 *   ecdh-sha2-nistp256 (RFC 5656 §4): uncompressed points, K = x coordinate of the shared point
 *   diffie-hellman-group14-sha256 (RFC 8268, group from RFC 3526 §3): e = g^x mod p, K = f^x mod p
 *   exchangeHash: H = SHA-256(V_C || V_S || I_C || I_S || K_S || Q_C/e || Q_S/f || K) (RFC 5656 §4)
 *   deriveKey: K1 = HASH(K || H || letter || session_id), Kn = HASH(K || H || K1..Kn-1) (RFC 4253 §7.2)
 *
 * All listed methods use SHA-256. A bad server public value makes `finish` return undefined (a
 * handshake failure in the client), never throw.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { isAllZero, type RandomBytes } from '../../shared/bytes.ts';
import { SshWriter, bigintToBytes, bytesToBigint } from './ssh-codec.ts';
import { modPow } from './ssh-public-key.ts';

/** Key exchange methods in our order of preference. */
export const KEX_ALGORITHMS = ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'] as const;

/** RFC 3526 §3: the 2048-bit MODP group's prime (generator 2). */
export const GROUP14_PRIME = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AACAA68FFFFFFFFFFFFFFFF',
);

/** One side of a key exchange in progress. */
export interface KeyExchange {
  readonly name: string;
  /** Whether the public values are mpints (DH) or strings (ECDH). */
  readonly mpintValues: boolean;
  /** Q_C (ECDH) or e (DH) as bytes. */
  readonly clientPublic: Uint8Array;
  /** K encoded as an mpint string (ready for hashing), or undefined when the server's value is invalid. */
  finish(serverPublic: Uint8Array): Uint8Array | undefined;
}

/** Starts the client side of `name`. */
export function createKeyExchange(name: string, random: RandomBytes): KeyExchange {
  switch (name) {
    case 'curve25519-sha256':
    case 'curve25519-sha256@libssh.org': {
      const secret = random(32);
      return {
        name,
        mpintValues: false,
        clientPublic: x25519.getPublicKey(secret),
        finish(serverPublic) {
          if (serverPublic.length !== 32) return undefined;
          let shared: Uint8Array;
          try {
            shared = x25519.getSharedSecret(secret, serverPublic);
          } catch {
            return undefined;
          }
          // RFC 8731 §3: an all-zero result (low-order point) must abort the exchange.
          if (isAllZero(shared)) return undefined;
          return new SshWriter().mpintFromUnsigned(shared).finish();
        },
      };
    }
    case 'ecdh-sha2-nistp256': {
      const secret = p256.utils.randomSecretKey(random(48));
      return {
        name,
        mpintValues: false,
        clientPublic: p256.getPublicKey(secret, false),
        finish(serverPublic) {
          try {
            // RFC 5656 §4: the server's point must be validated (fromBytes checks it is on the curve).
            p256.Point.fromBytes(serverPublic).assertValidity();
            const shared = p256.getSharedSecret(secret, serverPublic, true);
            return new SshWriter().mpintFromUnsigned(shared.subarray(1, 33)).finish();
          } catch {
            return undefined;
          }
        },
      };
    }
    case 'diffie-hellman-group14-sha256': {
      const p = GROUP14_PRIME;
      // RFC 8268 §4 / RFC 4253 §8: a private exponent of at least twice the hash size in bits.
      const x = bytesToBigint(random(64)) | 1n;
      const e = modPow(2n, x, p);
      return {
        name,
        mpintValues: true,
        clientPublic: bigintToBytes(e),
        finish(serverPublic) {
          const f = bytesToBigint(serverPublic);
          // RFC 4253 §8: values outside [1, p-1] must not be accepted.
          if (f <= 1n || f >= p - 1n) return undefined;
          return new SshWriter().mpint(modPow(f, x, p)).finish();
        },
      };
    }
    default:
      throw new RangeError(`unknown key exchange ${name}`);
  }
}

/** Inputs of the exchange hash. */
export interface ExchangeHashInput {
  clientVersion: string;
  serverVersion: string;
  clientKexinit: Uint8Array;
  serverKexinit: Uint8Array;
  hostKey: Uint8Array;
  clientPublic: Uint8Array;
  serverPublic: Uint8Array;
  mpintValues: boolean;
  /** K as an encoded mpint (from {@link KeyExchange.finish}). */
  sharedSecret: Uint8Array;
}

/** H (RFC 4253 §8, RFC 5656 §4, RFC 8731 §3.1). */
export function exchangeHash(i: ExchangeHashInput): Uint8Array {
  const w = new SshWriter(2048)
    .string(i.clientVersion)
    .string(i.serverVersion)
    .string(i.clientKexinit)
    .string(i.serverKexinit)
    .string(i.hostKey);
  if (i.mpintValues) {
    w.mpintFromUnsigned(i.clientPublic).mpintFromUnsigned(i.serverPublic);
  } else {
    w.string(i.clientPublic).string(i.serverPublic);
  }
  w.raw(i.sharedSecret);
  return sha256(w.finish());
}

/** One derived key (RFC 4253 §7.2): letter 'A'..'F', extended to `length` bytes. */
export function deriveKey(sharedSecret: Uint8Array, h: Uint8Array, letter: string, sessionId: Uint8Array, length: number): Uint8Array {
  const prefix = new SshWriter(sharedSecret.length + h.length).raw(sharedSecret).raw(h).finish();
  let out = sha256(new SshWriter().raw(prefix).byte(letter.charCodeAt(0)).raw(sessionId).finish());
  while (out.length < length) {
    const more = sha256(new SshWriter().raw(prefix).raw(out).finish());
    const next = new Uint8Array(out.length + more.length);
    next.set(out, 0);
    next.set(more, out.length);
    out = next;
  }
  return out.slice(0, length);
}
