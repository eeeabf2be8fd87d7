import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeRateLimiter } from '../../src/wireguard/handshake-rate-limiter.ts';

describe('HandshakeRateLimiter (per source, under load)', () => {
  test('a burst of 5, then one every 50 ms (20 per second)', () => {
    const r = new HandshakeRateLimiter();
    const allowed = Array.from({ length: 8 }, () => r.allow('192.0.2.1', 0));
    assert.deepEqual(allowed, [true, true, true, true, true, false, false, false]);
    assert.equal(r.allow('192.0.2.1', 49), false);
    assert.equal(r.allow('192.0.2.1', 50), true);
    assert.equal(r.allow('192.0.2.2', 50), true, 'sources are independent');
    assert.equal(r.allow('192.0.2.1', 10_000), true);
  });

  test('idle sources are forgotten', () => {
    const r = new HandshakeRateLimiter();
    r.allow('a', 0);
    r.allow('b', 0);
    r.allow('c', 2000);
    assert.equal(r.size, 1);
  });
});
