/**
 * The bytes behind the demo's `GET /bytes/N?seed=S`: a pseudo-random stream anyone can recompute,
 * so a throughput test checks what arrived against an `x-sha256` header instead of trusting it.
 *
 * The test servers and tests use this same definition (harness/deterministic-bytes.ts
 * re-exports it): 64 KiB blocks, block i is xorshift32 output seeded from (seed, i),
 * little-endian words. Not cryptographic.
 *
 *   deterministicBlock(seed, i) ──▶ 64 KiB      deterministicStream(n, seed) ──▶ ReadableStream
 *   deterministicSha256(n, seed) ──▶ hex, computed in slices that yield to the event loop and
 *                                    remembered for the last few (n, seed) pairs
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Size of one independently seeded block. */
export const DETERMINISTIC_BLOCK = 64 * 1024;

/** Blocks hashed between two yields to the event loop (1 MiB). */
const BLOCKS_PER_SLICE = 16;
const SHA_CACHE_ENTRIES = 32;

function blockSeed(seed: number, block: number): number {
  let z = (Math.imul(seed | 0, 0x9e3779b9) ^ Math.imul(block + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 1 : z;
}

/** Block `block` of the stream for `seed` (always {@link DETERMINISTIC_BLOCK} bytes, a fresh array). */
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

/** The first `length` bytes of the stream, in chunks of at most one block. */
export function* deterministicChunks(length: number, seed = 1): Generator<Uint8Array> {
  checkLength(length);
  for (let block = 0, left = length; left > 0; block++) {
    const b = deterministicBlock(seed, block);
    const n = Math.min(left, b.length);
    yield n === b.length ? b : b.subarray(0, n);
    left -= n;
  }
}

/** The first `length` bytes as a stream that produces a block only when its reader asks. */
export function deterministicStream(length: number, seed = 1): ReadableStream<Uint8Array> {
  checkLength(length);
  const chunks = deterministicChunks(length, seed);
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const r = chunks.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel() {
        chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

const shaCache = new Map<string, Promise<string>>();

/**
 * Lower-case hex SHA-256 of the first `length` bytes. A gigabyte takes a few seconds: the work is
 * sliced so the event loop (and every tunnel it drives) keeps running meanwhile.
 */
export function deterministicSha256(length: number, seed = 1): Promise<string> {
  checkLength(length);
  const key = `${length}/${seed}`;
  const hit = shaCache.get(key);
  if (hit) {
    // Least recently used goes first: move a hit to the end.
    shaCache.delete(key);
    shaCache.set(key, hit);
    return hit;
  }
  const p = (async () => {
    const h = createHash('sha256');
    let n = 0;
    for (const c of deterministicChunks(length, seed)) {
      h.update(c);
      if (++n % BLOCKS_PER_SLICE === 0) await yieldToLoop();
    }
    return h.digest('hex');
  })();
  shaCache.set(key, p);
  if (shaCache.size > SHA_CACHE_ENTRIES) shaCache.delete(shaCache.keys().next().value!);
  p.catch(() => shaCache.delete(key));
  return p;
}
