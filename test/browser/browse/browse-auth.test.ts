/**
 * BrowseAuth (the browse view's HTTP authentication, #14 item 2) and BrowseBackend answering 401s:
 * the login dialog is asked for navigations, its answer is sent again and then pre-emptively, wrong
 * credentials ask again, Cancel keeps the server's 401, URL credentials need no dialog.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowseAuth, type CredentialsRequest } from '../../../src/browser/browse/browse-auth.ts';
import { BrowseBackend, type BrowseFetchInit } from '../../../src/browser/browse/browse-backend.ts';
import type { BrowseFetchMessage, BrowseResponseMessage } from '../../../src/browser/browse/browse-protocol.ts';
import type { Credentials } from '../../../src/protocols/http/http-auth.ts';

const BASIC = 'Basic realm="Transmission"';
const DIGEST = 'Digest realm="lab", qop="auth", algorithm=SHA-256, nonce="n1"';
const url = new URL('http://10.77.0.1:9091/transmission/web/');

describe('BrowseAuth', () => {
  test('nothing is sent before a login; after one, Basic goes pre-emptively to that origin only', () => {
    const auth = new BrowseAuth();
    assert.equal(auth.authorization(url, 'GET'), undefined);
    const d = auth.next(url, [BASIC], undefined);
    assert.deepEqual(d, { action: 'ask', request: { origin: 'http://10.77.0.1:9091', realm: 'Transmission', scheme: 'basic', failed: false, username: '' } });
    assert.equal(auth.login(url, [BASIC], { username: 'admin', password: 'secret' }), true);
    assert.equal(auth.authorization(url, 'GET'), `Basic ${btoa('admin:secret')}`);
    assert.equal(auth.authorization(new URL('http://10.77.0.1:9092/'), 'GET'), undefined, 'another port is another origin');
    assert.equal(auth.authorization(new URL('http://10.77.0.2:9091/'), 'GET'), undefined);
  });

  test('refused credentials ask again with the user name prefilled; a Basic user name with ":" is not taken', () => {
    const auth = new BrowseAuth();
    auth.login(url, [BASIC], { username: 'admin', password: 'wrong' });
    const d = auth.next(url, [BASIC], auth.authorization(url, 'GET'));
    assert.equal(d.action, 'ask');
    assert.equal(d.action === 'ask' && d.request.failed, true);
    assert.equal(d.action === 'ask' && d.request.username, 'admin');
    assert.equal(auth.login(url, [BASIC], { username: 'a:b', password: 'x' }), false);
  });

  test('URL credentials answer the first challenge without a dialog, once', () => {
    const auth = new BrowseAuth();
    auth.rememberUrlCredentials(new URL('http://u%40x:p%3As@10.77.0.1:9091/'));
    assert.deepEqual(auth.next(url, [DIGEST], undefined), { action: 'retry' });
    const digest = auth.authorization(url, 'GET') ?? '';
    assert.match(digest, /^Digest username="u@x", realm="lab", uri="\/transmission\/web\/", algorithm=SHA-256, nonce="n1", nc=00000001, /);
    assert.match(auth.authorization(url, 'GET') ?? '', /nc=00000002/, 'Digest counts up per request (RFC 7616 §3.4)');
    assert.equal(auth.next(url, [DIGEST], digest).action, 'ask', 'refused: the user is asked, the URL is not tried again');
  });

  test('a stale Digest nonce is answered again without asking', () => {
    const auth = new BrowseAuth();
    auth.login(url, [DIGEST], { username: 'u', password: 'p' });
    const sent = auth.authorization(url, 'GET');
    assert.deepEqual(auth.next(url, [DIGEST.replace('n1', 'n2') + ', stale=true'], sent), { action: 'retry' });
    assert.match(auth.authorization(url, 'GET') ?? '', /nonce="n2", nc=00000001/);
  });

  test('an unknown scheme is given up (the 401 stays)', () => {
    assert.deepEqual(new BrowseAuth().next(url, ['Negotiate'], undefined), { action: 'give-up' });
  });
});

describe('BrowseBackend and 401s', () => {
  function setup(answers: (Credentials | undefined)[]) {
    const calls: { url: string; init: BrowseFetchInit }[] = [];
    const asked: CredentialsRequest[] = [];
    const good = `Basic ${btoa('admin:secret')}`;
    const backend = new BrowseBackend({
      fetch: async (u, init) => {
        calls.push({ url: u, init });
        const ok = init.headers.some(([n, v]) => n === 'authorization' && v === good);
        return {
          head: { url: u, status: ok ? 200 : 401, statusText: ok ? 'OK' : 'Unauthorized', headers: ok ? [['content-type', 'text/plain']] : [['www-authenticate', BASIC], ['content-type', 'text/plain']] },
          body: new Response(ok ? 'torrents' : '401: Unauthorized').body,
        };
      },
      tunnel: () => ({ connected: true, allowedIPs: ['10.77.0.0/24'] }),
      askCredentials: async (r) => {
        asked.push(r);
        return answers.shift();
      },
    });
    const { port1, port2 } = new MessageChannel();
    backend.attach(port1);
    let id = 0;
    const send = (m: Partial<BrowseFetchMessage>) =>
      new Promise<BrowseResponseMessage>((resolve) => {
        const full: BrowseFetchMessage = { type: 'fetch', id: ++id, url: url.href, method: 'POST', headers: [], body: new TextEncoder().encode('form').buffer, initiator: null, navigate: true, destination: 'iframe', ...m };
        port2.addEventListener('message', function on(e) {
          if ((e.data as { id?: number }).id !== full.id) return;
          port2.removeEventListener('message', on);
          resolve(e.data as BrowseResponseMessage);
        });
        port2.start();
        port2.postMessage(full);
      });
    const close = () => {
      backend.close();
      port2.close();
    };
    return { calls, asked, send, close, good };
  }
  const auth = (init: BrowseFetchInit) => init.headers.find(([n]) => n === 'authorization')?.[1];

  test('a navigation asks, a wrong password asks again, the right one loads the page; the next request sends it at once', async () => {
    const s = setup([{ username: 'admin', password: 'nope' }, { username: 'admin', password: 'secret' }]);
    try {
      const r = await s.send({});
      assert.equal(r.status, 200);
      assert.equal(await new Response(r.body).text(), 'torrents');
      assert.deepEqual(s.asked.map((a) => [a.realm, a.failed]), [['Transmission', false], ['Transmission', true]]);
      assert.deepEqual(s.calls.map((c) => auth(c.init)), [undefined, `Basic ${btoa('admin:nope')}`, s.good]);
      // The form body went out whole with every attempt.
      for (const c of s.calls) assert.equal(new TextDecoder().decode(c.init.body!), 'form');
      const xhr = await s.send({ navigate: false, destination: '', method: 'GET', body: null });
      assert.equal(xhr.status, 200);
      assert.equal(auth(s.calls[3].init), s.good);
      assert.equal(s.asked.length, 2);
    } finally {
      s.close();
    }
  });

  test("Cancel shows the server's 401 page; a subresource's 401 never opens the dialog", async () => {
    const s = setup([undefined]);
    try {
      const r = await s.send({});
      assert.equal(r.status, 401);
      assert.equal(await new Response(r.body).text(), '401: Unauthorized');
      const sub = await s.send({ navigate: false, destination: 'image', method: 'GET', body: null });
      assert.equal(sub.status, 401);
      assert.equal(s.asked.length, 1);
    } finally {
      s.close();
    }
  });
});
