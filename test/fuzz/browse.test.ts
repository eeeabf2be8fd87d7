/**
 * Fuzz: the browse view's URL handling (browse paths, links and redirects rewritten into the
 * browse space, the address bar, the outside interstitial) and frame messages, all of which a
 * hostile intranet page controls. Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { BROWSE_PREFIX, browsePath, mapLink, mapLocation, OUTSIDE_PATH, outsidePath, parseAddressInput, parseBrowsePath, parseOutsidePath } from '../../src/browser/browse/browse-url.ts';
import { isBrowseMessage, isFrameMessage } from '../../src/browser/browse/browse-protocol.ts';
import { TunnelScope } from '../../src/browser/browse/tunnel-scope.ts';
import { fuzzTest, property, utf8, type Rng } from '../helpers/fuzz.ts';

const SESSION = 'abcd1234';
const scope = TunnelScope.from(['10.0.0.0/8', 'fd00::/8']);
const base = new URL('http://10.0.0.5:8080/dir/page.html?q=1');

const URLS = [
  'http://10.0.0.1/',
  '//10.0.0.2:81/x?y#z',
  '/root/path',
  'page.html',
  'https://10.0.0.1/secure',
  'http://192.0.2.1/outside',
  'http://intranet.example/a b',
  'HTTP:\\\\10.0.0.3\\x',
  'http://user:pass@10.0.0.4/',
  'http://[fd00::1]:8080/v6',
  'http://10.0.0.1@192.0.2.9/',
  'javascript:alert(1)',
  ' \t http://10.0.0.1/%2e%2e/ \n',
  `${BROWSE_PREFIX}${SESSION}/http/10.0.0.1:8080/a?b#c`,
  `${BROWSE_PREFIX}${SESSION}/http/10.0.0.1\\@192.0.2.1/`,
  `${OUTSIDE_PATH}?url=http%3A%2F%2F192.0.2.1%2F`,
];

/** URL-shaped text from pieces that confuse parsers: schemes, slashes, user info, IPv6, escapes. */
function generateUrl(rng: Rng): Uint8Array {
  const parts = ['http:', 'https:', 'HtTp:', '//', '\\\\', '/', '@', ':', '[', ']', '::1', '10.0.0.1', '192.0.2.1', 'fd00::2', '%2f', '%40', '%00', '#', '?', '..', '.', ' ', '\t', '\n', 'é', 'xn--', '0x7f.1', '4294967295', 'localhost', BROWSE_PREFIX, SESSION, '/http/', '/https/', OUTSIDE_PATH];
  let s = '';
  for (let n = rng.range(1, 10); n > 0; n--) s += rng.pick(parts);
  return utf8.encode(s);
}

describe('fuzz: browse', () => {
  fuzzTest('browse paths: parse → format → parse is stable and keeps the host', 'browse-path', {
    corpus: URLS.map(utf8.encode),
    generate: generateUrl,
    maxLength: 512,
    check(input) {
      const text = utf8.decode(input);
      const loc = parseBrowsePath(text);
      if (!loc) return;
      const again = browsePath(loc.url, loc.session);
      property(again.startsWith(`${BROWSE_PREFIX}${loc.session}/${loc.url.protocol.slice(0, -1)}/${loc.url.host}/`), 'the formatted path names the parsed scheme and host');
      const back = parseBrowsePath(again);
      // (An empty query or fragment, "?" or "#" alone, is not kept: URL.search and URL.hash are "".)
      // (Only an empty query or fragment is dropped; a fragment may itself end in "?" or "#".)
      const c = new URL(loc.url.href);
      if (c.search === '') c.search = '';
      if (c.hash === '') c.hash = '';
      const canonical = c.href;
      property(back !== undefined && back.session === loc.session && back.url.href === canonical, 'parse → format → parse is the identity');
      property(loc.url.username === '' && loc.url.password === '', 'no user info survives');
    },
  });

  fuzzTest('links and redirects map into this session, or to the interstitial, never elsewhere', 'browse-map-link', {
    corpus: URLS.map(utf8.encode),
    generate: generateUrl,
    maxLength: 512,
    check(input) {
      const text = utf8.decode(input);
      for (const mapped of [mapLink(text, base, scope, SESSION), mapLocation(text, base, scope, SESSION)]) {
        if (mapped === undefined) continue;
        if (mapped.startsWith(OUTSIDE_PATH)) {
          const url = parseOutsidePath(mapped);
          property(url === undefined || /^https?:/.test(url), 'the interstitial only ever carries an http(s) URL');
          continue;
        }
        // What the browser requests for it: "\\" reads as "/" in an http: URL, dot segments go.
        const asRequested = new URL(mapped, 'http://browse.invalid');
        property(asRequested.origin === 'http://browse.invalid', `a mapped link stays on the browse origin: ${mapped}`);
        const loc = parseBrowsePath(asRequested.pathname + asRequested.search);
        property(loc !== undefined && loc.session === SESSION, `a mapped link stays in this session: ${mapped}`);
        property(scope.place(loc.url.hostname) !== 'outside', `a link into the tunnel names a host inside it: ${loc.url.host}`);
      }
    },
  });

  fuzzTest('the address bar: RangeError for anything unusable, else an http(s) URL without credentials', 'browse-address-input', {
    corpus: URLS.map(utf8.encode),
    generate: generateUrl,
    maxLength: 512,
    allowed: [RangeError],
    check(input) {
      const u = parseAddressInput(utf8.decode(input));
      property((u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '' && u.username === '' && u.password === '', `a usable intranet URL: ${u.href}`);
      const out = parseOutsidePath(outsidePath(u.href));
      property(out === u.href, 'the interstitial path carries the URL unchanged');
    },
  });

  fuzzTest('frame and window messages: the type guards never throw and accept only well-typed messages', 'browse-frame-message', {
    corpus: [
      { wgweb: 'browse-frame', type: 'loaded', url: 'http://10.0.0.1/', title: 't' },
      { wgweb: 'browse-frame', type: 'cookie', url: 'http://10.0.0.1/', title: '', cookie: 'a=b' },
      { wgweb: 'browse', type: 'port' },
      { wgweb: 'browse-frame', type: 'loaded', url: 'x', title: 't', error: { code: 'E', message: 'm' } },
    ].map((m) => utf8.encode(JSON.stringify(m))),
    maxLength: 1024,
    check(input) {
      let data: unknown;
      try {
        data = JSON.parse(utf8.decode(input));
      } catch {
        data = utf8.decode(input);
      }
      if (isFrameMessage(data)) {
        property(typeof data.url === 'string' && typeof data.title === 'string', 'a frame message has string url and title');
      }
      if (isBrowseMessage(data)) property(typeof data.type === 'string', 'a browse message has a string type');
    },
  });
});
