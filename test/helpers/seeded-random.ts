/**
 * A deterministic `RandomBytes` for replaying captured protocol transcripts: SHA-256 of
 * (seed, counter) blocks, so a client given the same seed draws the same ephemeral keys, cookies
 * and padding every time. Test-only: never use it for real keys.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** Returns a `random(n)` that yields the same byte stream for the same `seed`. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  const seedBytes = new TextEncoder().encode(seed);
  let counter = 0;
  let pool = new Uint8Array(0);
  return (n) => {
    while (pool.length < n) {
      const block = new Uint8Array(seedBytes.length + 4);
      block.set(seedBytes);
      new DataView(block.buffer).setUint32(seedBytes.length, counter++);
      const next = new Uint8Array(pool.length + 32);
      next.set(pool);
      next.set(sha256(block), pool.length);
      pool = next;
    }
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}
