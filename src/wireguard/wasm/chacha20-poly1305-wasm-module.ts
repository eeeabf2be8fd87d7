/**
 * Generates the WebAssembly ChaCha20-Poly1305 (RFC 8439 §2.8) module: ChaCha20 four blocks at a
 * time in 128-bit SIMD lanes, Poly1305 in 26-bit limbs with 64-bit products. The module is built
 * by wasm-module-writer.ts from the code below when first used (a few milliseconds, ≈ 3 KB).
 *
 * Memory (one linear memory, exported; the caller writes key, nonce and data, calls, reads back):
 *
 *   0    KEY    32 B   ChaCha20 key (wiped by every seal/open)
 *   32   NONCE  12 B   three little-endian nonce words (wiped)
 *   48   TAG    16 B   the tag Poly1305 computed (wiped after seal copies it out)
 *   64   PAD    16 B   a zero-padded Poly1305 block: partial tail, length block (wiped)
 *   80   SKEY   16 B   Poly1305's s (second half of the one-time key; wiped)
 *   128  KS    256 B   keystream of four blocks (block 0 = the one-time key; wiped)
 *   1024 DATA          the message, its 16-byte tag right after it, then the AAD 16-aligned
 *
 *   seal(data, len, aad, aadLen)       keystream blocks 0..3 ─▶ KS; Poly1305 key = KS[0, 32)
 *                                      data ^= ChaCha20 from block 1 (KS[64..256), then 4 blocks per
 *                                      step straight from the SIMD registers, tail through KS)
 *                                      Poly1305(aad ‖ pad ‖ ct ‖ pad ‖ le64 aadLen ‖ le64 len) ─▶ data[len, +16)
 *   open(data, len, aad, aadLen) → 1|0 the same tag over the ciphertext, compared in constant time with
 *                                      data[len, +16); only when equal is the data decrypted in place
 *   block4(counter)                    (tests) four keystream blocks at KS
 *   poly1305(msg, len)                 (tests) raw Poly1305 (§2.5) of msg under the key at KS[0, 32) ─▶ TAG
 *
 * ChaCha20 (§2.3) runs "vertically": each of the 16 state words is one v128 whose four lanes
 * belong to four consecutive blocks (counters c..c+3), so a quarter round is 12 SIMD operations
 * for four blocks; rotations by 16 and 8 are byte shuffles, by 12 and 7 two shifts and an or.
 * After the rounds a 4×4 transpose per group of four words turns lanes back into blocks.
 *
 * Poly1305 (§2.5) follows the 32-bit "donna" layout: h and r in five 26-bit limbs held in i64,
 * 25 multiplications per 16-byte block, products below 2^58; limbs of 2^130 wrap times 5.
 */
import { FunctionBuilder, I32, I64, V128, WasmModuleWriter } from './wasm-module-writer.ts';

/** Memory layout (see the header). */
export const LAYOUT = { KEY: 0, NONCE: 32, TAG: 48, PAD: 64, SKEY: 80, KS: 128, DATA: 1024 } as const;
/** Pages the module's memory starts with: 128 KiB, room for a 64 KiB message and its AAD. */
export const INITIAL_PAGES = 2;

/** "expand 32-byte k" (RFC 8439 §2.3). */
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
const M26 = 0x3ffffff;

/** Byte lanes of an i8x16.shuffle that picks the i32 lanes `l` of (a ‖ b). */
function lanes32(l: readonly number[]): number[] {
  return l.flatMap((i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]);
}

/** Rotate each i32 lane left by 16 / by 8, as byte shuffles (little-endian lanes). */
const ROTL16 = [0, 1, 2, 3].flatMap((i) => [4 * i + 2, 4 * i + 3, 4 * i, 4 * i + 1]);
const ROTL8 = [0, 1, 2, 3].flatMap((i) => [4 * i + 3, 4 * i, 4 * i + 1, 4 * i + 2]);

/**
 * The body of a four-block ChaCha20 function with param 0 = first block counter; `xorInto`
 * (param 1, an address) gets the 256 keystream bytes XORed into it, otherwise they go to KS.
 */
function emitChacha4(f: FunctionBuilder, xorInto: boolean): void {
  const ctr = 0;
  const dst = 1;
  const x = Array.from({ length: 16 }, () => f.local(V128));
  const t = Array.from({ length: 4 }, () => f.local(V128));
  const round = f.local(I32);
  /** Pushes the initial state word `i` as four lanes. */
  const initial = (i: number): void => {
    if (i < 4) f.v128i32(SIGMA[i], SIGMA[i], SIGMA[i], SIGMA[i]);
    else if (i < 12) f.i32(0).simdMem('v128.load32_splat', LAYOUT.KEY + 4 * (i - 4));
    else if (i === 12) f.get(ctr).simd('i32x4.splat').v128i32(0, 1, 2, 3).simd('i32x4.add');
    else f.i32(0).simdMem('v128.load32_splat', LAYOUT.NONCE + 4 * (i - 13));
  };
  for (let i = 0; i < 16; i++) {
    initial(i);
    f.set(x[i]);
  }
  const addXorRot = (a: number, b: number, d: number, n: number): void => {
    // a += b; d = rotl(d ^ a, n)
    f.get(a).get(b).simd('i32x4.add').tee(a).get(d).simd('v128.xor');
    if (n === 16 || n === 8) {
      f.tee(d).get(d).shuffle(n === 16 ? ROTL16 : ROTL8).set(d);
    } else {
      f.tee(d).i32(n).simd('i32x4.shl').get(d).i32(32 - n).simd('i32x4.shr_u').simd('v128.or').set(d);
    }
  };
  const quarter = (a: number, b: number, c: number, d: number): void => {
    // RFC 8439 §2.1.
    addXorRot(x[a], x[b], x[d], 16);
    addXorRot(x[c], x[d], x[b], 12);
    addXorRot(x[a], x[b], x[d], 8);
    addXorRot(x[c], x[d], x[b], 7);
  };
  f.i32(10).set(round);
  f.loop();
  quarter(0, 4, 8, 12);
  quarter(1, 5, 9, 13);
  quarter(2, 6, 10, 14);
  quarter(3, 7, 11, 15);
  quarter(0, 5, 10, 15);
  quarter(1, 6, 11, 12);
  quarter(2, 7, 8, 13);
  quarter(3, 4, 9, 14);
  f.get(round).i32(1).op('i32.sub').tee(round).brIf(0);
  f.end();
  for (let i = 0; i < 16; i++) {
    // Add the input state back in (§2.3).
    f.get(x[i]);
    initial(i);
    f.simd('i32x4.add').set(x[i]);
  }
  // Transpose each group of four words: lane j of x[4g + k] is word 4g + k of block j.
  for (let g = 0; g < 4; g++) {
    const [a, b, c, d] = [x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]];
    f.get(a).get(b).shuffle(lanes32([0, 4, 1, 5])).set(t[0]); // a0 b0 a1 b1
    f.get(a).get(b).shuffle(lanes32([2, 6, 3, 7])).set(t[1]); // a2 b2 a3 b3
    f.get(c).get(d).shuffle(lanes32([0, 4, 1, 5])).set(t[2]); // c0 d0 c1 d1
    f.get(c).get(d).shuffle(lanes32([2, 6, 3, 7])).set(t[3]); // c2 d2 c3 d3
    for (let j = 0; j < 4; j++) {
      const offset = 64 * j + 16 * g;
      const [lo, hi] = j < 2 ? [t[0], t[2]] : [t[1], t[3]];
      const pick = lanes32((j & 1) === 0 ? [0, 1, 4, 5] : [2, 3, 6, 7]);
      if (xorInto) {
        f.get(dst).get(dst).simdMem('v128.load', offset).get(lo).get(hi).shuffle(pick).simd('v128.xor').simdMem('v128.store', offset);
      } else {
        f.i32(0).get(lo).get(hi).shuffle(pick).simdMem('v128.store', LAYOUT.KS + offset);
      }
    }
  }
}

/** Builds the module's bytes (deterministic: the same bytes on every call). */
export function buildChacha20Poly1305Module(): Uint8Array<ArrayBuffer> {
  const m = new WasmModuleWriter();
  const h = [0, 1, 2, 3, 4].map(() => m.globalI64());
  const r = [0, 1, 2, 3, 4].map(() => m.globalI64());

  // block4(counter): four keystream blocks at KS.
  const block4 = m.func('block4', [I32], []);
  emitChacha4(block4, false);

  // xor4(counter, p): data[p, p + 256) ^= four keystream blocks.
  const xor4 = m.func(undefined, [I32, I32], []);
  emitChacha4(xor4, true);

  // xorBytes(dst, src, n): dst[0, n) ^= src[0, n); 16 bytes per step, then bytes.
  const xorBytes = m.func(undefined, [I32, I32, I32], []);
  {
    const f = xorBytes;
    const [dst, src, n] = [0, 1, 2];
    f.block().loop();
    f.get(n).i32(16).op('i32.lt_u').brIf(1);
    f.get(dst).get(dst).simdMem('v128.load').get(src).simdMem('v128.load').simd('v128.xor').simdMem('v128.store');
    f.get(dst).i32(16).op('i32.add').set(dst);
    f.get(src).i32(16).op('i32.add').set(src);
    f.get(n).i32(16).op('i32.sub').set(n);
    f.br(0).end().end();
    f.block().loop();
    f.get(n).op('i32.eqz').brIf(1);
    f.get(dst).get(dst).mem('i32.load8_u').get(src).mem('i32.load8_u').op('i32.xor').mem('i32.store8');
    f.get(dst).i32(1).op('i32.add').set(dst);
    f.get(src).i32(1).op('i32.add').set(src);
    f.get(n).i32(1).op('i32.sub').set(n);
    f.br(0).end().end();
  }

  // xorStream(p, len): data ^= ChaCha20 keystream from block 1; KS holds blocks 0..3 on entry.
  const xorStream = m.func(undefined, [I32, I32], []);
  {
    const f = xorStream;
    const [p, len] = [0, 1];
    const n = f.local(I32);
    const ctr = f.local(I32);
    // n = min(len, 192): blocks 1..3 are already in KS.
    f.i32(192).get(len).get(len).i32(192).op('i32.gt_u').op('select').set(n);
    f.get(p).i32(LAYOUT.KS + 64).get(n).call(xorBytes);
    f.get(p).get(n).op('i32.add').set(p);
    f.get(len).get(n).op('i32.sub').set(len);
    f.i32(4).set(ctr);
    f.block().loop();
    f.get(len).i32(256).op('i32.lt_u').brIf(1);
    f.get(ctr).get(p).call(xor4);
    f.get(p).i32(256).op('i32.add').set(p);
    f.get(len).i32(256).op('i32.sub').set(len);
    f.get(ctr).i32(4).op('i32.add').set(ctr);
    f.br(0).end().end();
    f.get(len).if();
    f.get(ctr).call(block4);
    f.get(p).i32(LAYOUT.KS).get(len).call(xorBytes);
    f.end();
  }

  // polyInit(key): r = clamp(key[0, 16)) in 26-bit limbs (§2.5.1), s = key[16, 32) ─▶ SKEY, h = 0.
  const polyInit = m.func(undefined, [I32], []);
  {
    const f = polyInit;
    const key = 0;
    const limb = (at: number, shift: number, mask: number): void => {
      f.get(key).mem('i64.load32_u', at).i64(shift).op('i64.shr_u').i64(mask).op('i64.and');
    };
    // The clamp folded into the masks of the 26-bit split (poly1305-donna-32).
    limb(0, 0, 0x3ffffff); f.globalSet(r[0]);
    limb(3, 2, 0x3ffff03); f.globalSet(r[1]);
    limb(6, 4, 0x3ffc0ff); f.globalSet(r[2]);
    limb(9, 6, 0x3f03fff); f.globalSet(r[3]);
    limb(12, 8, 0x00fffff); f.globalSet(r[4]);
    for (const g of h) f.i64(0).globalSet(g);
    f.i32(LAYOUT.SKEY).get(key).simdMem('v128.load', 16).simdMem('v128.store');
  }

  // polyBlocks(m, n, hibit): n 16-byte blocks from m; hibit = 2^24 (the 2^128 bit in limb 4) or 0.
  const polyBlocks = m.func(undefined, [I32, I32, I64], []);
  {
    const f = polyBlocks;
    const [msg, n, hibit] = [0, 1, 2];
    const hl = [0, 1, 2, 3, 4].map(() => f.local(I64));
    const rl = [0, 1, 2, 3, 4].map(() => f.local(I64));
    const sl = [0, 1, 2, 3, 4].map(() => f.local(I64)); // sl[i] = 5·r[i] (sl[0] unused)
    const d = [0, 1, 2, 3, 4].map(() => f.local(I64));
    const c = f.local(I64);
    for (let i = 0; i < 5; i++) f.globalGet(h[i]).set(hl[i]);
    for (let i = 0; i < 5; i++) f.globalGet(r[i]).set(rl[i]);
    for (let i = 1; i < 5; i++) f.get(rl[i]).i64(5).op('i64.mul').set(sl[i]);
    f.block().loop();
    f.get(n).op('i32.eqz').brIf(1);
    // h += m (five 26-bit limbs read by unaligned 32-bit loads at byte offsets 0, 3, 6, 9, 12).
    const load = [[0, 0], [3, 2], [6, 4], [9, 6], [12, 8]];
    for (let i = 0; i < 5; i++) {
      const [at, shift] = load[i];
      f.get(hl[i]).get(msg).mem('i64.load32_u', at);
      if (shift) f.i64(shift).op('i64.shr_u');
      if (i < 4) f.i64(M26).op('i64.and');
      else f.get(hibit).op('i64.or');
      f.op('i64.add').set(hl[i]);
    }
    // d = h · r mod 2^130 − 5: limb i + j ≥ 5 wraps times 5 (2^130 ≡ 5).
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < 5; i++) {
        const j = (k - i + 5) % 5;
        f.get(hl[i]).get(i + j >= 5 ? sl[j] : rl[j]).op('i64.mul');
        if (i > 0) f.op('i64.add');
      }
      f.set(d[k]);
    }
    // Carry: d0 → d1 → … → d4 → h0 (times 5) → h1.
    for (let k = 0; k < 5; k++) {
      f.get(d[k]).i64(26).op('i64.shr_u').set(c);
      f.get(d[k]).i64(M26).op('i64.and').set(hl[k]);
      if (k < 4) f.get(d[k + 1]).get(c).op('i64.add').set(d[k + 1]);
      else f.get(hl[0]).get(c).i64(5).op('i64.mul').op('i64.add').set(hl[0]);
    }
    f.get(hl[0]).i64(26).op('i64.shr_u').set(c);
    f.get(hl[0]).i64(M26).op('i64.and').set(hl[0]);
    f.get(hl[1]).get(c).op('i64.add').set(hl[1]);
    f.get(msg).i32(16).op('i32.add').set(msg);
    f.get(n).i32(1).op('i32.sub').set(n);
    f.br(0).end().end();
    for (let i = 0; i < 5; i++) f.get(hl[i]).globalSet(h[i]);
  }

  // polyTail(m, len, raw): the whole blocks of m[0, len), then its partial tail copied into PAD
  // zero-padded (the AEAD's padding, §2.8) or, when raw, ended by a 0x01 byte without the 2^128
  // bit (plain Poly1305, §2.5.1).
  const polyTail = m.func(undefined, [I32, I32, I32], []);
  {
    const f = polyTail;
    const [msg, len, raw] = [0, 1, 2];
    const rest = f.local(I32);
    f.get(msg).get(len).i32(4).op('i32.shr_u').i64(1 << 24).call(polyBlocks);
    f.get(len).i32(15).op('i32.and').tee(rest).if();
    f.i32(0).i64(0).mem('i64.store', LAYOUT.PAD).i32(0).i64(0).mem('i64.store', LAYOUT.PAD + 8);
    f.i32(LAYOUT.PAD).get(msg).get(len).i32(~15).op('i32.and').op('i32.add').get(rest).call(xorBytes);
    // PAD[rest] = raw (0 or 1): the 0x01 end byte of a raw tail; the AEAD's padding stays zero.
    f.get(rest).get(raw).mem('i32.store8', LAYOUT.PAD);
    // hibit = raw ? 0 : 2^24.
    f.i32(LAYOUT.PAD).i32(1).i64(0).i64(1 << 24).get(raw).op('select').call(polyBlocks);
    f.end();
  }

  // polyFinish(): h mod 2^130 − 5, + s mod 2^128 ─▶ TAG (§2.5.1). Constant time: selection by mask.
  const polyFinish = m.func(undefined, [], []);
  {
    const f = polyFinish;
    const hl = [0, 1, 2, 3, 4].map(() => f.local(I64));
    const g = [0, 1, 2, 3, 4].map(() => f.local(I64));
    const c = f.local(I64);
    const mask = f.local(I64);
    for (let i = 0; i < 5; i++) f.globalGet(h[i]).set(hl[i]);
    // Full carry: h1 → … → h4 → h0 (times 5) → h1.
    for (const k of [1, 2, 3, 4, 0]) {
      f.get(hl[k]).i64(26).op('i64.shr_u').set(c);
      f.get(hl[k]).i64(M26).op('i64.and').set(hl[k]);
      const next = (k + 1) % 5;
      f.get(hl[next]).get(c);
      if (k === 4) f.i64(5).op('i64.mul');
      f.op('i64.add').set(hl[next]);
    }
    // g = h + 5 − 2^130; h ≥ p exactly when g is not negative.
    f.get(hl[0]).i64(5).op('i64.add').set(g[0]);
    for (let k = 0; k < 4; k++) {
      f.get(g[k]).i64(26).op('i64.shr_u').set(c);
      f.get(g[k]).i64(M26).op('i64.and').set(g[k]);
      f.get(hl[k + 1]).get(c).op('i64.add').set(g[k + 1]);
    }
    f.get(g[4]).i64(1 << 26).op('i64.sub').set(g[4]);
    // mask = all ones when g ≥ 0 (use g), 0 when g < 0 (keep h).
    f.get(g[4]).i64(63).op('i64.shr_u').i64(1).op('i64.sub').set(mask);
    for (let k = 0; k < 5; k++) {
      f.get(hl[k]).get(mask).i64(-1).op('i64.xor').op('i64.and');
      f.get(g[k]).get(mask).op('i64.and').op('i64.or').set(hl[k]);
    }
    // Repack into 32-bit words and add s with carries.
    const word = (k: number): void => {
      const lo = [0, 6, 12, 18][k];
      f.get(hl[k]).i64(lo).op('i64.shr_u').get(hl[k + 1]).i64(26 - lo).op('i64.shl').op('i64.or').i64(0xffffffff).op('i64.and');
    };
    for (let k = 0; k < 4; k++) {
      word(k);
      f.i32(0).mem('i64.load32_u', LAYOUT.SKEY + 4 * k).op('i64.add');
      if (k > 0) f.get(c).i64(32).op('i64.shr_u').op('i64.add');
      f.set(c);
      f.i32(0).get(c).op('i32.wrap_i64').mem('i32.store', LAYOUT.TAG + 4 * k);
    }
  }

  // wipe(): zero every secret the module holds (key, nonce, keystream, Poly1305 state).
  const wipe = m.func(undefined, [], []);
  {
    const f = wipe;
    for (let at = 0; at < LAYOUT.KS + 256; at += 16) f.i32(0).v128i32(0, 0, 0, 0).simdMem('v128.store', at);
    for (const g of [...h, ...r]) f.i64(0).globalSet(g);
  }

  /**
   * The AEAD's tag over aad and data[0, len) into TAG (§2.8: each padded to 16 bytes, then the
   * two lengths as le64), under the one-time key polyInit took from block 0.
   */
  const mac = (f: FunctionBuilder, data: number, len: number, aad: number, aadLen: number): void => {
    f.get(aad).get(aadLen).i32(0).call(polyTail);
    f.get(data).get(len).i32(0).call(polyTail);
    f.i32(0).get(aadLen).op('i64.extend_i32_u').mem('i64.store', LAYOUT.PAD);
    f.i32(0).get(len).op('i64.extend_i32_u').mem('i64.store', LAYOUT.PAD + 8);
    f.i32(LAYOUT.PAD).i32(1).i64(1 << 24).call(polyBlocks);
    f.call(polyFinish);
  };

  const seal = m.func('seal', [I32, I32, I32, I32], []);
  {
    const f = seal;
    const [data, len, aad, aadLen] = [0, 1, 2, 3];
    f.i32(0).call(block4);
    f.i32(LAYOUT.KS).call(polyInit); // before xorStream reuses KS for its tail
    f.get(data).get(len).call(xorStream);
    mac(f, data, len, aad, aadLen);
    f.get(data).get(len).op('i32.add').i32(0).simdMem('v128.load', LAYOUT.TAG).simdMem('v128.store');
    f.call(wipe);
  }

  const open = m.func('open', [I32, I32, I32, I32], [I32]);
  {
    const f = open;
    const [data, len, aad, aadLen] = [0, 1, 2, 3];
    const ok = f.local(I32);
    f.i32(0).call(block4);
    f.i32(LAYOUT.KS).call(polyInit);
    mac(f, data, len, aad, aadLen);
    // Constant time: both halves compared, one test at the end (RFC 8439 §4).
    f.get(data).get(len).op('i32.add').mem('i64.load').i32(0).mem('i64.load', LAYOUT.TAG).op('i64.xor');
    f.get(data).get(len).op('i32.add').mem('i64.load', 8).i32(0).mem('i64.load', LAYOUT.TAG + 8).op('i64.xor');
    f.op('i64.or').op('i64.eqz').tee(ok).if();
    f.get(data).get(len).call(xorStream);
    f.end();
    f.call(wipe);
    f.get(ok);
  }

  const poly1305 = m.func('poly1305', [I32, I32], []);
  {
    const f = poly1305;
    f.i32(LAYOUT.KS).call(polyInit);
    f.get(0).get(1).i32(1).call(polyTail);
    f.call(polyFinish);
  }

  return m.bytes({ memoryPages: INITIAL_PAGES });
}
