import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/shared/token-bucket.ts';

describe('TokenBucket', () => {
  test('spends a full burst at once, then refills at the rate on the caller clock', () => {
    const b = new TokenBucket(10, 3);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(99), false, '0.99 token after 99 ms');
    assert.equal(b.take(100), true);
    assert.equal(b.take(100), false);
  });

  test('never holds more than the burst, however long it was idle', () => {
    const b = new TokenBucket(10, 2);
    b.take(0);
    const got = [1, 2, 3].map(() => b.take(1_000_000));
    assert.deepEqual(got, [true, true, false]);
  });

  test('a clock that goes backwards grants nothing extra', () => {
    const b = new TokenBucket(1, 1);
    assert.equal(b.take(5000), true);
    assert.equal(b.take(0), false);
    assert.equal(b.take(5999), false);
    assert.equal(b.take(6000), true);
  });

  test('rejects non-positive rates and bursts below 1', () => {
    assert.throws(() => new TokenBucket(0, 1), RangeError);
    assert.throws(() => new TokenBucket(1, 0.5), RangeError);
  });
});
