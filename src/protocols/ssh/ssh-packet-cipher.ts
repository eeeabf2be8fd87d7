/**
 * Binary packet protection (RFC 4253 §6), one direction at a time, for each cipher+MAC the client
 * offers:
 *
 *   none                              before the first NEWKEYS: 8-byte alignment, no MAC
 *   chacha20-poly1305@openssh.com     OpenSSH PROTOCOL.chacha20poly1305: K_1 (second half of the 64-byte
 *                                     key) encrypts the length, K_2 the rest; Poly1305 key = first 32
 *                                     bytes of ChaCha20(K_2, seq, counter 0); payload from counter 1
 *   aes128-gcm / aes256-gcm@openssh.com  RFC 5647 §7: length in clear as AAD, 12-byte IV whose last
 *                                     8 bytes count invocations
 *   aes128-ctr / aes256-ctr + hmac-sha2-256/512(-etm@openssh.com)  RFC 4344 CTR; RFC 6668 MACs over
 *                                     seq || plaintext packet, or (etm) seq || length || ciphertext
 *
 * A sealer turns `payload` into wire bytes; an opener learns the length from the first bytes
 * (`lengthBytes` of them), then opens the whole packet. Openers return null on a bad MAC/tag
 * (network input: counted and fatal in the client, never thrown).
 */
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { constantTimeEqual, type RandomBytes } from '../../shared/bytes.ts';

/** What one direction's keys and algorithm names come to after key exchange (RFC 4253 §7.2). */
export interface DirectionKeys {
  cipher: string;
  mac: string;
  iv: Uint8Array;
  key: Uint8Array;
  macKey: Uint8Array;
}

/** Encryption key/IV/MAC key sizes the key derivation must produce. */
export function cipherKeySizes(cipher: string, mac: string): { key: number; iv: number; macKey: number } {
  const c = CIPHERS[cipher];
  if (!c) throw new RangeError(`unknown cipher ${cipher}`);
  return { key: c.key, iv: c.iv, macKey: c.aead ? 0 : (MACS[mac]?.keyLength ?? 0) };
}

/** Whether the cipher carries its own integrity (the MAC list is then ignored, RFC 5647 §5.1). */
export function isAead(cipher: string): boolean {
  return CIPHERS[cipher]?.aead ?? false;
}

const CIPHERS: Record<string, { key: number; iv: number; aead: boolean }> = {
  'chacha20-poly1305@openssh.com': { key: 64, iv: 0, aead: true },
  'aes256-gcm@openssh.com': { key: 32, iv: 12, aead: true },
  'aes128-gcm@openssh.com': { key: 16, iv: 12, aead: true },
  'aes256-ctr': { key: 32, iv: 16, aead: false },
  'aes128-ctr': { key: 16, iv: 16, aead: false },
};

type MacHash = Parameters<typeof hmac>[0];

const MACS: Record<string, { hash: MacHash; keyLength: number; length: number; etm: boolean }> = {
  'hmac-sha2-256-etm@openssh.com': { hash: sha256, keyLength: 32, length: 32, etm: true },
  'hmac-sha2-512-etm@openssh.com': { hash: sha512, keyLength: 64, length: 64, etm: true },
  'hmac-sha2-256': { hash: sha256, keyLength: 32, length: 32, etm: false },
  'hmac-sha2-512': { hash: sha512, keyLength: 64, length: 64, etm: false },
};

export const SUPPORTED_CIPHERS = Object.keys(CIPHERS);
export const SUPPORTED_MACS = Object.keys(MACS);

/** Protects outgoing packets. */
export interface PacketSealer {
  seal(seq: number, payload: Uint8Array): Uint8Array;
}

/** Opens incoming packets. */
export interface PacketOpener {
  /** How many leading bytes {@link packetLength} needs. */
  readonly lengthBytes: number;
  /** Bytes after the `4 + packet_length` bytes: the MAC or tag. */
  readonly macLength: number;
  /** The packet_length field; may decrypt and remember the first block. */
  packetLength(seq: number, head: Uint8Array): number;
  /** `packet` is `4 + packet_length + macLength` bytes; returns padding_length||payload||padding or null on a bad MAC. */
  open(seq: number, packet: Uint8Array): Uint8Array | null;
}

function seqNonce(seq: number): Uint8Array {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setUint32(4, seq >>> 0);
  return n;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

/**
 * Frames a payload with its padding (RFC 4253 §6): at least 4 bytes of random padding so that the
 * aligned part is a multiple of `block`; `lengthInAlignment` is false for AEAD and EtM modes,
 * where packet_length stays outside the encrypted part.
 */
function frame(payload: Uint8Array, block: number, lengthInAlignment: boolean, random: RandomBytes): Uint8Array {
  const base = (lengthInAlignment ? 5 : 1) + payload.length;
  let padding = block - (base % block);
  if (padding < 4) padding += block;
  const packetLength = 1 + payload.length + padding;
  const out = new Uint8Array(4 + packetLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, packetLength);
  out[4] = padding;
  out.set(payload, 5);
  out.set(random(padding), 5 + payload.length);
  return out;
}

/** Before the first NEWKEYS (RFC 4253 §6: block size 8 for "none"). */
export class NoneSealer implements PacketSealer {
  constructor(private readonly random: RandomBytes) {}
  seal(_seq: number, payload: Uint8Array): Uint8Array {
    return frame(payload, 8, true, this.random);
  }
}

export class NoneOpener implements PacketOpener {
  readonly lengthBytes = 4;
  readonly macLength = 0;
  packetLength(_seq: number, head: Uint8Array): number {
    return new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
  }
  open(_seq: number, packet: Uint8Array): Uint8Array {
    return packet.subarray(4);
  }
}

/** Builds the sealer for negotiated keys. */
export function createSealer(keys: DirectionKeys, random: RandomBytes): PacketSealer {
  switch (keys.cipher) {
    case 'chacha20-poly1305@openssh.com':
      return new ChachaSealer(keys.key, random);
    case 'aes128-gcm@openssh.com':
    case 'aes256-gcm@openssh.com':
      return new GcmSealer(keys.key, keys.iv, random);
    case 'aes128-ctr':
    case 'aes256-ctr':
      return new CtrSealer(keys, random);
    default:
      throw new RangeError(`unknown cipher ${keys.cipher}`);
  }
}

/** Builds the opener for negotiated keys. */
export function createOpener(keys: DirectionKeys): PacketOpener {
  switch (keys.cipher) {
    case 'chacha20-poly1305@openssh.com':
      return new ChachaOpener(keys.key);
    case 'aes128-gcm@openssh.com':
    case 'aes256-gcm@openssh.com':
      return new GcmOpener(keys.key, keys.iv);
    case 'aes128-ctr':
    case 'aes256-ctr':
      return new CtrOpener(keys);
    default:
      throw new RangeError(`unknown cipher ${keys.cipher}`);
  }
}

// --- chacha20-poly1305@openssh.com ---

class ChachaSealer implements PacketSealer {
  private readonly main: Uint8Array;
  private readonly header: Uint8Array;
  constructor(key: Uint8Array, private readonly random: RandomBytes) {
    this.main = key.slice(0, 32);
    this.header = key.slice(32, 64);
  }
  seal(seq: number, payload: Uint8Array): Uint8Array {
    const plain = frame(payload, 8, false, this.random);
    const nonce = seqNonce(seq);
    const out = new Uint8Array(plain.length + 16);
    out.set(chacha20orig(this.header, nonce, plain.subarray(0, 4)), 0);
    out.set(chacha20orig(this.main, nonce, plain.subarray(4), undefined, 1), 4);
    const polyKey = chacha20orig(this.main, nonce, new Uint8Array(32));
    out.set(poly1305(out.subarray(0, plain.length), polyKey), plain.length);
    return out;
  }
}

class ChachaOpener implements PacketOpener {
  readonly lengthBytes = 4;
  readonly macLength = 16;
  private readonly main: Uint8Array;
  private readonly header: Uint8Array;
  constructor(key: Uint8Array) {
    this.main = key.slice(0, 32);
    this.header = key.slice(32, 64);
  }
  packetLength(seq: number, head: Uint8Array): number {
    const plain = chacha20orig(this.header, seqNonce(seq), head.subarray(0, 4));
    return new DataView(plain.buffer, plain.byteOffset, 4).getUint32(0);
  }
  open(seq: number, packet: Uint8Array): Uint8Array | null {
    const nonce = seqNonce(seq);
    const body = packet.subarray(0, packet.length - 16);
    const tag = packet.subarray(packet.length - 16);
    const polyKey = chacha20orig(this.main, nonce, new Uint8Array(32));
    if (!constantTimeEqual(poly1305(body, polyKey), tag)) return null;
    return chacha20orig(this.main, nonce, body.subarray(4), undefined, 1);
  }
}

// --- aes-gcm@openssh.com (RFC 5647) ---

/** RFC 5647 §7.1: the invocation counter is the IV's last 8 bytes, incremented per packet. */
function nextGcmIv(iv: Uint8Array): void {
  for (let i = 11; i >= 4; i--) {
    iv[i] = (iv[i]! + 1) & 0xff;
    if (iv[i] !== 0) break;
  }
}

class GcmSealer implements PacketSealer {
  private readonly iv: Uint8Array;
  constructor(private readonly key: Uint8Array, iv: Uint8Array, private readonly random: RandomBytes) {
    this.iv = iv.slice();
  }
  seal(_seq: number, payload: Uint8Array): Uint8Array {
    const plain = frame(payload, 16, false, this.random);
    const aad = plain.subarray(0, 4);
    const sealed = gcm(this.key, this.iv, aad).encrypt(plain.subarray(4));
    nextGcmIv(this.iv);
    const out = new Uint8Array(4 + sealed.length);
    out.set(aad, 0);
    out.set(sealed, 4);
    return out;
  }
}

class GcmOpener implements PacketOpener {
  readonly lengthBytes = 4;
  readonly macLength = 16;
  private readonly iv: Uint8Array;
  constructor(private readonly key: Uint8Array, iv: Uint8Array) {
    this.iv = iv.slice();
  }
  packetLength(_seq: number, head: Uint8Array): number {
    return new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
  }
  open(_seq: number, packet: Uint8Array): Uint8Array | null {
    let plain: Uint8Array;
    try {
      plain = gcm(this.key, this.iv, packet.subarray(0, 4)).decrypt(packet.subarray(4));
    } catch {
      return null;
    }
    nextGcmIv(this.iv);
    return plain;
  }
}

// --- aes-ctr (RFC 4344) + hmac-sha2 (RFC 6668), encrypt-and-MAC or encrypt-then-MAC ---

/** AES-CTR as one continuous keystream over a connection's direction (RFC 4344 §4). */
class CtrStream {
  private readonly counter: Uint8Array;
  constructor(private readonly key: Uint8Array, iv: Uint8Array) {
    this.counter = iv.slice();
  }
  /** `data.length` must be a multiple of 16 (SSH packets are aligned to the block size). */
  apply(data: Uint8Array): Uint8Array {
    const out = ctr(this.key, this.counter).encrypt(data);
    let add = data.length / 16;
    for (let i = 15; i >= 0 && add > 0; i--) {
      const sum = this.counter[i]! + (add & 0xff);
      this.counter[i] = sum & 0xff;
      add = Math.floor(add / 256) + (sum >> 8);
    }
    return out;
  }
}

function macOf(name: string): { hash: MacHash; length: number; etm: boolean } {
  const m = MACS[name];
  if (!m) throw new RangeError(`unknown MAC ${name}`);
  return m;
}

class CtrSealer implements PacketSealer {
  private readonly stream: CtrStream;
  private readonly mac: ReturnType<typeof macOf>;
  private readonly macKey: Uint8Array;
  constructor(keys: DirectionKeys, private readonly random: RandomBytes) {
    this.stream = new CtrStream(keys.key, keys.iv);
    this.mac = macOf(keys.mac);
    this.macKey = keys.macKey;
  }
  seal(seq: number, payload: Uint8Array): Uint8Array {
    const plain = frame(payload, 16, !this.mac.etm, this.random);
    const out = new Uint8Array(plain.length + this.mac.length);
    if (this.mac.etm) {
      out.set(plain.subarray(0, 4), 0);
      out.set(this.stream.apply(plain.subarray(4)), 4);
      out.set(hmac(this.mac.hash, this.macKey, concat(u32(seq), out.subarray(0, plain.length))), plain.length);
    } else {
      out.set(this.stream.apply(plain), 0);
      out.set(hmac(this.mac.hash, this.macKey, concat(u32(seq), plain)), plain.length);
    }
    return out;
  }
}

class CtrOpener implements PacketOpener {
  readonly lengthBytes: number;
  readonly macLength: number;
  private readonly stream: CtrStream;
  private readonly mac: ReturnType<typeof macOf>;
  private readonly macKey: Uint8Array;
  private firstBlock: Uint8Array | undefined;
  constructor(keys: DirectionKeys) {
    this.stream = new CtrStream(keys.key, keys.iv);
    this.mac = macOf(keys.mac);
    this.macKey = keys.macKey;
    this.lengthBytes = this.mac.etm ? 4 : 16;
    this.macLength = this.mac.length;
  }
  packetLength(_seq: number, head: Uint8Array): number {
    if (this.mac.etm) return new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
    this.firstBlock = this.stream.apply(head.subarray(0, 16));
    return new DataView(this.firstBlock.buffer, this.firstBlock.byteOffset, 4).getUint32(0);
  }
  open(seq: number, packet: Uint8Array): Uint8Array | null {
    const body = packet.subarray(0, packet.length - this.mac.length);
    const tag = packet.subarray(packet.length - this.mac.length);
    if (this.mac.etm) {
      if (!constantTimeEqual(hmac(this.mac.hash, this.macKey, concat(u32(seq), body)), tag)) return null;
      // Encrypted part must be block aligned (RFC 4253 §6); the client checks it before open.
      return this.stream.apply(body.subarray(4));
    }
    const first = this.firstBlock!;
    this.firstBlock = undefined;
    const plain = concat(first, this.stream.apply(body.subarray(16)));
    if (!constantTimeEqual(hmac(this.mac.hash, this.macKey, concat(u32(seq), plain)), tag)) return null;
    return plain.subarray(4);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Block alignment the opener requires of the encrypted part (used to reject malformed lengths). */
export function openerAlignment(keys: DirectionKeys | undefined): { block: number; lengthIncluded: boolean } {
  if (!keys) return { block: 8, lengthIncluded: true };
  if (keys.cipher.startsWith('chacha20')) return { block: 8, lengthIncluded: false };
  if (isAead(keys.cipher)) return { block: 16, lengthIncluded: false };
  return { block: 16, lengthIncluded: !macOf(keys.mac).etm };
}
