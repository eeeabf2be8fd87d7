/**
 * Registrations of the demo peer under a fake clock: addresses handed out round-robin, the
 * capacity, and the two ways a registration expires (never used, then idle).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DemoRegistry } from '../../../src/node/demo/demo-registry.ts';
import { formatIp, parseIp, parsePrefix } from '../../../src/shared/ip-address.ts';

function registry(capacity = 3, network4 = '10.44.0.1/24'): DemoRegistry {
  const p4 = parsePrefix(network4);
  const p6 = parsePrefix('fd44::1/64');
  return new DemoRegistry({ network4: p4, network6: p6, reserved: [p4.address, p6.address], capacity, pendingTtlMs: 300_000, idleTtlMs: 600_000 });
}

describe('DemoRegistry: addresses', () => {
  test('hands out .2, .3, ... with the same host number in IPv6, skipping the peer’s own .1', () => {
    const r = registry();
    const a = r.register('A', 0)!;
    const b = r.register('B', 0)!;
    assert.deepEqual([formatIp(a.address4), formatIp(a.address6)], ['10.44.0.2', 'fd44::2']);
    assert.deepEqual([formatIp(b.address4), formatIp(b.address6)], ['10.44.0.3', 'fd44::3']);
  });

  test('is full at capacity and refuses a second registration of the same key', () => {
    const r = registry(2);
    r.register('A', 0);
    assert.throws(() => r.register('A', 0), /already registered/);
    r.register('B', 0);
    assert.equal(r.full, true);
    assert.equal(r.register('C', 0), undefined);
  });

  test('reuses a freed address only after the others (round-robin)', () => {
    const r = registry(3);
    r.register('A', 0); // .2
    r.register('B', 0); // .3
    r.release('A');
    const c = r.register('C', 0)!;
    assert.equal(formatIp(c.address4), '10.44.0.4', 'the next unused address, not the one just freed');
  });

  test('finds a registration by either of its addresses, and nothing for other addresses', () => {
    const r = registry();
    const a = r.register('A', 0)!;
    assert.equal(r.byAddress(parseIp('10.44.0.2')), a);
    assert.equal(r.byAddress(parseIp('fd44::2')), a);
    assert.equal(r.byAddress(parseIp('10.44.0.3')), undefined);
    assert.equal(r.byAddress(parseIp('10.45.0.2')), undefined);
    assert.equal(r.byAddress(parseIp('fd44::1:2')), undefined);
  });

  test('a /24 holds 253 clients at most; a larger capacity is refused up front', () => {
    assert.throws(() => registry(254), /does not fit 10\.44\.0\.0\/24 \(253 free addresses\)/);
    const r = registry(253);
    for (let i = 0; i < 253; i++) assert.ok(r.register(`K${i}`, 0));
    assert.equal(formatIp(r.byAddress(parseIp('10.44.0.254'))!.address4), '10.44.0.254');
  });

  test('works in a network that does not start on a /24 boundary (10.44.4.0/22)', () => {
    const r = registry(300, '10.44.4.1/22');
    for (let i = 0; i < 255; i++) r.register(`K${i}`, 0);
    const last = r.register('L', 0)!;
    assert.equal(formatIp(last.address4), '10.44.5.1');
    assert.equal(r.byAddress(parseIp('10.44.5.1')), last);
  });
});

describe('DemoRegistry: expiry (fake clock, ms)', () => {
  const rx = new Map<string, number>();
  const activity = (key: string) => (rx.has(key) ? { rxBytes: rx.get(key)! } : undefined);

  test('1. an unused registration lives pendingTtl, then ends as never-connected', () => {
    const r = registry();
    r.register('A', 0);
    rx.set('A', 0);
    assert.deepEqual(r.sweep(299_999, activity), []);
    const out = r.sweep(300_000, activity);
    assert.deepEqual(out.map((e) => [e.registration.publicKey, e.reason]), [['A', 'never-connected']]);
    assert.equal(r.size, 0);
  });

  test('2. traffic makes it active; it then lives idleTtl after the last traffic seen', () => {
    const r = registry();
    r.register('B', 0);
    rx.set('B', 148); // the handshake initiation arrived
    assert.deepEqual(r.sweep(10_000, activity), []);
    assert.equal(r.get('B')!.active, true);
    assert.equal(r.expiresAt(r.get('B')!), 610_000);
    rx.set('B', 500); // more traffic
    assert.deepEqual(r.sweep(400_000, activity), []);
    assert.deepEqual(r.sweep(999_999, activity), []);
    assert.deepEqual(r.sweep(1_000_000, activity).map((e) => e.reason), ['idle']);
  });

  test('3. a peer gone from the tunnel is released as removed', () => {
    const r = registry();
    r.register('C', 0);
    assert.deepEqual(r.sweep(1, activity).map((e) => e.reason), ['removed']);
  });

  test('4. an expiry frees the slot for a new client', () => {
    const r = registry(1);
    r.register('D', 0);
    rx.set('D', 0);
    assert.equal(r.register('E', 1), undefined);
    r.sweep(300_000, activity);
    assert.ok(r.register('E', 300_001));
  });
});
