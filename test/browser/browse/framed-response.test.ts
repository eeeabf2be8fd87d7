import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { editContentSecurityPolicy, frameAgentTag, planFramedResponse, requestHeaders, type FramedResponseInput } from '../../../src/browser/browse/framed-response.ts';
import { TunnelScope } from '../../../src/browser/browse/tunnel-scope.ts';

const base: FramedResponseInput = {
  url: new URL('http://10.77.0.1/login'),
  method: 'GET',
  destination: 'iframe',
  status: 200,
  statusText: 'OK',
  headers: [['content-type', 'text/html; charset=utf-8']],
  scope: TunnelScope.from(['10.77.0.0/24']),
  session: 'tab00001',
  appOrigin: 'http://127.0.0.1:8080',
  browseOrigin: 'http://127.0.0.1:8081',
  nonce: 'n0nce',
};
const plan = (over: Partial<FramedResponseInput>) => planFramedResponse({ ...base, ...over });
const header = (headers: [string, string][], name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

describe('request headers into the tunnel', () => {
  test('cookies, browse-origin identity, hop-by-hop and browser-private fields stay behind', () => {
    const got = requestHeaders([
      ['Cookie', 'app=1'],
      ['Host', '127.0.0.1:8081'],
      ['Origin', 'http://127.0.0.1:8081'],
      ['Referer', 'http://127.0.0.1:8081/browse/tab00001/http/10.77.0.1/'],
      ['Connection', 'keep-alive'],
      ['Accept-Encoding', 'br'],
      ['Sec-Fetch-Mode', 'navigate'],
      ['Proxy-Authorization', 'x'],
      ['Content-Length', '3'],
      ['Accept', 'text/html'],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['X-Requested-With', 'XMLHttpRequest'],
      ['Authorization', 'Bearer intranet-token'],
    ]);
    assert.deepEqual(got, [
      ['accept', 'text/html'],
      ['content-type', 'application/x-www-form-urlencoded'],
      ['x-requested-with', 'XMLHttpRequest'],
      ['authorization', 'Bearer intranet-token'],
    ]);
  });
  test('values that could split the request are dropped', () => {
    assert.deepEqual(requestHeaders([['x-a', 'ok'], ['x-b', 'bad\r\nHost: evil']]), [['x-a', 'ok']]);
  });
});

describe('response headers out to the frame', () => {
  test('Set-Cookie and headers that would change the browse origin itself are removed', () => {
    const p = plan({
      headers: [
        ['content-type', 'text/html'],
        ['set-cookie', 'session=1'],
        ['clear-site-data', '"storage"'],
        ['strict-transport-security', 'max-age=1'],
        ['x-frame-options', 'DENY'],
        ['service-worker-allowed', '/'],
        ['alt-svc', 'h3=":443"'],
        ['x-custom', 'kept'],
      ],
    });
    assert.deepEqual(header(p.headers, 'set-cookie'), []);
    assert.deepEqual(header(p.headers, 'clear-site-data'), []);
    assert.deepEqual(header(p.headers, 'x-frame-options'), []);
    assert.deepEqual(header(p.headers, 'x-custom'), ['kept']);
    assert.deepEqual(header(p.headers, 'referrer-policy'), ['same-origin']);
    assert.deepEqual(header(p.headers, 'content-security-policy'), ["frame-ancestors http://127.0.0.1:8080 'self'"]);
  });
  test('a body the worker decoded loses its Content-Encoding and Content-Length; an unknown coding stays', () => {
    const p = plan({ headers: [['content-type', 'text/css'], ['content-encoding', 'gzip'], ['content-length', '10']] });
    assert.deepEqual(header(p.headers, 'content-encoding'), []);
    assert.deepEqual(header(p.headers, 'content-length'), []);
    assert.deepEqual(header(plan({ headers: [['content-encoding', 'br']] }).headers, 'content-encoding'), ['br']);
  });
  test('HTML documents are rewritten; other types, subresources, attachments and bodiless answers are not', () => {
    assert.equal(plan({}).rewriteHtml, true);
    assert.equal(plan({ destination: 'document' }).rewriteHtml, true);
    assert.equal(plan({ destination: 'script' }).rewriteHtml, false);
    assert.equal(plan({ destination: '' }).rewriteHtml, false, 'fetch() of HTML is data, not a document');
    assert.equal(plan({ headers: [['content-type', 'application/xhtml+xml']] }).rewriteHtml, false);
    assert.equal(plan({ headers: [['content-type', 'text/html'], ['content-disposition', 'attachment; filename=a.html']] }).rewriteHtml, false);
    assert.equal(plan({ status: 204 }).nullBody, true);
    assert.equal(plan({ method: 'HEAD' }).nullBody, true);
  });
});

describe('redirects and refreshes are mapped into the browse space', () => {
  const table: [number, string, string][] = [
    [302, '/account', '/browse/tab00001/http/10.77.0.1/account'],
    [303, 'next', '/browse/tab00001/http/10.77.0.1/next'],
    [301, 'http://10.77.0.200:8080/', '/browse/tab00001/http/10.77.0.200:8080/'],
    [307, 'https://sso.example.com/x', '/browse/tab00001/https/sso.example.com/x'],
    [307, 'https://198.51.100.1/x', '/__wgweb/outside?url=https://198.51.100.1/x'],
    [308, 'http://198.51.100.1/', '/__wgweb/outside?url=http://198.51.100.1/'],
  ];
  for (const [status, location, want] of table) {
    test(`${status} Location: ${location}`, () => {
      const p = plan({ status, headers: [['location', location]] });
      assert.deepEqual(header(p.headers, 'location'), [want]);
      assert.equal(p.rewriteHtml, false);
    });
  }
  test('a Location on a non-redirect is dropped; Refresh is mapped', () => {
    assert.deepEqual(header(plan({ headers: [['location', '/x']] }).headers, 'location'), []);
    assert.deepEqual(header(plan({ headers: [['refresh', '5; url=/later']] }).headers, 'refresh'), ['5; url=/browse/tab00001/http/10.77.0.1/later']);
  });
});

describe('the intranet CSP, for the browse origin', () => {
  const agent = { source: 'http://127.0.0.1:8081/__wgweb/frame-agent.js', nonce: 'abc' };
  const table: [string, string][] = [
    ["default-src 'self'; frame-ancestors 'none'", "default-src 'self'; script-src 'self' http://127.0.0.1:8081/__wgweb/frame-agent.js"],
    ["default-src 'none'; style-src 'self'", "default-src 'none'; style-src 'self'; script-src http://127.0.0.1:8081/__wgweb/frame-agent.js"],
    ["script-src 'self' 'unsafe-inline'", "script-src 'self' 'unsafe-inline' http://127.0.0.1:8081/__wgweb/frame-agent.js"],
    ["script-src 'nonce-xyz' 'strict-dynamic'", "script-src 'nonce-xyz' 'strict-dynamic' 'nonce-abc'"],
    ["script-src 'sha256-AAAA'", "script-src 'sha256-AAAA' 'nonce-abc'"],
    ["script-src 'none'", 'script-src http://127.0.0.1:8081/__wgweb/frame-agent.js'],
    ["img-src 'self'; sandbox allow-scripts; report-uri /csp", "img-src 'self'"],
    ["script-src-elem 'self'; script-src 'none'", "script-src-elem 'self' http://127.0.0.1:8081/__wgweb/frame-agent.js; script-src 'none'"],
    ["default-src 'self', frame-ancestors 'self'", "default-src 'self'; script-src 'self' http://127.0.0.1:8081/__wgweb/frame-agent.js"],
  ];
  table.forEach(([input, want], n) => {
    test(`${n + 1}. ${input}`, () => assert.equal(editContentSecurityPolicy(input, agent), want));
  });
  test('without the agent (not a rewritten document) only the dropped directives go', () => {
    assert.equal(editContentSecurityPolicy("default-src 'self'; frame-ancestors 'none'"), "default-src 'self'");
    assert.equal(editContentSecurityPolicy('frame-ancestors *'), '');
  });
  test('the agent tag carries the nonce, the script-visible cookies and the HttpOnly names, ASCII only', () => {
    assert.equal(frameAgentTag('n1', 'a=1; b="x<y"; c=\u00e9'), '<script src="/__wgweb/frame-agent.js" nonce="n1" data-cookies="a=1; b=&#34;x&#60;y&#34;; c=&#233;"></script>');
    assert.equal(frameAgentTag('n1', '', ['sid']), '<script src="/__wgweb/frame-agent.js" nonce="n1" data-cookies="" data-httponly="[&#34;sid&#34;]"></script>');
  });
  test('the agent runs before any page script (#11): never async or deferred; its ticket is in its URL, its token never in the page', () => {
    const tag = frameAgentTag('n1', '', [], 'abc123');
    assert.doesNotMatch(tag, /\basync\b|\bdefer\b|type="module"/);
    assert.equal(tag, '<script src="/__wgweb/frame-agent.js?t=abc123" nonce="n1" data-cookies=""></script>');
  });
  test('documents that can run script but get no agent (SVG, XML) are sandboxed: no script, an opaque origin', () => {
    for (const type of ['image/svg+xml', 'application/xhtml+xml', 'text/xml']) {
      const plan = planFramedResponse({ ...base, destination: 'iframe', headers: [['content-type', type]] });
      assert.ok(plan.headers.some(([n, v]) => n === 'content-security-policy' && v === 'sandbox'), type);
    }
    for (const [destination, type] of [['iframe', 'text/html'], ['iframe', 'image/png'], ['image', 'image/svg+xml']]) {
      const plan = planFramedResponse({ ...base, destination, headers: [['content-type', type]] });
      assert.ok(!plan.headers.some(([n, v]) => n === 'content-security-policy' && v === 'sandbox'), `${destination} ${type}`);
    }
  });
});
