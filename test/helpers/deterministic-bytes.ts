/**
 * Deterministic pseudo-random bytes for transfer tests: the namespace HTTP server streams them
 * from `GET /bytes/N?seed=S`, and a test computes the same bytes or SHA-256 locally to check
 * that nothing was lost, duplicated or reordered on the way.
 *
 * The stream is cut into 64 KiB blocks; block i is xorshift32 output seeded from (seed, i), so any
 * block can be produced on its own. Words are stored little-endian (via Uint32Array on the
 * little-endian hosts that Node and browsers run on here). Not cryptographic; never for keys.
 */
import { createHash } from 'node:crypto';

/** Size of one independently seeded block. */
export const DETERMINISTIC_BLOCK = 64 * 1024;

function blockSeed(seed: number, block: number): number {
  // splitmix-style mixing so neighbouring (seed, block) pairs start far apart.
  let z = (Math.imul(seed | 0, 0x9e3779b9) ^ Math.imul(block + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 1 : z;
}

/** Block `block` of the stream for `seed` (always {@link DETERMINISTIC_BLOCK} bytes). */
export function deterministicBlock(seed: number, block: number): Uint8Array {
  const words = new Uint32Array(DETERMINISTIC_BLOCK / 4);
  let x = blockSeed(seed, block);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer);
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length must be a non-negative safe integer, got ${length}`);
}

/** The first `length` bytes of the stream for `seed`, in chunks of at most one block. */
export function* deterministicChunks(length: number, seed = 1): Generator<Uint8Array> {
  checkLength(length);
  for (let block = 0, left = length; left > 0; block++) {
    const b = deterministicBlock(seed, block);
    const n = Math.min(left, b.length);
    yield n === b.length ? b : b.subarray(0, n);
    left -= n;
  }
}

/** The first `length` bytes of the stream for `seed`, as one array. */
export function deterministicBytes(length: number, seed = 1): Uint8Array {
  checkLength(length);
  const out = new Uint8Array(length);
  let off = 0;
  for (const c of deterministicChunks(length, seed)) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Lower-case hex SHA-256 of `deterministicBytes(length, seed)`, computed block by block. */
export function deterministicSha256(length: number, seed = 1): string {
  const h = createHash('sha256');
  for (const c of deterministicChunks(length, seed)) h.update(c);
  return h.digest('hex');
}

/** Lower-case hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
