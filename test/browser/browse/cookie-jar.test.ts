import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar, defaultPath, domainMatches, parseCookieDate, parseSetCookie, pathMatches } from '../../../src/browser/browse/cookie-jar.ts';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const host1 = 'http://10.77.0.1/';
const host2 = 'http://10.77.0.200:8080/';

describe('storing and sending back (RFC 6265 §5.3, §5.4)', () => {
  test('a cookie set by a response goes back to the same host, and not to another', () => {
    const jar = new CookieJar();
    assert.equal(jar.setCookie('session=abc; Path=/; HttpOnly', 'http://10.77.0.1/login', T0), true);
    assert.equal(jar.cookieHeader(host1, T0), 'session=abc');
    assert.equal(jar.cookieHeader('http://10.77.0.1/deep/page', T0), 'session=abc');
    assert.equal(jar.cookieHeader(host2, T0), '');
  });
  test('ports of one host share cookies, as in browsers (§8.5)', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1', 'http://10.77.0.1:8080/', T0);
    assert.equal(jar.cookieHeader('http://10.77.0.1:9090/', T0), 'a=1');
  });
  test('the same name, domain and path replaces the value but keeps the creation time', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1; Path=/', host1, T0);
    jar.setCookie('b=2; Path=/', host1, T0 + 1);
    jar.setCookie('a=3; Path=/', host1, T0 + 2);
    assert.equal(jar.cookieHeader(host1, T0 + 3), 'a=3; b=2');
    assert.equal(jar.size(T0 + 3), 2);
  });
  test('longer paths come first', () => {
    const jar = new CookieJar();
    jar.setCookie('outer=1; Path=/', host1, T0);
    jar.setCookie('inner=2; Path=/app', host1, T0 + 1);
    assert.equal(jar.cookieHeader('http://10.77.0.1/app/x', T0), 'inner=2; outer=1');
    assert.equal(jar.cookieHeader('http://10.77.0.1/application', T0), 'outer=1');
  });
  test('without Path the default path is the directory of the request', () => {
    const jar = new CookieJar();
    jar.setCookie('d=1', 'http://10.77.0.1/docs/login', T0);
    assert.equal(jar.cookieHeader('http://10.77.0.1/docs/other', T0), 'd=1');
    assert.equal(jar.cookieHeader('http://10.77.0.1/', T0), '');
  });
});

describe('expiry', () => {
  test('Max-Age counts from now and wins over Expires', () => {
    const jar = new CookieJar();
    jar.setCookie('m=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT', host1, T0);
    assert.equal(jar.cookieHeader(host1, T0 + 59_000), 'm=1');
    assert.equal(jar.cookieHeader(host1, T0 + 60_000), '');
  });
  test('Expires in the future keeps it until then; in the past deletes the stored one', () => {
    const jar = new CookieJar();
    jar.setCookie('e=1; Expires=Thu, 15 Jan 2026 13:00:00 GMT', host1, T0);
    assert.equal(jar.cookieHeader(host1, T0), 'e=1');
    assert.equal(jar.setCookie('e=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT', host1, T0), true);
    assert.equal(jar.cookieHeader(host1, T0), '');
  });
  test('Max-Age=0 logs out', () => {
    const jar = new CookieJar();
    jar.setCookie('session=abc; Path=/', host1, T0);
    jar.setCookie('session=; Path=/; Max-Age=0', host1, T0 + 1);
    assert.equal(jar.cookieHeader(host1, T0 + 2), '');
  });
  test('session cookies have no end; persistent ones are marked', () => {
    const jar = new CookieJar();
    jar.setCookie('s=1', host1, T0);
    jar.setCookie('p=1; Max-Age=10', host1, T0);
    const byName = Object.fromEntries(jar.list(T0).map((c) => [c.name, c]));
    assert.equal(byName.s.persistent, false);
    assert.equal(byName.s.expiresAt, Infinity);
    assert.equal(byName.p.persistent, true);
  });
});

describe('attributes that limit a cookie', () => {
  test('HttpOnly cookies go with HTTP requests but never to scripts, and scripts cannot overwrite them', () => {
    const jar = new CookieJar();
    jar.setCookie('h=1; HttpOnly', host1, T0);
    jar.setCookie('v=2', host1, T0);
    assert.equal(jar.cookieHeader(host1, T0), 'h=1; v=2');
    assert.equal(jar.cookieHeader(host1, T0, { script: true }), 'v=2');
    assert.equal(jar.setCookie('h=evil', host1, T0, { script: true }), false);
    assert.equal(jar.cookieHeader(host1, T0), 'h=1; v=2');
  });
  test('Secure cookies cannot be set over the tunnel\'s plain http, nor the __Secure-/__Host- prefixes', () => {
    const jar = new CookieJar();
    assert.equal(jar.setCookie('s=1; Secure', host1, T0), false);
    assert.equal(jar.setCookie('__Host-x=1; Path=/', host1, T0), false);
    assert.equal(jar.setCookie('__Secure-x=1', host1, T0), false);
    assert.deepEqual(jar.rejections(), { 'secure-over-http': 1, 'prefix-rules': 2 });
  });
  test('Domain must cover the request host; an IP address only names itself', () => {
    const jar = new CookieJar();
    assert.equal(jar.setCookie('d=1; Domain=corp', 'http://wiki.corp/', T0), true);
    assert.equal(jar.cookieHeader('http://mail.corp/', T0), 'd=1');
    assert.equal(jar.cookieHeader('http://corp/', T0), 'd=1');
    assert.equal(jar.cookieHeader('http://notcorp/', T0), '');
    assert.equal(jar.setCookie('x=1; Domain=other.corp', 'http://wiki.corp/', T0), false);
    assert.equal(jar.setCookie('ip=1; Domain=0.1', 'http://10.77.0.1/', T0), false);
    assert.equal(jar.setCookie('ip=1; Domain=10.77.0.1', 'http://10.77.0.1/', T0), true);
  });
  test('SameSite: Strict never follows a request from another host; Lax only safe frame navigations', () => {
    const jar = new CookieJar();
    jar.setCookie('strict=1; SameSite=Strict', host1, T0);
    jar.setCookie('lax=1; SameSite=Lax', host1, T0 + 1);
    jar.setCookie('none=1; SameSite=None', host1, T0 + 2);
    const from2 = { initiatorHost: '10.77.0.200' };
    assert.equal(jar.cookieHeader(host1, T0, { initiatorHost: '10.77.0.1' }), 'strict=1; lax=1; none=1');
    assert.equal(jar.cookieHeader(host1, T0, from2), 'none=1');
    assert.equal(jar.cookieHeader(host1, T0, { ...from2, navigation: true }), 'lax=1; none=1');
    assert.equal(jar.cookieHeader(host1, T0, { ...from2, navigation: true, method: 'POST' }), 'none=1');
    assert.equal(jar.cookieHeader(host1, T0), 'strict=1; lax=1; none=1', 'the user typing an address is not cross-site');
  });
});

describe('bad input is ignored, never thrown', () => {
  const bad = ['', '=', ';', 'a=b\x00c', 'x'.repeat(5000) + '=1'];
  for (const line of bad) {
    test(`ignores ${JSON.stringify(line.slice(0, 20))}`, () => {
      const jar = new CookieJar();
      assert.equal(jar.setCookie(line, host1, T0), false);
      assert.equal(jar.size(T0), 0);
    });
  }
  test('a pair without "=" is a cookie with an empty name (RFC 6265bis)', () => {
    const jar = new CookieJar();
    jar.setCookie('lonely', host1, T0);
    assert.equal(jar.cookieHeader(host1, T0), 'lonely');
  });
  test('limits: the least recently used cookies of a domain go first', () => {
    const jar = new CookieJar({ maxPerDomain: 2 });
    jar.setCookie('a=1', host1, T0);
    jar.setCookie('b=1', host1, T0 + 1);
    jar.cookieHeader(host1, T0 + 2); // touches a and b
    jar.setCookie('c=1', host1, T0 + 3);
    assert.equal(jar.size(T0 + 4), 2);
  });
  test('clear() empties one host or everything', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1', host1, T0);
    jar.setCookie('b=1', host2, T0);
    jar.clear('10.77.0.1');
    assert.equal(jar.cookieHeader(host1, T0), '');
    assert.equal(jar.cookieHeader(host2, T0), 'b=1');
    jar.clear();
    assert.equal(jar.size(T0), 0);
  });
});

describe('helpers', () => {
  test('cookie dates in the formats seen in the wild (§5.1.1)', () => {
    const want = Date.UTC(2026, 0, 15, 13, 0, 0);
    assert.equal(parseCookieDate('Thu, 15 Jan 2026 13:00:00 GMT'), want);
    assert.equal(parseCookieDate('Thursday, 15-Jan-26 13:00:00 GMT'), want);
    assert.equal(parseCookieDate('Thu Jan 15 13:00:00 2026'), want);
    assert.equal(parseCookieDate('Fri, 31 Feb 2026 00:00:00 GMT'), undefined);
    assert.equal(parseCookieDate('yesterday'), undefined);
  });
  test('attributes parse case-insensitively; the last one wins', () => {
    const p = parseSetCookie('n = v ; PATH=/a; path=/b; httponly');
    assert.equal(p?.name, 'n');
    assert.equal(p?.value, 'v');
    assert.equal(p?.attributes.get('path'), '/b');
    assert.equal(p?.attributes.has('httponly'), true);
  });
  test('domain, default path and path matching', () => {
    assert.equal(domainMatches('a.b.corp', 'b.corp'), true);
    assert.equal(domainMatches('ab.corp', 'b.corp'), false);
    assert.equal(domainMatches('10.77.0.1', '0.1'), false);
    assert.equal(defaultPath('/a/b/c'), '/a/b');
    assert.equal(defaultPath('/a'), '/');
    assert.equal(pathMatches('/a/b', '/a'), true);
    assert.equal(pathMatches('/ab', '/a'), false);
    assert.equal(pathMatches('/a/b', '/a/'), true);
  });
});
