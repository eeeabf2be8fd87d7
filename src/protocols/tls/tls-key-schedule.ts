/**
 * Key derivation for both protocol versions.
 *
 * TLS 1.3 (RFC 8446 §7.1): HKDF-Extract chain  0 ─▶ early ─▶ handshake ─▶ master, each stage's
 * secrets from Derive-Secret(stage, label, transcript hash); traffic keys with HKDF-Expand-Label
 * (§7.3); Finished keys (§4.4.4); KeyUpdate's next generation (§7.2); resumption PSK (§4.6.1).
 *
 * TLS 1.2 (RFC 5246 §5): the P_hash PRF, the (extended, RFC 7627) master secret, the key block.
 */
import { extract, expand } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import type { CHash } from '@noble/hashes/utils.js';
import { concatBytes } from '../../shared/bytes.ts';

const utf8 = new TextEncoder();

/** HKDF-Expand-Label (RFC 8446 §7.1): label prefixed with "tls13 ". */
export function hkdfExpandLabel(hash: CHash, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLabel = utf8.encode(`tls13 ${label}`);
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = fullLabel.length;
  info.set(fullLabel, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return expand(hash, secret, info, length);
}

/** Derive-Secret(secret, label, transcript hash). */
export function deriveSecret(hash: CHash, secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hash.outputLen);
}

/** Write key and IV for one direction (RFC 8446 §7.3). */
export function trafficKeys(hash: CHash, secret: Uint8Array, keyLength: number, ivLength: number): { key: Uint8Array; iv: Uint8Array } {
  return {
    key: hkdfExpandLabel(hash, secret, 'key', new Uint8Array(0), keyLength),
    iv: hkdfExpandLabel(hash, secret, 'iv', new Uint8Array(0), ivLength),
  };
}

/** verify_data = HMAC(finished_key, transcript hash) (RFC 8446 §4.4.4). */
export function finishedVerifyData(hash: CHash, baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  const finishedKey = hkdfExpandLabel(hash, baseKey, 'finished', new Uint8Array(0), hash.outputLen);
  return hmac(hash, finishedKey, transcriptHash);
}

/** application_traffic_secret_N+1 (RFC 8446 §7.2). */
export function nextTrafficSecret(hash: CHash, secret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, 'traffic upd', new Uint8Array(0), hash.outputLen);
}

/** The TLS 1.3 secret chain, advanced one stage at a time as the handshake goes. */
export class Tls13KeySchedule {
  private secret: Uint8Array;
  readonly earlySecret: Uint8Array;

  constructor(
    readonly hash: CHash,
    psk?: Uint8Array,
  ) {
    const zeros = new Uint8Array(hash.outputLen);
    this.earlySecret = extract(hash, psk ?? zeros, new Uint8Array(0));
    this.secret = this.earlySecret;
  }

  /** binder_key for a resumption PSK (RFC 8446 §7.1, "res binder"). */
  resumptionBinderKey(): Uint8Array {
    return deriveSecret(this.hash, this.earlySecret, 'res binder', this.hash.create().digest());
  }

  /** Early ─▶ Handshake Secret with the (EC)DHE shared secret. */
  enterHandshake(sharedSecret: Uint8Array): void {
    const derived = deriveSecret(this.hash, this.secret, 'derived', this.hash.create().digest());
    this.secret = extract(this.hash, sharedSecret, derived);
  }

  /** Handshake ─▶ Master Secret. */
  enterMaster(): void {
    const derived = deriveSecret(this.hash, this.secret, 'derived', this.hash.create().digest());
    this.secret = extract(this.hash, new Uint8Array(this.hash.outputLen), derived);
  }

  /** Derive-Secret from the current stage. */
  derive(label: string, transcriptHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.secret, label, transcriptHash);
  }
}

/** The resumption PSK of one NewSessionTicket (RFC 8446 §4.6.1). */
export function ticketPsk(hash: CHash, resumptionMasterSecret: Uint8Array, nonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, resumptionMasterSecret, 'resumption', nonce, hash.outputLen);
}

/** TLS 1.2 PRF: P_hash(secret, label + seed) cut to `length` bytes (RFC 5246 §5). */
export function tls12Prf(hash: CHash, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const labelSeed = concatBytes(utf8.encode(label), seed);
  const out = new Uint8Array(length);
  let a: Uint8Array = labelSeed;
  let filled = 0;
  const mac = (data: Uint8Array): Uint8Array => hmac(hash, secret, data);
  while (filled < length) {
    a = mac(a);
    const block = mac(concatBytes(a, labelSeed));
    const n = Math.min(block.length, length - filled);
    out.set(block.subarray(0, n), filled);
    filled += n;
  }
  return out;
}
