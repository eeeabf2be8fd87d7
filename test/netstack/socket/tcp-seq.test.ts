/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4), across the wrap.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin } from '../../../src/netstack/socket/tcp-seq.ts';

describe('sequence arithmetic', () => {
  test('adding wraps to an unsigned 32-bit value', () => {
    assert.equal(seqAdd(0xffffffff, 1), 0);
    assert.equal(seqAdd(0, -1 >>> 0), 0xffffffff);
    assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
  });

  test('comparisons hold across the wrap', () => {
    assert.equal(seqLt(0xfffffff0, 0x10), true);
    assert.equal(seqGt(0x10, 0xfffffff0), true);
    assert.equal(seqLe(5, 5), true);
    assert.equal(seqGe(5, 5), true);
    assert.equal(seqDiff(0x10, 0xfffffff0), 0x20);
    assert.equal(seqDiff(0xfffffff0, 0x10), -0x20);
    assert.equal(seqMax(0xfffffff0, 0x10), 0x10);
    assert.equal(seqMin(0xfffffff0, 0x10), 0xfffffff0);
  });
});
