/**
 * When `wgweb relay` starts the demo peer: one row per combination of flags and listen address.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideDemoMode, isLoopbackHost } from '../../../src/node/demo/demo-mode.ts';

describe('decideDemoMode', () => {
  const rows: [number, string, Parameters<typeof decideDemoMode>[0], string, boolean | RegExp][] = [
    [1, 'npm start: loopback, no flags', {}, '127.0.0.1', true],
    [2, 'IPv6 loopback', {}, '::1', true],
    [3, 'localhost', {}, 'localhost', true],
    [4, '--no-demo on loopback', { noDemo: true }, '127.0.0.1', false],
    [5, 'all addresses without --demo', {}, '0.0.0.0', false],
    [6, 'a LAN address without --demo', {}, '192.0.2.10', false],
    [7, 'all addresses with --demo (on, with a warning)', { demo: true }, '0.0.0.0', true],
    [8, '--public', { public: true }, '0.0.0.0', false],
    [9, '--public on loopback (behind a proxy)', { public: true }, '127.0.0.1', false],
    [10, '--demo with --public', { demo: true, public: true }, '127.0.0.1', /cannot be used with --public/],
    [11, '--demo with --no-demo', { demo: true, noDemo: true }, '127.0.0.1', /contradict/],
  ];
  for (const [n, what, flags, host, expected] of rows) {
    test(`${n}. ${what} → ${expected instanceof RegExp ? 'usage error' : expected ? 'on' : 'off'}`, () => {
      if (expected instanceof RegExp) {
        assert.throws(() => decideDemoMode(flags, host), expected);
        return;
      }
      const d = decideDemoMode(flags, host);
      assert.equal(d.enabled, expected);
      if (!d.enabled) {
        // An off demo says why: the flag that turned it off, or the non-loopback address.
        const cause = flags.public ? '--public' : flags.noDemo ? '--no-demo' : host;
        assert.ok(d.reason.includes(cause), `the reason names ${cause}: ${d.reason}`);
      }
      if (n === 7) assert.ok(d.enabled && d.warning?.includes('0.0.0.0'));
      if (n === 5) assert.ok(!d.enabled && d.reason.includes('--demo'), 'the reason says how to turn it on');
    });
  }
});

test('isLoopbackHost', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1', 'app.localhost']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '::2', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});
