import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/shared/bytes.ts';
import { compareTai64n, tai64n, tai64nToWallClockMs } from '../../src/wireguard/tai64n.ts';

describe('TAI64N', () => {
  test('the Unix epoch is label 2^62 + 10 with zero nanoseconds', () => {
    assert.equal(toHex(tai64n(0)), '400000000000000a' + '00000000');
  });

  test('seconds are big-endian after the label; nanoseconds keep only their top 8 bits (whitening)', () => {
    // 1_700_000_000.999 s: 999_000_000 ns = 0x3b8b87c0 → 0x3b000000 after clearing 24 bits.
    assert.equal(toHex(tai64n(1_700_000_000_999)), '40000000' + (1_700_000_010).toString(16).padStart(8, '0') + '3b000000');
  });

  test('whitening makes times within the same 2^24 ns step equal, and later steps greater', () => {
    const a = tai64n(1_700_000_000_000);
    assert.equal(compareTai64n(a, tai64n(1_700_000_000_016)), 0);
    assert.equal(compareTai64n(a, tai64n(1_700_000_000_017)), -1);
    assert.equal(compareTai64n(tai64n(1_700_000_001_000), a), 1);
  });

  test('fractional milliseconds are floored and the value decodes back to the whitened time', () => {
    assert.deepEqual(tai64n(5_000.9), tai64n(5_000));
    assert.equal(tai64nToWallClockMs(tai64n(1_700_000_000_000)), 1_700_000_000_000);
    assert.equal(tai64nToWallClockMs(new Uint8Array(3)), undefined);
  });

  test('bad times are caller errors', () => {
    assert.throws(() => tai64n(-1), RangeError);
    assert.throws(() => tai64n(Number.NaN), RangeError);
  });
});
