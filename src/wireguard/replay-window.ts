/**
 * Sliding-window replay protection for transport counters (RFC 6479; WireGuard paper §5.4.6).
 *
 * A ring of 256 32-bit blocks (8192 bits, the kernel's size) remembers which counters were seen;
 * one block is kept as slack so advancing the window only ever clears whole blocks, leaving
 * {@link REPLAY_WINDOW_SIZE} = 8160 counters of history behind the greatest one. Counters are
 * 64-bit; to stay off BigInt on the per-packet path they travel as two u32 words (lo, hi).
 *
 * Transport decryption first asks {@link ReplayWindow.check} (cheap, no state change), then
 * authenticates the packet, and only then records it with {@link ReplayWindow.accept}: an
 * unauthenticated packet must never move the window.
 */
import {
  REJECT_AFTER_MESSAGES_HI,
  REJECT_AFTER_MESSAGES_LO,
  REPLAY_BLOCK_BITS,
  REPLAY_RING_BLOCKS,
  REPLAY_WINDOW_SIZE,
} from './constants.ts';

const BLOCK_SHIFT = Math.log2(REPLAY_BLOCK_BITS); // 5
const BLOCK_MASK = REPLAY_RING_BLOCKS - 1;
const BIT_MASK = REPLAY_BLOCK_BITS - 1;
const TWO_32 = 2 ** 32;

/** True when (hi, lo) ≥ REJECT_AFTER_MESSAGES: such a counter is never valid. */
export function counterExhausted(lo: number, hi: number): boolean {
  return hi === REJECT_AFTER_MESSAGES_HI && lo >= REJECT_AFTER_MESSAGES_LO;
}

/** Splits a non-negative integer counter (number or bigint, < 2^64) into u32 words. */
export function splitCounter(counter: number | bigint): [lo: number, hi: number] {
  if (typeof counter === 'bigint') {
    if (counter < 0n || counter >= 2n ** 64n) throw new RangeError(`counter must be a u64, got ${counter}`);
    return [Number(counter & 0xffffffffn), Number(counter >> 32n)];
  }
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`counter must be a non-negative safe integer, got ${counter}`);
  return [counter >>> 0, Math.floor(counter / TWO_32)];
}

/** RFC 6479 anti-replay bitmap for 64-bit counters. */
export class ReplayWindow {
  /** How far behind the greatest accepted counter a counter may be and still be accepted. */
  static readonly SIZE = REPLAY_WINDOW_SIZE;

  private readonly ring = new Uint32Array(REPLAY_RING_BLOCKS);
  private lastLo = 0;
  private lastHi = 0;

  /** Forgets every counter (a fresh key starts with an empty window). */
  reset(): void {
    this.ring.fill(0);
    this.lastLo = 0;
    this.lastHi = 0;
  }

  /** Would `(lo, hi)` be accepted? Does not change the window. */
  check(lo: number, hi: number): boolean {
    if (counterExhausted(lo, hi)) return false;
    if (hi > this.lastHi || (hi === this.lastHi && lo > this.lastLo)) return true;
    if (this.isTooOld(lo, hi)) return false;
    return ((this.ring[(lo >>> BLOCK_SHIFT) & BLOCK_MASK] >>> (lo & BIT_MASK)) & 1) === 0;
  }

  /**
   * Records `(lo, hi)` if it is new and inside the window, advancing the window when it is the
   * greatest counter so far. Returns false for replays, counters too far behind, and counters at
   * or beyond REJECT_AFTER_MESSAGES.
   */
  accept(lo: number, hi: number): boolean {
    if (counterExhausted(lo, hi)) return false;
    if (hi > this.lastHi || (hi === this.lastHi && lo > this.lastLo)) {
      // Clear the blocks the window slides over (all of them after a big jump).
      const hiDiff = hi - this.lastHi;
      let blocks = hiDiff > 1 ? REPLAY_RING_BLOCKS : hiDiff * (TWO_32 / REPLAY_BLOCK_BITS) + (lo >>> BLOCK_SHIFT) - (this.lastLo >>> BLOCK_SHIFT);
      if (blocks > REPLAY_RING_BLOCKS) blocks = REPLAY_RING_BLOCKS;
      const current = this.lastLo >>> BLOCK_SHIFT;
      for (let i = 1; i <= blocks; i++) this.ring[(current + i) & BLOCK_MASK] = 0;
      this.lastLo = lo;
      this.lastHi = hi;
    } else if (this.isTooOld(lo, hi)) {
      return false;
    }
    const block = (lo >>> BLOCK_SHIFT) & BLOCK_MASK;
    const bit = 1 << (lo & BIT_MASK);
    const old = this.ring[block];
    if ((old & bit) !== 0) return false;
    this.ring[block] = old | bit;
    return true;
  }

  /** Convenience for tests and tools: {@link accept} with a number or bigint counter. */
  acceptCounter(counter: number | bigint): boolean {
    const [lo, hi] = splitCounter(counter);
    return this.accept(lo, hi);
  }

  /** Convenience for tests and tools: {@link check} with a number or bigint counter. */
  checkCounter(counter: number | bigint): boolean {
    const [lo, hi] = splitCounter(counter);
    return this.check(lo, hi);
  }

  /** The greatest counter accepted so far (0 before any). */
  get greatest(): bigint {
    return (BigInt(this.lastHi) << 32n) | BigInt(this.lastLo);
  }

  /** Counter ≤ last here; true when last − counter exceeds the window. */
  private isTooOld(lo: number, hi: number): boolean {
    const hiDiff = this.lastHi - hi;
    if (hiDiff > 1) return true;
    return hiDiff * TWO_32 + this.lastLo - lo > REPLAY_WINDOW_SIZE;
  }
}
