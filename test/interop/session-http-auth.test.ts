/**
 * Session.fetch with credentials in the URL against a real authentication server (Debian's
 * lighttpd, mod_auth) behind wireguard-go: Basic, Digest MD5 and Digest SHA-256, answered after
 * the server's 401 challenge, and wrong credentials leaving the 401 to the caller.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel TCP ── lighttpd :8081 (harness/lighttpd-auth.ts)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { AUTH_AREAS, AUTH_USER, startLighttpdAuth, type LighttpdAuthServer } from '../../harness/lighttpd-auth.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };

describe('URL credentials against lighttpd mod_auth through wireguard-go', { skip: interopSkipReason(['lighttpd']) }, () => {
  let fx: SessionFixture;
  let server: LighttpdAuthServer;
  before(async () => {
    fx = await startSessionFixture({ name: 'auth', servers: [] });
    server = await startLighttpdAuth(fx.peer);
  }, SLOW);
  after(async () => {
    await server?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  for (const area of AUTH_AREAS) {
    test(`${area}: the challenge is answered and the page comes back`, SLOW, async () => {
      const heads: { status: number; headers: [string, string][] }[] = [];
      const res = await fx.session.fetch(server.url(area, AUTH_USER), { onResponseHead: (h) => heads.push(h) });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(await res.text(), `secret /${area}/index.txt\n`);
      assert.deepEqual(heads.map((h) => h.status), [401, 200], 'one 401 challenge, then the answer');
      const challenge = heads[0].headers.find(([n]) => n.toLowerCase() === 'www-authenticate')?.[1] ?? '';
      assert.match(challenge, area === 'basic' ? /^Basic/ : area === 'digest-md5' ? /^Digest .*algorithm=MD5/ : /^Digest .*algorithm=SHA-256/);
    });
  }

  test('wrong credentials get the server\'s 401 after one answer; none get a plain 401', SLOW, async () => {
    for (const area of AUTH_AREAS) {
      const heads: number[] = [];
      const res = await fx.session.fetch(server.url(area, { username: AUTH_USER.username, password: 'wrong' }), { onResponseHead: (h) => heads.push(h.status) });
      assert.equal(res.status, 401, area);
      await res.arrayBuffer();
      assert.deepEqual(heads, [401, 401], area);
      const bare = await fx.session.fetch(server.url(area));
      assert.equal(bare.status, 401);
      await bare.arrayBuffer();
    }
  });
});
