import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RandomPool } from '../../src/wireguard/random-pool.ts';
import { seededRandom } from './helpers.ts';

describe('RandomPool', () => {
  test('bounded draws stay in range and use every value', () => {
    const pool = new RandomPool(seededRandom(3));
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const v = pool.below(334);
      assert.ok(v >= 0 && v < 334);
      seen.add(v);
    }
    assert.equal(seen.size, 334);
  });

});
