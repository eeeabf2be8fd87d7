/**
 * Every response of the relay's app origin carries the security headers (issue #11 item 9), and the
 * header's policy is the UI's own <meta> policy plus frame-ancestors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_SECURITY_HEADERS, UI_CONTENT_SECURITY_POLICY } from '../../../src/node/relay/app-security-headers.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import { testRelay } from './relay-fixtures.ts';

const EXPECTED: Record<string, string> = {
  'content-security-policy': `${UI_CONTENT_SECURITY_POLICY}; frame-ancestors 'self'`,
  'x-frame-options': 'SAMEORIGIN',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

describe('security headers on the app origin', () => {
  let dir: string;
  let relay: RelayHandle;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-app-headers-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><p>app</p>');
    relay = await testRelay({ staticDirs: [dir] });
  });
  after(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [what, path] of [
    ['the page', '/'],
    ['a missing file', '/nope.js'],
    ['the demo API (here: disabled)', '/api/demo/config'],
    ['the health check', '/healthz'],
    ['plain HTTP to the WebSocket path', '/wg'],
  ] as const) {
    test(`${what} (${path}) has CSP with frame-ancestors, X-Frame-Options, nosniff and no-referrer`, async () => {
      const res = await fetch(new URL(path, relay.url));
      await res.arrayBuffer();
      for (const [name, value] of Object.entries(EXPECTED)) assert.equal(res.headers.get(name), value, `${name} on ${path} (${res.status})`);
    });
  }

  test("the header policy is the UI's <meta> policy, so neither is looser than the other", () => {
    const html = readFileSync(new URL('../../../src/browser/ui/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
    assert.ok(meta, 'index.html has a CSP <meta>');
    assert.equal(meta[1], UI_CONTENT_SECURITY_POLICY);
    assert.match(APP_SECURITY_HEADERS['Content-Security-Policy'], /; frame-ancestors 'self'$/);
  });

  test("script-src is 'self' plus 'wasm-unsafe-eval' only: the worker may compile WebAssembly, nothing may eval", () => {
    const scriptSrc = /(?:^|; )script-src ([^;]+)/.exec(UI_CONTENT_SECURITY_POLICY);
    assert.ok(scriptSrc, 'the policy has a script-src');
    assert.deepEqual(scriptSrc[1].split(' ').sort(), ["'self'", "'wasm-unsafe-eval'"]);
    assert.doesNotMatch(UI_CONTENT_SECURITY_POLICY, /'unsafe-eval'/);
  });
});
