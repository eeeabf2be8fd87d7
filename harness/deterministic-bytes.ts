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
import { deterministicChunks } from '../src/node/demo/deterministic-bytes.ts';

// One definition of the stream: the demo peer serves it, the test servers and tests recompute it.
export { DETERMINISTIC_BLOCK, deterministicBlock, deterministicChunks } from '../src/node/demo/deterministic-bytes.ts';

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length must be a non-negative safe integer, got ${length}`);
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
