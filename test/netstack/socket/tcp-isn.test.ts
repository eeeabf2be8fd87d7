/**
 * RFC 6528 initial sequence numbers: a keyed hash of the 4-tuple plus a 4 µs clock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IsnGenerator } from '../../../src/netstack/socket/tcp-isn.ts';
import { parseIp } from '../../../src/shared/ip-address.ts';

const key = (fill: number) => () => new Uint8Array(32).fill(fill);
const L = parseIp('10.0.0.1');
const R = parseIp('10.0.0.2');

describe('IsnGenerator', () => {
  test('the same key, tuple and time give the same ISN; the clock adds 250 per millisecond', () => {
    const g = new IsnGenerator(key(1));
    const a = g.generate(L, 40000, R, 80, 1000);
    assert.deepEqual(g.generate(L, 40000, R, 80, 1000), a);
    assert.equal(g.generate(L, 40000, R, 80, 1004).isn, (a.isn + 1000) >>> 0);
  });

  test('another port, another address or another key gives an unrelated ISN', () => {
    const g = new IsnGenerator(key(1));
    const base = g.generate(L, 40000, R, 80, 0).isn;
    const others = [
      g.generate(L, 40001, R, 80, 0).isn,
      g.generate(L, 40000, R, 81, 0).isn,
      g.generate(R, 40000, L, 80, 0).isn,
      new IsnGenerator(key(2)).generate(L, 40000, R, 80, 0).isn,
    ];
    for (const o of others) assert.notEqual(o, base);
    assert.equal(new Set(others).size, others.length);
  });

  test('the timestamp offset is per connection too (RFC 7323 §5.4)', () => {
    const g = new IsnGenerator(key(3));
    assert.notEqual(g.generate(L, 1, R, 2, 0).tsOffset, g.generate(L, 1, R, 3, 0).tsOffset);
  });

  test('IPv6 tuples work; a randomBytes that returns the wrong length is a TypeError', () => {
    const g = new IsnGenerator(key(4));
    const r = g.generate(parseIp('fd00::1'), 1, parseIp('fd00::2'), 2, 123.456);
    assert.ok(Number.isInteger(r.isn) && r.isn >= 0 && r.isn < 2 ** 32);
    assert.throws(() => new IsnGenerator(() => new Uint8Array(16)), TypeError);
  });
});
