import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedTokenBuckets, TokenBucket } from '../../src/shared/token-bucket.ts';

describe('TokenBucket', () => {
  test('spends a full burst at once, then refills at the rate on the caller clock', () => {
    const b = new TokenBucket({ ratePerSecond: 10, burst: 3 });
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(99), false, '0.99 token after 99 ms');
    assert.equal(b.take(100), true);
    assert.equal(b.take(100), false);
  });

  test('never holds more than the burst, however long it was idle', () => {
    const b = new TokenBucket({ ratePerSecond: 10, burst: 2 });
    b.take(0);
    const got = [1, 2, 3].map(() => b.take(1_000_000));
    assert.deepEqual(got, [true, true, false]);
  });

  test('a clock that goes backwards grants nothing extra', () => {
    const b = new TokenBucket({ ratePerSecond: 1, burst: 1 });
    assert.equal(b.take(5000), true);
    assert.equal(b.take(0), false);
    assert.equal(b.take(5999), false);
    assert.equal(b.take(6000), true);
  });

  test('rejects non-positive rates and bursts below 1', () => {
    assert.throws(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), RangeError);
    assert.throws(() => new TokenBucket({ ratePerSecond: 1, burst: 0.5 }), RangeError);
  });
});

describe('TokenBucket, step by step on the caller clock', () => {
  // 10 tokens/s (one per 100 ms), depth 3. [row, now ms, expected take() result, tokens left after]
  const rows: [number, number, boolean, number][] = [
    [1, 0, true, 2],
    [2, 0, true, 1],
    [3, 0, true, 0],
    [4, 0, false, 0],
    [5, 50, false, 0.5],
    [6, 100, true, 0],
    [7, 100, false, 0],
    [8, 1000, true, 2],
    [9, 5000, true, 2],
    [10, 4000, true, 1],
  ];
  const rl = new TokenBucket({ ratePerSecond: 10, burst: 3 });
  for (const [row, now, expected, left] of rows) {
    test(`${row}. at ${now} ms take() is ${expected}, leaving ${left}`, () => {
      assert.equal(rl.take(now), expected);
      assert.ok(Math.abs(rl.available(now) - left) < 1e-9, `tokens ${rl.available(now)}`);
    });
  }
  // Row 10: a clock stepping backwards adds nothing (and does not throw).

  test('bad parameters are RangeErrors', () => {
    assert.throws(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), RangeError);
    assert.throws(() => new TokenBucket({ ratePerSecond: 1, burst: 0 }), RangeError);
    assert.throws(() => new TokenBucket({ ratePerSecond: Number.NaN, burst: 1 }), RangeError);
  });
});

describe('KeyedTokenBuckets', () => {
  test('keeps one bucket per key and reports the fraction of a token still missing', () => {
    const k = new KeyedTokenBuckets({ ratePerSecond: 1, burst: 1 }, 10);
    assert.equal(k.take('a', 0), 0);
    assert.equal(k.take('b', 0), 0, 'another key has its own bucket');
    assert.equal(k.take('a', 250), 0.75);
    assert.equal(k.take('a', 1000), 0);
  });

  test('forgets the least recently used key when full, which then starts with a full bucket', () => {
    const k = new KeyedTokenBuckets({ ratePerSecond: 1, burst: 1 }, 2);
    k.take('a', 0);
    k.take('b', 0);
    k.take('a', 0); // a is now the most recently used
    k.take('c', 0); // evicts b
    assert.equal(k.size, 2);
    assert.equal(k.take('b', 0), 0, 'b was forgotten');
    assert.ok(k.take('c', 0) > 0, 'c was kept');
  });

  test('rejects bad options up front', () => {
    assert.throws(() => new KeyedTokenBuckets({ ratePerSecond: 0, burst: 1 }, 1), RangeError);
    assert.throws(() => new KeyedTokenBuckets({ ratePerSecond: 1, burst: 1 }, 0), RangeError);
  });
});
