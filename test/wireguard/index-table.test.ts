import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RandomPool } from '../../src/wireguard/random-pool.ts';
import { IndexTable } from '../../src/wireguard/index-table.ts';
import { seededRandom } from './helpers.ts';

describe('IndexTable', () => {
  test('indices are unique even when the random source repeats itself', () => {
    let calls = 0;
    // A source whose first two pools are identical: the table must skip the collisions.
    const pool = new RandomPool((n) => {
      calls++;
      return calls <= 2 ? new Uint8Array(n).fill(7) : seededRandom(calls)(n);
    });
    const t = new IndexTable<string>();
    const a = t.allocate('a', pool);
    const b = t.allocate('b', pool);
    assert.notEqual(a, b);
    assert.equal(t.get(a), 'a');
    t.delete(a);
    assert.equal(t.get(a), undefined);
    assert.equal(t.size, 1);
  });
});
