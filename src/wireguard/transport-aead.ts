/**
 * ChaCha20-Poly1305 (RFC 8439) specialised for WireGuard's transport data path (paper §5.4.6):
 * nonce = 4 zero bytes ‖ 64-bit little-endian counter, empty additional data, one packet at a
 * time, in place, no allocation per packet.
 *
 *   seal(buf, off, len, counter)         buf[off, off+len) ─ ChaCha20 from block 1, in place ─▶ ciphertext
 *                                        ─ Poly1305(ciphertext ‖ pad16 ‖ lengths) ─▶ tag at buf[off+len, +16)
 *   open(src, off, len, out, o, counter) src[off, off+len) copied to out[o, o+len) ─ Poly1305 over the copy,
 *                                        tag compared in constant time with src[off+len, +16)
 *                                        ─ only if equal: ChaCha20 in place ─▶ plaintext
 *
 * Why hand-written instead of @noble/ciphers (which the rest of wgweb uses: handshake AEAD,
 * XChaCha20 cookies, BLAKE2s, X25519): in the bulk-download profile noble's chacha20poly1305 was
 * 58 % of the client's CPU, and more than 40 % of that was generic overhead around the arithmetic
 * (per packet: typed-array allocations and views, key copies, a copy of every Poly1305 input, a
 * BigInt length block), which noble's API offers no way around. This file does the same
 * arithmetic without that and with a cheaper Poly1305 limb layout. Measured in the same run
 * (bench/wireguard-bench.ts, crypto.transport-aead-*): 3.1× noble on 1420-byte packets, 5.5× on
 * 48-byte ones. The client's CPU per MB in the tunnel download went from 27 to 11 ms. Keep it only
 * while that ratio stays ≥ 1.3 (docs/benchmarks.md, "Profile of the bulk download").
 * Browsers' Web Crypto has no ChaCha20-Poly1305, so this is the data path in the browser too.
 * Byte-exactness is pinned by RFC 8439 vectors, a seeded differential test against noble and a
 * BigInt Poly1305 reference (test/wireguard/transport-aead.test.ts).
 *
 * Implementation notes:
 * - Words are read through a Uint32Array view of the caller's buffer, so the region must start
 *   4-byte aligned on a little-endian host; anything else goes through an aligned scratch copy
 *   (with words byte-swapped on a big-endian host). Partial words and blocks are assembled with
 *   shifts, which is endian-neutral.
 * - Poly1305 (RFC 8439 §2.5) keeps the 130-bit accumulator in six 22-bit limbs held as float64:
 *   a limb product is below 2^49.4 and a sum of six below 2^52, so every step is exact, and a
 *   16-byte block costs 36 multiplications instead of the 100 of the 13-bit limbs of
 *   poly1305-donna-16 (noble's layout). Six limbs span 132 bits; 2^132 ≡ 20 (mod 2^130 − 5), so
 *   wrapped products are multiplied by 20.
 * - The one-time Poly1305 key only lives in locals and two small Float64Arrays that are
 *   overwritten per packet; the long-term key words are zeroed by {@link TransportAead.zero}.
 */
import { AEAD_TAG_SIZE } from './constants.ts';


const IS_LE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** "expand 32-byte k" as four little-endian words (RFC 8439 §2.3). */
const C0 = 0x61707865;
const C1 = 0x3320646e;
const C2 = 0x79622d32;
const C3 = 0x6b206574;

const M22 = 0x3fffff;
const TWO22 = 4194304;
const INV22 = 1 / TWO22;
const TWO20 = 1048576;
const INV20 = 1 / TWO20;
const TWO32 = 4294967296;

/**
 * WireGuard's use of an RFC 8439 AEAD (nonce 0⁴ ‖ le64 counter, no additional data) over the
 * general one, shared by this TypeScript AEAD and the WebAssembly one (wasm/wasm-transport-aead.ts).
 */
export abstract class WireGuardTransportAead {
  /**
   * Encrypts `buf[offset, offset + length)` in place under nonce 0⁴ ‖ le64(counterHi:counterLo)
   * and writes the 16-byte tag at `buf[offset + length]`.
   * @throws {RangeError} when the region plus its tag does not fit in `buf`.
   */
  seal(buf: Uint8Array, offset: number, length: number, counterLo: number, counterHi: number): void {
    checkAeadRegion(buf, offset, length + AEAD_TAG_SIZE);
    this.sealWithNonce(buf, offset, length, 0, counterLo, counterHi, undefined);
  }

  /**
   * Authenticates the ciphertext `src[offset, offset + length)` against the tag that follows it;
   * only if the tag verifies is the plaintext written to `out[outOffset, outOffset + length)`.
   * Returns false when it does not (`out` then holds at most a copy of the ciphertext, never plaintext).
   * `out` may be `src` at the same offset (in place).
   * @throws {RangeError} when a region does not fit in its buffer.
   */
  open(src: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number, counterLo: number, counterHi: number): boolean {
    checkAeadRegion(src, offset, length + AEAD_TAG_SIZE);
    checkAeadRegion(out, outOffset, length);
    return this.openWithNonce(src, offset, length, out, outOffset, 0, counterLo, counterHi, undefined);
  }

  /** Zeroes the key (and any working state); the instance must not be used afterwards. */
  abstract zero(): void;

  /** @internal The general RFC 8439 §2.8 AEAD seal: any 96-bit nonce as three little-endian words, optional AD. */
  abstract sealWithNonce(buf: Uint8Array, offset: number, length: number, n0: number, n1: number, n2: number, aad: Uint8Array | undefined): void;

  /** @internal The general RFC 8439 §2.8 AEAD open; see {@link sealWithNonce}. */
  abstract openWithNonce(
    src: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
    n0: number,
    n1: number,
    n2: number,
    aad: Uint8Array | undefined,
  ): boolean;
}

/**
 * ChaCha20-Poly1305 under one key. Not reentrant (it owns its scratch state): one instance per
 * key, as a keypair has one per direction.
 */
export class TransportAead extends WireGuardTransportAead {
  /** Key words (RFC 8439 §2.3: little-endian). */
  private readonly key = new Int32Array(8);
  /** One keystream block. */
  private readonly block = new Int32Array(16);
  /** A zero-padded Poly1305 block (partial tail, AAD, length block). */
  private readonly pad = new Uint32Array(4);
  /** Poly1305 accumulator h (6 × 22-bit limbs). */
  private readonly h = new Float64Array(6);
  /** Poly1305 r in 22-bit limbs (0..5), then 20·r1..20·r5 (6..10), per packet (RFC 8439 §2.5.1). */
  private readonly r = new Float64Array(11);
  /** r² mod 2^130 − 5 in the same layout, for two blocks per step. */
  private readonly rr = new Float64Array(11);
  /** The tag computed by the last mac() as four words, and the received one open() compares it with. */
  private readonly tag = new Uint32Array(4);
  private readonly received = new Uint32Array(4);
  /** Aligned workspace for regions that cannot be viewed as words in place. */
  private scratch = new Uint8Array(0);
  private scratch32 = new Uint32Array(0);

  /** @throws {TypeError} unless `key` is a 32-byte Uint8Array. */
  constructor(key: Uint8Array) {
    super();
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('ChaCha20-Poly1305 key must be a 32-byte Uint8Array');
    for (let i = 0; i < 8; i++) this.key[i] = key[4 * i] | (key[4 * i + 1] << 8) | (key[4 * i + 2] << 16) | (key[4 * i + 3] << 24);
  }

  /** Zeroes the key and the working state; the instance must not be used afterwards. */
  zero(): void {
    this.key.fill(0);
    this.block.fill(0);
    this.h.fill(0);
    this.r.fill(0);
    this.rr.fill(0);
    this.tag.fill(0);
    this.scratch.fill(0);
  }

  /**
   * @internal The general RFC 8439 §2.8 AEAD: any 96-bit nonce (three little-endian words) and
   * optional additional data. For the RFC test vectors; the data path uses {@link seal}.
   */
  sealWithNonce(buf: Uint8Array, offset: number, length: number, n0: number, n1: number, n2: number, aad: Uint8Array | undefined): void {
    const view = this.view(buf, offset, length);
    const w = view ?? this.scratch32;
    const b = view ? buf : this.scratch;
    const base = view ? offset : 0;
    this.xorKeystream(w, b, base, length, n0, n1, n2);
    this.mac(w, b, base, length, n0, n1, n2, aad);
    if (!view) this.copyBack(buf, offset, length);
    const t = this.tag;
    const at = offset + length;
    for (let i = 0; i < 4; i++) {
      const x = t[i];
      buf[at + 4 * i] = x;
      buf[at + 4 * i + 1] = x >>> 8;
      buf[at + 4 * i + 2] = x >>> 16;
      buf[at + 4 * i + 3] = x >>> 24;
    }
  }

  /** @internal The general RFC 8439 §2.8 AEAD open; see {@link sealWithNonce}. */
  openWithNonce(
    src: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
    n0: number,
    n1: number,
    n2: number,
    aad: Uint8Array | undefined,
  ): boolean {
    // Read the received tag before anything is written to `out`, which may share src's buffer.
    const tagAt = offset + length;
    const got = this.received;
    for (let i = 0; i < 4; i++) {
      const at = tagAt + 4 * i;
      got[i] = src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24);
    }
    if (src !== out || offset !== outOffset) out.set(src.subarray(offset, offset + length), outOffset);
    const view = this.view(out, outOffset, length);
    const w = view ?? this.scratch32;
    const b = view ? out : this.scratch;
    const base = view ? outOffset : 0;
    this.mac(w, b, base, length, n0, n1, n2, aad);
    // Constant time: every tag word is compared, no early exit (RFC 8439 §4).
    const t = this.tag;
    const diff = (got[0] ^ t[0]) | (got[1] ^ t[1]) | (got[2] ^ t[2]) | (got[3] ^ t[3]);
    if (diff !== 0) return false;
    this.xorKeystream(w, b, base, length, n0, n1, n2);
    if (!view) this.copyBack(out, outOffset, length);
    return true;
  }

  /**
   * A Uint32Array view of the whole words of `buf[offset, offset + length)`, or undefined after
   * copying the region into the aligned scratch buffer (unaligned region or big-endian host).
   */
  private view(buf: Uint8Array, offset: number, length: number): Uint32Array | undefined {
    const at = buf.byteOffset + offset;
    if (IS_LE && (at & 3) === 0) return new Uint32Array(buf.buffer, at, length >>> 2);
    if (this.scratch.length < length) {
      this.scratch.fill(0);
      this.scratch = new Uint8Array((length + 63) & ~63);
      this.scratch32 = new Uint32Array(this.scratch.buffer);
    }
    this.scratch.set(buf.subarray(offset, offset + length));
    if (!IS_LE) swapWords(this.scratch32, length >>> 2);
    return undefined;
  }

  private copyBack(buf: Uint8Array, offset: number, length: number): void {
    if (!IS_LE) swapWords(this.scratch32, length >>> 2);
    buf.set(this.scratch.subarray(0, length), offset);
  }

  /**
   * XORs the ChaCha20 keystream from block counter 1 into the region (RFC 8439 §2.4, §2.8): whole
   * words through `w`, the last 1–3 bytes through `b`.
   */
  private xorKeystream(w: Uint32Array, b: Uint8Array, base: number, length: number, n0: number, n1: number, n2: number): void {
    const ks = this.block;
    const key = this.key;
    const fullBlocks = length >>> 6;
    let wi = 0;
    let counter = 1;
    const k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3], k4 = key[4], k5 = key[5], k6 = key[6], k7 = key[7];
    const j13 = n0 | 0, j14 = n1 | 0, j15 = n2 | 0;
    // Whole blocks: chachaBlock inlined so the keystream goes from registers straight into the XOR.
    for (let blk = 0; blk < fullBlocks; blk++, counter++, wi += 16) {
      let x0 = C0, x1 = C1, x2 = C2, x3 = C3;
      let x4 = k0, x5 = k1, x6 = k2, x7 = k3;
      let x8 = k4, x9 = k5, x10 = k6, x11 = k7;
      let x12 = counter, x13 = j13, x14 = j14, x15 = j15;
      let t: number;
      for (let round = 0; round < 10; round++) {
        // Column rounds (RFC 8439 §2.1: quarter rounds on 0-4-8-12, 1-5-9-13, 2-6-10-14, 3-7-11-15).
        x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 16) | (t >>> 16);
        x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 12) | (t >>> 20);
        x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 8) | (t >>> 24);
        x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 7) | (t >>> 25);
        x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 16) | (t >>> 16);
        x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 12) | (t >>> 20);
        x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 8) | (t >>> 24);
        x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 7) | (t >>> 25);
        x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 16) | (t >>> 16);
        x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 12) | (t >>> 20);
        x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 8) | (t >>> 24);
        x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 7) | (t >>> 25);
        x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 16) | (t >>> 16);
        x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 12) | (t >>> 20);
        x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 8) | (t >>> 24);
        x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 7) | (t >>> 25);
        // Diagonal rounds (0-5-10-15, 1-6-11-12, 2-7-8-13, 3-4-9-14).
        x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 16) | (t >>> 16);
        x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 12) | (t >>> 20);
        x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 8) | (t >>> 24);
        x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 7) | (t >>> 25);
        x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 16) | (t >>> 16);
        x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 12) | (t >>> 20);
        x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 8) | (t >>> 24);
        x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 7) | (t >>> 25);
        x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 16) | (t >>> 16);
        x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 12) | (t >>> 20);
        x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 8) | (t >>> 24);
        x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 7) | (t >>> 25);
        x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 16) | (t >>> 16);
        x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 12) | (t >>> 20);
        x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 8) | (t >>> 24);
        x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 7) | (t >>> 25);
      }
      w[wi] ^= x0 + C0; w[wi + 1] ^= x1 + C1; w[wi + 2] ^= x2 + C2; w[wi + 3] ^= x3 + C3;
      w[wi + 4] ^= x4 + k0; w[wi + 5] ^= x5 + k1; w[wi + 6] ^= x6 + k2; w[wi + 7] ^= x7 + k3;
      w[wi + 8] ^= x8 + k4; w[wi + 9] ^= x9 + k5; w[wi + 10] ^= x10 + k6; w[wi + 11] ^= x11 + k7;
      w[wi + 12] ^= x12 + counter; w[wi + 13] ^= x13 + j13; w[wi + 14] ^= x14 + j14; w[wi + 15] ^= x15 + j15;
    }
    const rest = length & 63;
    if (rest === 0) return;
    chachaBlock(key, counter, n0, n1, n2, ks);
    const restWords = rest >>> 2;
    for (let j = 0; j < restWords; j++) w[wi + j] ^= ks[j];
    const start = base + (length & ~63);
    for (let i = restWords << 2; i < rest; i++) b[start + i] ^= ks[i >>> 2] >>> (8 * (i & 3));
  }

  /**
   * Poly1305 of aad ‖ pad16 ‖ ciphertext ‖ pad16 ‖ le64(aad length) ‖ le64(ciphertext length)
   * under the one-time key from ChaCha20 block 0 (RFC 8439 §2.6, §2.8), into `this.tag`.
   */
  private mac(w: Uint32Array, b: Uint8Array, base: number, length: number, n0: number, n1: number, n2: number, aad: Uint8Array | undefined): void {
    const ks = this.block;
    chachaBlock(this.key, 0, n0, n1, n2, ks);
    this.polyInit(ks);
    const pad = this.pad;
    const aadLength = aad === undefined ? 0 : aad.length;
    for (let at = 0; at < aadLength; at += 16) {
      this.loadPad(aad!, at, Math.min(16, aadLength - at));
      this.polyBlocks(pad, 0, 1);
    }
    this.polyPadded(w, b, base, length);
    pad[0] = aadLength;
    pad[1] = 0;
    pad[2] = length;
    pad[3] = 0;
    this.polyBlocks(pad, 0, 1);
    this.finish(ks[4] >>> 0, ks[5] >>> 0, ks[6] >>> 0, ks[7] >>> 0);
  }

  /**
   * @internal Poly1305 of `message` zero-padded to whole 16-byte blocks (the AEAD's use of it)
   * under a raw 32-byte one-time key r ‖ s. For tests of the limb arithmetic at its bounds.
   */
  poly1305Padded(oneTimeKey: Uint8Array, message: Uint8Array): Uint8Array {
    checkAeadRegion(oneTimeKey, 0, 32);
    const ks = this.block;
    for (let i = 0; i < 8; i++) ks[i] = oneTimeKey[4 * i] | (oneTimeKey[4 * i + 1] << 8) | (oneTimeKey[4 * i + 2] << 16) | (oneTimeKey[4 * i + 3] << 24);
    this.polyInit(ks);
    const copy = message.slice();
    this.polyPadded(new Uint32Array(copy.buffer, 0, copy.length >>> 2), copy, 0, copy.length);
    this.finish(ks[4] >>> 0, ks[5] >>> 0, ks[6] >>> 0, ks[7] >>> 0);
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = this.tag[i >>> 2] >>> (8 * (i & 3));
    return out;
  }

  /** Clamps r from key words 0..3 (RFC 8439 §2.5.1), splits it at bits 22, 44, 66, 88, 110, squares it; h = 0. */
  private polyInit(ks: Int32Array): void {
    const t0 = ks[0] & 0x0fffffff;
    const t1 = ks[1] & 0x0ffffffc;
    const t2 = ks[2] & 0x0ffffffc;
    const t3 = ks[3] & 0x0ffffffc;
    const r = this.r;
    r[0] = t0 & M22;
    r[1] = ((t0 >>> 22) | (t1 << 10)) & M22;
    r[2] = ((t1 >>> 12) | (t2 << 20)) & M22;
    r[3] = (t2 >>> 2) & M22;
    r[4] = ((t2 >>> 24) | (t3 << 8)) & M22;
    r[5] = t3 >>> 14;
    for (let i = 1; i < 6; i++) r[5 + i] = 20 * r[i];
    const rr = this.rr;
    for (let i = 0; i < 6; i++) rr[i] = r[i];
    mulmod(rr, r, rr);
    for (let i = 1; i < 6; i++) rr[5 + i] = 20 * rr[i];
    this.h.fill(0);
  }

  /**
   * Absorbs the region zero-padded to whole blocks: whole words through `w`, the last 1–3 bytes
   * through `b` (in the scratch copy of a big-endian host only whole words are swapped).
   */
  private polyPadded(w: Uint32Array, b: Uint8Array, base: number, length: number): void {
    const full = length >>> 4;
    this.polyBlocks(w, 0, full);
    const rest = length & 15;
    if (rest === 0) return;
    const pad = this.pad;
    pad[0] = pad[1] = pad[2] = pad[3] = 0;
    const restWords = rest >>> 2;
    for (let j = 0; j < restWords; j++) pad[j] = w[(full << 2) + j];
    const tail = base + (full << 4) + (restWords << 2);
    for (let i = 0; i < (rest & 3); i++) pad[restWords] |= b[tail + i] << (8 * i);
    this.polyBlocks(pad, 0, 1);
  }

  /** `pad` = bytes[start, start + n) zero-padded to 16 bytes, as little-endian words. */
  private loadPad(bytes: Uint8Array, start: number, n: number): void {
    const pad = this.pad;
    pad[0] = pad[1] = pad[2] = pad[3] = 0;
    for (let i = 0; i < n; i++) pad[i >>> 2] |= bytes[start + i] << (8 * (i & 3));
  }

  /**
   * Absorbs `count` full 16-byte blocks from `w[start...]` (RFC 8439 §2.5: h = (h + block + 2^128)
   * · r mod 2^130 − 5; AEAD input is padded to whole blocks, so the 2^128 bit is always set).
   * Blocks go two at a time as h = (h + m1)·r² + m2·r: the same products, but m2·r does not wait
   * for h, and there is one carry step per two blocks.
   */
  private polyBlocks(w: Uint32Array, start: number, count: number): void {
    const r = this.r;
    const r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5];
    const s1 = r[6], s2 = r[7], s3 = r[8], s4 = r[9], s5 = r[10];
    const q = this.rr;
    const q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3], q4 = q[4], q5 = q[5];
    const p1 = q[6], p2 = q[7], p3 = q[8], p4 = q[9], p5 = q[10];
    const h = this.h;
    let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5];
    let i = start;
    for (const pairsEnd = start + 8 * (count >>> 1); i < pairsEnd; i += 8) {
      let w0 = w[i], w1 = w[i + 1], w2 = w[i + 2], w3 = w[i + 3];
      h0 += w0 & M22;
      h1 += ((w0 >>> 22) | (w1 << 10)) & M22;
      h2 += ((w1 >>> 12) | (w2 << 20)) & M22;
      h3 += (w2 >>> 2) & M22;
      h4 += ((w2 >>> 24) | (w3 << 8)) & M22;
      h5 += (w3 >>> 14) | 0x40000; // bit 128 is bit 18 of the limb at 110
      w0 = w[i + 4]; w1 = w[i + 5]; w2 = w[i + 6]; w3 = w[i + 7];
      const m0 = w0 & M22;
      const m1 = ((w0 >>> 22) | (w1 << 10)) & M22;
      const m2 = ((w1 >>> 12) | (w2 << 20)) & M22;
      const m3 = (w2 >>> 2) & M22;
      const m4 = ((w2 >>> 24) | (w3 << 8)) & M22;
      const m5 = (w3 >>> 14) | 0x40000;
      // h limbs are below 2^23 here, r² limbs below 2^22 + 2^13 (20× below 2^26.4), m limbs below
      // 2^22, r limbs below 2^22 (20× below 2^26.33): each d is below 2^51.93 + 2^50.9 < 2^53,
      // so every product and sum is exact in a float64.
      const d0 = h0 * q0 + h1 * p5 + h2 * p4 + h3 * p3 + h4 * p2 + h5 * p1 + (m0 * r0 + m1 * s5 + m2 * s4 + m3 * s3 + m4 * s2 + m5 * s1);
      const d1 = h0 * q1 + h1 * q0 + h2 * p5 + h3 * p4 + h4 * p3 + h5 * p2 + (m0 * r1 + m1 * r0 + m2 * s5 + m3 * s4 + m4 * s3 + m5 * s2);
      const d2 = h0 * q2 + h1 * q1 + h2 * q0 + h3 * p5 + h4 * p4 + h5 * p3 + (m0 * r2 + m1 * r1 + m2 * r0 + m3 * s5 + m4 * s4 + m5 * s3);
      const d3 = h0 * q3 + h1 * q2 + h2 * q1 + h3 * q0 + h4 * p5 + h5 * p4 + (m0 * r3 + m1 * r2 + m2 * r1 + m3 * r0 + m4 * s5 + m5 * s4);
      const d4 = h0 * q4 + h1 * q3 + h2 * q2 + h3 * q1 + h4 * q0 + h5 * p5 + (m0 * r4 + m1 * r3 + m2 * r2 + m3 * r1 + m4 * r0 + m5 * s5);
      const d5 = h0 * q5 + h1 * q4 + h2 * q3 + h3 * q2 + h4 * q1 + h5 * q0 + (m0 * r5 + m1 * r4 + m2 * r3 + m3 * r2 + m4 * r1 + m5 * r0);
      h0 = d0; h1 = d1; h2 = d2; h3 = d3; h4 = d4; h5 = d5;
      // Two rounds of independent carries (see carry()), inlined.
      let c0 = Math.floor(h0 * INV22), c1 = Math.floor(h1 * INV22), c2 = Math.floor(h2 * INV22);
      let c3 = Math.floor(h3 * INV22), c4 = Math.floor(h4 * INV22), c5 = Math.floor(h5 * INV22);
      h0 = h0 - c0 * TWO22 + c5 * 20; h1 = h1 - c1 * TWO22 + c0; h2 = h2 - c2 * TWO22 + c1;
      h3 = h3 - c3 * TWO22 + c2; h4 = h4 - c4 * TWO22 + c3; h5 = h5 - c5 * TWO22 + c4;
      c0 = Math.floor(h0 * INV22); c1 = Math.floor(h1 * INV22); c2 = Math.floor(h2 * INV22);
      c3 = Math.floor(h3 * INV22); c4 = Math.floor(h4 * INV22); c5 = Math.floor(h5 * INV22);
      h0 = h0 - c0 * TWO22 + c5 * 20; h1 = h1 - c1 * TWO22 + c0; h2 = h2 - c2 * TWO22 + c1;
      h3 = h3 - c3 * TWO22 + c2; h4 = h4 - c4 * TWO22 + c3; h5 = h5 - c5 * TWO22 + c4;
    }
    if (count & 1) {
      const w0 = w[i], w1 = w[i + 1], w2 = w[i + 2], w3 = w[i + 3];
      h0 += w0 & M22;
      h1 += ((w0 >>> 22) | (w1 << 10)) & M22;
      h2 += ((w1 >>> 12) | (w2 << 20)) & M22;
      h3 += (w2 >>> 2) & M22;
      h4 += ((w2 >>> 24) | (w3 << 8)) & M22;
      h5 += (w3 >>> 14) | 0x40000;
      h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5;
      mulmod(h, r, h);
      return;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5;
  }

  /**
   * Reduces h fully modulo 2^130 − 5, adds s modulo 2^128 and stores the tag words
   * (RFC 8439 §2.5.1). Constant time: the final selection is by mask, not by branch.
   */
  private finish(s0: number, s1: number, s2: number, s3: number): void {
    const h = this.h;
    let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5];
    // Two carry passes in which bits from 130 up wrap around times 5 (2^130 ≡ 5), then one without
    // the wrap: h0..h4 end below 2^22, h5 at most 2^20, and h < 2^130 + 2^23 < 2p.
    for (let pass = 0; pass < 3; pass++) {
      let c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c;
      c = Math.floor(h1 * INV22); h1 -= c * TWO22; h2 += c;
      c = Math.floor(h2 * INV22); h2 -= c * TWO22; h3 += c;
      c = Math.floor(h3 * INV22); h3 -= c * TWO22; h4 += c;
      c = Math.floor(h4 * INV22); h4 -= c * TWO22; h5 += c;
      if (pass === 2) break;
      c = Math.floor(h5 * INV20); h5 -= c * TWO20; h0 += c * 5;
    }
    // Integers below 2^22 from here on: int32 arithmetic.
    let a0 = h0 | 0, a1 = h1 | 0, a2 = h2 | 0, a3 = h3 | 0, a4 = h4 | 0, a5 = h5 | 0;
    // g = h + 5 − 2^130; if it is not negative, h ≥ p and the result is g.
    let g0 = a0 + 5;
    let c = g0 >>> 22; g0 &= M22;
    let g1 = a1 + c; c = g1 >>> 22; g1 &= M22;
    let g2 = a2 + c; c = g2 >>> 22; g2 &= M22;
    let g3 = a3 + c; c = g3 >>> 22; g3 &= M22;
    let g4 = a4 + c; c = g4 >>> 22; g4 &= M22;
    let g5 = a5 + c;
    const useG = -((g5 >>> 20) & 1); // all ones when g5 reached 2^20, i.e. h + 5 ≥ 2^130
    g5 &= 0xfffff;
    const keepH = ~useG;
    a0 = (a0 & keepH) | (g0 & useG);
    a1 = (a1 & keepH) | (g1 & useG);
    a2 = (a2 & keepH) | (g2 & useG);
    a3 = (a3 & keepH) | (g3 & useG);
    a4 = (a4 & keepH) | (g4 & useG);
    a5 = (a5 & keepH) | (g5 & useG);
    // Repack the low 128 bits into words and add s with carries (doubles: sums stay below 2^33).
    const x0 = (a0 | (a1 << 22)) >>> 0;
    const x1 = ((a1 >>> 10) | (a2 << 12)) >>> 0;
    const x2 = ((a2 >>> 20) | (a3 << 2) | (a4 << 24)) >>> 0;
    const x3 = ((a4 >>> 8) | (a5 << 14)) >>> 0;
    const t = this.tag;
    let f = x0 + s0;
    t[0] = f;
    f = x1 + s1 + Math.floor(f / TWO32);
    t[1] = f;
    f = x2 + s2 + Math.floor(f / TWO32);
    t[2] = f;
    f = x3 + s3 + Math.floor(f / TWO32);
    t[3] = f;
  }
}

/**
 * out = a · r mod 2^130 − 5 in 22-bit limbs (a: 6 limbs below 2^23; r: limbs then 20× limbs 1..5),
 * leaving limbs below 2^22 + 2^13. Used once per block at most: the hot loop has it inlined.
 */
function mulmod(a: Float64Array, r: Float64Array, out: Float64Array): void {
  const h0 = a[0], h1 = a[1], h2 = a[2], h3 = a[3], h4 = a[4], h5 = a[5];
  const r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5];
  const s1 = r[6], s2 = r[7], s3 = r[8], s4 = r[9], s5 = r[10];
  // Each d is a sum of six products below 2^49.33: below 2^52, exact in a float64.
  out[0] = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
  out[1] = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
  out[2] = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
  out[3] = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
  out[4] = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
  out[5] = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
  carry(out);
  carry(out);
}

/**
 * One round of independent 22-bit carries; bits from 132 up wrap around times 20
 * (2^132 ≡ 20 mod 2^130 − 5). Multiplying by 2^-22 and flooring is exact. Limbs below 2^53 come
 * out below 2^22 + 2^31 (limb 0: below 2^22 + 20·2^31); a second round brings them below
 * 2^22 + 2^13. Independent carries are one op more per limb than a serial chain but a sixth of
 * its latency.
 */
function carry(h: Float64Array): void {
  const c0 = Math.floor(h[0] * INV22), c1 = Math.floor(h[1] * INV22), c2 = Math.floor(h[2] * INV22);
  const c3 = Math.floor(h[3] * INV22), c4 = Math.floor(h[4] * INV22), c5 = Math.floor(h[5] * INV22);
  h[0] = h[0] - c0 * TWO22 + c5 * 20;
  h[1] = h[1] - c1 * TWO22 + c0;
  h[2] = h[2] - c2 * TWO22 + c1;
  h[3] = h[3] - c3 * TWO22 + c2;
  h[4] = h[4] - c4 * TWO22 + c3;
  h[5] = h[5] - c5 * TWO22 + c4;
}

/** The ChaCha20 block function (RFC 8439 §2.3): 20 rounds over constants ‖ key ‖ counter ‖ nonce. */
function chachaBlock(key: Int32Array, counter: number, n0: number, n1: number, n2: number, out: Int32Array): void {
  const k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3], k4 = key[4], k5 = key[5], k6 = key[6], k7 = key[7];
  let x0 = C0, x1 = C1, x2 = C2, x3 = C3;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3;
  let x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  const j12 = counter | 0, j13 = n0 | 0, j14 = n1 | 0, j15 = n2 | 0;
  let x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  let t: number;
  for (let round = 0; round < 10; round++) {
    // Column rounds (RFC 8439 §2.1: quarter rounds on 0-4-8-12, 1-5-9-13, 2-6-10-14, 3-7-11-15).
    x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 16) | (t >>> 16);
    x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 12) | (t >>> 20);
    x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 8) | (t >>> 24);
    x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 7) | (t >>> 25);
    x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 16) | (t >>> 16);
    x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 12) | (t >>> 20);
    x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 8) | (t >>> 24);
    x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 7) | (t >>> 25);
    x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 16) | (t >>> 16);
    x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 12) | (t >>> 20);
    x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 8) | (t >>> 24);
    x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 7) | (t >>> 25);
    x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 16) | (t >>> 16);
    x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 12) | (t >>> 20);
    x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 8) | (t >>> 24);
    x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 7) | (t >>> 25);
    // Diagonal rounds (0-5-10-15, 1-6-11-12, 2-7-8-13, 3-4-9-14).
    x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 16) | (t >>> 16);
    x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 12) | (t >>> 20);
    x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 8) | (t >>> 24);
    x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 7) | (t >>> 25);
    x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 16) | (t >>> 16);
    x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 12) | (t >>> 20);
    x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 8) | (t >>> 24);
    x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 7) | (t >>> 25);
    x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 16) | (t >>> 16);
    x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 12) | (t >>> 20);
    x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 8) | (t >>> 24);
    x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 7) | (t >>> 25);
    x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 16) | (t >>> 16);
    x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 12) | (t >>> 20);
    x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 8) | (t >>> 24);
    x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 7) | (t >>> 25);
  }
  // Add the input state back in (RFC 8439 §2.3).
  out[0] = (x0 + C0) | 0; out[1] = (x1 + C1) | 0; out[2] = (x2 + C2) | 0; out[3] = (x3 + C3) | 0;
  out[4] = (x4 + k0) | 0; out[5] = (x5 + k1) | 0; out[6] = (x6 + k2) | 0; out[7] = (x7 + k3) | 0;
  out[8] = (x8 + k4) | 0; out[9] = (x9 + k5) | 0; out[10] = (x10 + k6) | 0; out[11] = (x11 + k7) | 0;
  out[12] = (x12 + j12) | 0; out[13] = (x13 + j13) | 0; out[14] = (x14 + j14) | 0; out[15] = (x15 + j15) | 0;
}

function swapWords(w: Uint32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const x = w[i];
    w[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  }
}

/**
 * @throws {TypeError} unless `buf` is a Uint8Array; {RangeError} unless [offset, offset + length)
 *   lies inside it. Shared with the WebAssembly AEAD.
 */
export function checkAeadRegion(buf: Uint8Array, offset: number, length: number): void {
  if (!(buf instanceof Uint8Array)) throw new TypeError('expected a Uint8Array');
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`region [${offset}, ${offset + length}) does not fit in a buffer of ${buf.length} bytes`);
  }
}
