import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../src/shared/ip-address.ts';
import { PathMtuCache } from '../../src/netstack/path-mtu-cache.ts';

describe('PathMtuCache', () => {
  test('remembers an MTU per destination until its lifetime ends', () => {
    const c = new PathMtuCache({ lifetimeMs: 1000 });
    c.set(parseIp('10.0.0.1'), 1300, 0);
    assert.equal(c.get(parseIp('10.0.0.1'), 999), 1300);
    assert.equal(c.get(parseIp('10.0.0.2'), 0), undefined);
    assert.equal(c.get(parseIp('10.0.0.1'), 1000), undefined);
    assert.equal(c.size, 0, 'expired entries are removed on lookup');
  });

  test('keeps at most maxEntries, forgetting the oldest', () => {
    const c = new PathMtuCache({ maxEntries: 2 });
    c.set(parseIp('fd00::1'), 1280, 0);
    c.set(parseIp('fd00::2'), 1280, 0);
    c.set(parseIp('fd00::3'), 1280, 0);
    assert.equal(c.get(parseIp('fd00::1'), 0), undefined);
    assert.equal(c.get(parseIp('fd00::3'), 0), 1280);
    assert.equal(c.size, 2);
  });
});
