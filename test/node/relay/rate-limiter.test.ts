import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../src/node/relay/rate-limiter.ts';

describe('RateLimiter is a token bucket driven by the caller clock', () => {
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
  const rl = new RateLimiter({ ratePerSecond: 10, burst: 3 });
  for (const [row, now, expected, left] of rows) {
    test(`${row}. at ${now} ms take() is ${expected}, leaving ${left}`, () => {
      assert.equal(rl.take(now), expected);
      assert.ok(Math.abs(rl.available(now) - left) < 1e-9, `tokens ${rl.available(now)}`);
    });
  }
  // Row 10: a clock stepping backwards adds nothing (and does not throw).

  test('bad parameters are RangeErrors', () => {
    assert.throws(() => new RateLimiter({ ratePerSecond: 0, burst: 1 }), RangeError);
    assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 0 }), RangeError);
    assert.throws(() => new RateLimiter({ ratePerSecond: Number.NaN, burst: 1 }), RangeError);
  });
});
