import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LoadDetector } from '../../src/wireguard/load-detector.ts';

describe('LoadDetector', () => {
  test('under load at the threshold rate, and for one second after', () => {
    const d = new LoadDetector(4);
    for (const t of [0, 100, 200]) d.record(t);
    assert.equal(d.underLoad(200), false);
    d.record(300);
    assert.equal(d.underLoad(300), true);
    assert.equal(d.underLoad(1299), true);
    assert.equal(d.underLoad(1300), false);
  });

  test('a steady rate below the threshold never counts as load', () => {
    const d = new LoadDetector(4);
    // One every 350 ms: never four inside one second.
    for (let t = 0; t < 10_000; t += 350) {
      d.record(t);
      assert.equal(d.underLoad(t), false);
    }
  });
});
