import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  browsePath,
  encodeBytes,
  browseLocationOf,
  mapLink,
  mapLocation,
  outsidePath,
  parseAddressInput,
  parseBrowsePath,
  parseOutsidePath,
} from '../../../src/browser/browse/browse-url.ts';
import { TunnelScope } from '../../../src/browser/browse/tunnel-scope.ts';

const scope = TunnelScope.from(['10.77.0.0/24', 'fd77::/64']);
/** A browse session (one app tab). */
const S = 'tab00001';
const base = new URL('http://10.77.0.1/docs/page.html');

describe('an intranet URL and its browse path map both ways', () => {
  const cases: [string, string][] = [
    ['http://10.77.0.1/', '/browse/tab00001/http/10.77.0.1/'],
    ['http://10.77.0.1:8080/a/b?c=1#top', '/browse/tab00001/http/10.77.0.1:8080/a/b?c=1#top'],
    ['http://10.77.0.1:80/x', '/browse/tab00001/http/10.77.0.1/x'],
    ['http://[fd77::1]:8080/v6', '/browse/tab00001/http/[fd77::1]:8080/v6'],
    ['http://Intranet.Corp/Path%20With%20Spaces', '/browse/tab00001/http/intranet.corp/Path%20With%20Spaces'],
    // https keeps its scheme (its own path segment): links, redirects and Secure cookies see https
    ['https://10.77.0.1/', '/browse/tab00001/https/10.77.0.1/'],
    ['https://nas.corp:8443/a?b#c', '/browse/tab00001/https/nas.corp:8443/a?b#c'],
    ['https://10.77.0.1:443/x', '/browse/tab00001/https/10.77.0.1/x'],
    ['https://[fd77::1]/v6', '/browse/tab00001/https/[fd77::1]/v6'],
  ];
  for (const [url, path] of cases) {
    test(`${url} ⇄ ${path}`, () => {
      assert.equal(browsePath(url, S), path);
      assert.equal(parseBrowsePath(path)?.url.href, new URL(url).href);
      assert.equal(parseBrowsePath(path)?.session, S);
    });
  }
  test('a bare authority means its root; a query right after it too', () => {
    assert.equal(parseBrowsePath('/browse/tab00001/http/10.77.0.1')?.url.href, 'http://10.77.0.1/');
    assert.equal(parseBrowsePath('/browse/tab00001/http/10.77.0.1?x=1')?.url.href, 'http://10.77.0.1/?x=1');
    assert.equal(parseBrowsePath('/browse/tab00001/https/10.77.0.1')?.url.href, 'https://10.77.0.1/');
  });
  test('anything else is not a browse path', () => {
    for (const p of ['/', '/browse/', '/browse/tab00001/http/', '/browse/tab00001/ftp/host/', '/browse/http/10.77.0.1/', '/browse/SHOUT123/http/h/', '/browse/ab/http/h/', '/browse/tab00001/http/user@host/', '/browse/tab00001/http/a\\b/', '/x/browse/tab00001/http/h/', '/browse/tab00001/https/', '/browse/tab00001/httpsx/h/', '/browse/tab00001/https/user@h/', '/browse/tab00001/HTTPS/h/']) {
      assert.equal(parseBrowsePath(p), undefined, p);
    }
  });
  test('only http(s) URLs with a host, and well-formed session ids, have a browse path', () => {
    assert.throws(() => browsePath('ftp://10.77.0.1/', S), RangeError);
    assert.throws(() => browsePath('ws://10.77.0.1/', S), RangeError);
    assert.throws(() => browsePath('mailto:a@b', S), RangeError);
    assert.throws(() => browsePath('http://10.77.0.1/', '../x'), RangeError);
  });
  test('a client URL on the browse origin gives its session and intranet URL; other origins give nothing', () => {
    const loc = browseLocationOf('http://127.0.0.1:9001/browse/tab00001/http/10.77.0.1/a?b', 'http://127.0.0.1:9001');
    assert.equal(loc?.url.href, 'http://10.77.0.1/a?b');
    assert.equal(loc?.session, S);
    assert.equal(browseLocationOf('http://127.0.0.1:9000/browse/tab00001/http/10.77.0.1/a', 'http://127.0.0.1:9001'), undefined);
    assert.equal(browseLocationOf('about:blank', 'http://127.0.0.1:9001'), undefined);
  });
});

describe('links in a document are mapped by their form', () => {
  const table: [string, string | undefined][] = [
    // 1. relative links resolve inside the browse path by themselves
    ['page2.html', undefined],
    ['../up/', undefined],
    ['?q=1', undefined],
    ['#frag', undefined],
    // 2. root-absolute: the document's host
    ['/root/x?y=1', '/browse/tab00001/http/10.77.0.1/root/x?y=1'],
    // 3. absolute to the same or another host inside AllowedIPs
    ['http://10.77.0.1/abs', '/browse/tab00001/http/10.77.0.1/abs'],
    ['HTTP://10.77.0.5:8080', '/browse/tab00001/http/10.77.0.5:8080/'],
    ['http://10.77.0.5?q', '/browse/tab00001/http/10.77.0.5/?q'],
    ['//10.77.0.6/scheme-relative', '/browse/tab00001/http/10.77.0.6/scheme-relative'],
    ['http://[fd77::9]/v6', '/browse/tab00001/http/[fd77::9]/v6'],
    // 4. host names stay in the tunnel (its DNS decides)
    ['http://wiki.corp/page', '/browse/tab00001/http/wiki.corp/page'],
    // 4b. https stays https, in the tunnel (the worker's TLS client)
    ['https://10.77.0.5/secure', '/browse/tab00001/https/10.77.0.5/secure'],
    ['HTTPS://nas.corp:8443?q', '/browse/tab00001/https/nas.corp:8443/?q'],
    // 5. outside AllowedIPs: the marked interstitial
    ['http://192.0.2.7/x', '/__wgweb/outside?url=http://192.0.2.7/x'],
    ['https://192.0.2.7/a?b=c&d', '/__wgweb/outside?url=https://192.0.2.7/a%3Fb%3Dc%26d'],
    // 6. other schemes are left alone
    ['mailto:someone@example.com', undefined],
    ['javascript:void(0)', undefined],
    ['data:text/html,hi', undefined],
    ['http:relative-to-an-http-base', undefined],
    // 7. whitespace around the URL is ignored, as HTML does
    ['  /spaced  ', '/browse/tab00001/http/10.77.0.1/spaced'],
    ['', undefined],
  ];
  table.forEach(([value, want], n) => {
    test(`${n + 1}. ${JSON.stringify(value)} → ${want ?? '(unchanged)'}`, () => {
      assert.equal(mapLink(value, base, scope, S), want);
    });
  });
  test('path and query bytes are copied as written (no re-encoding of a byte string)', () => {
    // "é" in UTF-8 as a byte string, and a literal percent sequence.
    assert.equal(mapLink('/caf\xc3\xa9?x=%41', base, scope, S), '/browse/tab00001/http/10.77.0.1/caf\xc3\xa9?x=%41');
  });
  test('a root-absolute link under another base uses that base', () => {
    assert.equal(mapLink('/x', new URL('http://10.77.0.9:81/sub/'), scope, S), '/browse/tab00001/http/10.77.0.9:81/x');
  });
  test('in an https document, root-absolute and scheme-relative links stay https', () => {
    const secure = new URL('https://10.77.0.1/app/');
    assert.equal(mapLink('/x', secure, scope, S), '/browse/tab00001/https/10.77.0.1/x');
    assert.equal(mapLink('//10.77.0.2/y', secure, scope, S), '/browse/tab00001/https/10.77.0.2/y');
    assert.equal(mapLink('http://10.77.0.1/plain', secure, scope, S), '/browse/tab00001/http/10.77.0.1/plain');
  });
});

describe('redirect targets', () => {
  const from = new URL('http://10.77.0.1/login');
  test('relative and absolute Locations land in the browse space', () => {
    assert.equal(mapLocation('/account', from, scope, S), '/browse/tab00001/http/10.77.0.1/account');
    assert.equal(mapLocation('next?x=1', from, scope, S), '/browse/tab00001/http/10.77.0.1/next?x=1');
    assert.equal(mapLocation('http://10.77.0.2:8080/', from, scope, S), '/browse/tab00001/http/10.77.0.2:8080/');
  });
  test('a redirect from http to https keeps the scheme, and relative ones resolve against https', () => {
    assert.equal(mapLocation('https://10.77.0.1/login', from, scope, S), '/browse/tab00001/https/10.77.0.1/login');
    assert.equal(mapLocation('/home', new URL('https://10.77.0.1/login'), scope, S), '/browse/tab00001/https/10.77.0.1/home');
    assert.equal(mapLocation('https://user:pw@sso.corp/', from, scope, S), '/browse/tab00001/https/sso.corp/');
  });
  test('leaving the tunnel goes through the interstitial', () => {
    assert.equal(mapLocation('https://198.51.100.9/', from, scope, S), outsidePath('https://198.51.100.9/'));
    assert.equal(parseOutsidePath(mapLocation('http://198.51.100.1/?a=1&b=2', from, scope, S)!), 'http://198.51.100.1/?a=1&b=2');
  });
  test('the interstitial only carries http(s) URLs', () => {
    assert.equal(parseOutsidePath('/__wgweb/outside?url=javascript%3Aalert(1)'), undefined);
    assert.equal(parseOutsidePath('/__wgweb/outside'), undefined);
  });
  test('byte strings are percent-encoded byte by byte', () => {
    assert.equal(encodeBytes('a b\xc3\xa9&'), 'a%20b%C3%A9%26');
  });
});

describe('the address bar', () => {
  test('a bare host or host:port means http', () => {
    assert.equal(parseAddressInput('10.77.0.1').href, 'http://10.77.0.1/');
    assert.equal(parseAddressInput(' 10.77.0.1:8080/x ').href, 'http://10.77.0.1:8080/x');
    assert.equal(parseAddressInput('wiki.corp').href, 'http://wiki.corp/');
  });
  test('https is kept', () => {
    assert.equal(parseAddressInput('https://10.77.0.1:8443/x').href, 'https://10.77.0.1:8443/x');
    assert.equal(parseAddressInput('HTTPS://user:pw@nas.corp/').href, 'https://nas.corp/');
  });
  test('other schemes and empty input are refused with a sentence', () => {
    assert.throws(() => parseAddressInput('ftp://10.77.0.1/'), /only http:\/\/ and https:\/\//);
    assert.throws(() => parseAddressInput(''), /Type the address/);
    assert.throws(() => parseAddressInput('http://[::1'), /not a web address/);
  });
});

describe('tunnel scope', () => {
  test('IP addresses are placed by AllowedIPs, names are left to DNS', () => {
    assert.equal(scope.place('10.77.0.200'), 'inside');
    assert.equal(scope.place('[fd77::2]'), 'inside');
    assert.equal(scope.place('10.78.0.1'), 'outside');
    assert.equal(scope.place('wiki.corp'), 'name');
    assert.equal(TunnelScope.none.place('10.77.0.1'), 'outside');
  });
  test('unreadable entries are skipped', () => {
    assert.deepEqual(TunnelScope.from(['nope', '10.0.0.0/8']).allowedIPs, ['10.0.0.0/8']);
  });
});

describe('links cannot climb out of their host in the browse space (found by test/fuzz/browse.test.ts)', () => {
  const b = new URL('http://10.77.0.1/a/b/page.html');
  const sc = TunnelScope.from(['10.77.0.0/16']);
  test('dot segments, also %2e and backslash spellings, resolve at the intranet host as a browser would', () => {
    assert.equal(mapLink('http://10.77.0.1/../../../__wgweb/bridge.html', b, sc, S), '/browse/tab00001/http/10.77.0.1/__wgweb/bridge.html');
    assert.equal(mapLink('http://10.77.0.1/%2e%2e/%2E%2e/x?a/../b', b, sc, S), '/browse/tab00001/http/10.77.0.1/x?a/../b');
    assert.equal(mapLink('/x/./y/..\\..\\..\\z', b, sc, S), '/browse/tab00001/http/10.77.0.1/z');
    assert.equal(mapLink('//10.77.0.2/a/..', b, sc, S), '/browse/tab00001/http/10.77.0.2/');
  });
  test('a host that is itself a dot segment is never mapped', () => {
    assert.equal(mapLink('\\\\./428/x', b, sc, S), undefined);
    assert.equal(mapLink('http://%2e%2e/x', b, sc, S), undefined);
    assert.throws(() => browsePath('http://../x', S), RangeError);
    assert.equal(parseBrowsePath('/browse/tab00001/http/../x'), undefined);
  });
  test('characters beyond U+FFFF and lone surrogates are encoded, not thrown on', () => {
    assert.equal(outsidePath('http://192.0.2.1/\u{1F600}'), '/__wgweb/outside?url=http://192.0.2.1/%F0%9F%98%80');
    assert.equal(outsidePath('http://192.0.2.1/\uD800'), '/__wgweb/outside?url=http://192.0.2.1/%EF%BF%BD');
  });
});
