/**
 * Buffered randomness for the many small draws of the protocol (timer jitter, 32-bit session
 * indices), so the data path does not call the CSPRNG once per packet. Secrets (ephemeral keys,
 * cookie secrets and nonces) are drawn from the injected {@link RandomBytes} directly.
 */
import type { RandomBytes } from '../shared/bytes.ts';

const POOL_SIZE = 256;

/** Draws u32s and bounded integers from a refilled buffer of CSPRNG output. */
export class RandomPool {
  private readonly source: RandomBytes;
  private buffer: Uint8Array = new Uint8Array(0);
  private offset = 0;

  constructor(source: RandomBytes) {
    this.source = source;
  }

  /** A uniformly random u32. */
  uint32(): number {
    if (this.offset + 4 > this.buffer.length) {
      this.buffer = this.source(POOL_SIZE);
      if (!(this.buffer instanceof Uint8Array) || this.buffer.length !== POOL_SIZE) {
        throw new TypeError(`randomBytes(${POOL_SIZE}) must return ${POOL_SIZE} bytes`);
      }
      this.offset = 0;
    }
    const b = this.buffer;
    const o = this.offset;
    this.offset += 4;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }

  /** A uniformly random integer in [0, n) for 0 < n ≤ 2^32 (rejection sampling, no modulo bias). */
  below(n: number): number {
    const limit = Math.floor(2 ** 32 / n) * n;
    for (;;) {
      const r = this.uint32();
      if (r < limit) return r % n;
    }
  }
}
