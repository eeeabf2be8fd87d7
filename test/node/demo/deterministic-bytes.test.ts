/**
 * The demo's /bytes stream is byte for byte the test servers' one (test/helpers), so one
 * checksum serves both; and its SHA-256 is computed in slices without changing the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deterministicBlock, deterministicChunks, deterministicSha256, deterministicStream } from '../../../src/node/demo/deterministic-bytes.ts';
import * as helper from '../../../harness/deterministic-bytes.ts';

test('blocks equal the test helper’s for several seeds and block numbers', () => {
  for (const seed of [0, 1, 7, 0xffffffff]) {
    for (const block of [0, 1, 1000]) assert.deepEqual(deterministicBlock(seed, block), helper.deterministicBlock(seed, block));
  }
});

test('the SHA-256 of N bytes equals the helper’s, across block boundaries', async () => {
  for (const n of [0, 1, 65535, 65536, 65537, 3 * 65536 + 5, 2 * 1024 * 1024]) {
    assert.equal(await deterministicSha256(n, 3), helper.deterministicSha256(n, 3), `n = ${n}`);
  }
});

test('the stream yields exactly N bytes, the same as the chunks', async () => {
  const n = 200_000;
  const parts: Uint8Array[] = [];
  const reader = deterministicStream(n, 5).getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    parts.push(r.value);
  }
  const got = Buffer.concat(parts);
  assert.equal(got.length, n);
  assert.deepEqual(new Uint8Array(got), helper.deterministicBytes(n, 5));
  assert.equal([...deterministicChunks(n, 5)].length, 4);
});

test('a negative or fractional length is a RangeError', () => {
  assert.throws(() => deterministicSha256(-1), RangeError);
  assert.throws(() => deterministicStream(1.5), RangeError);
});
