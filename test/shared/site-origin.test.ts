import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SitePool, siteLabel, siteOriginFromTemplate, type SiteStore } from '../../src/shared/site-origin.ts';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

describe('an intranet origin gets a stable DNS label of its own', () => {
  test('a short host is readable, followed by 16 base32 characters of its hash', () => {
    assert.match(siteLabel('http://10.0.0.5'), /^10-0-0-5-[a-z2-7]{16}$/);
    assert.match(siteLabel('http://nas.corp:8080'), /^nas-corp-8080-[a-z2-7]{16}$/);
    assert.match(siteLabel('https://nas.corp'), /^s-nas-corp-[a-z2-7]{16}$/);
  });
  test('the same origin always gets the same label', () => {
    assert.equal(siteLabel('http://10.0.0.5:8080'), siteLabel('http://10.0.0.5:8080'));
  });
  test('origins that read alike (scheme, port, dots against dashes) get different labels', () => {
    const labels = ['http://a-b.c', 'http://a.b-c', 'http://a.b.c', 'https://a.b.c', 'http://a.b.c:8080', 'http://10.0.0.5', 'http://10.0.0.5:81'].map(siteLabel);
    assert.equal(new Set(labels).size, labels.length);
  });
  test('IPv6 and long names are hashed and stay a valid DNS label', () => {
    assert.match(siteLabel('http://[fd00::1]:8080'), /^ipv6-8080-[a-z2-7]{16}$/);
    const long = siteLabel(`http://${'a'.repeat(60)}.${'b'.repeat(60)}.corp`);
    assert.ok(long.length <= 63, long);
    assert.notEqual(long, siteLabel(`http://${'a'.repeat(60)}.${'b'.repeat(60)}.other`));
    for (const o of ['http://[fd00::1]', 'http://x--y.corp', 'http://-a-.corp', `http://${'a'.repeat(63)}`]) assert.match(siteLabel(o), DNS_LABEL, o);
  });
  test('only an http(s) origin has a label', () => {
    for (const bad of ['http://10.0.0.5/', 'http://10.0.0.5/x', 'ftp://10.0.0.5', 'nonsense', 'http://user@10.0.0.5']) {
      assert.throws(() => siteLabel(bad), RangeError, bad);
    }
  });
  test('a template puts the label in place of the star', () => {
    assert.equal(siteOriginFromTemplate('https://*.browse.example.com', 'http://10.0.0.5'), `https://${siteLabel('http://10.0.0.5')}.browse.example.com`);
    assert.equal(siteOriginFromTemplate('http://*.wgweb.test:8081', 'http://10.0.0.5'), `http://${siteLabel('http://10.0.0.5')}.wgweb.test:8081`);
    assert.throws(() => siteOriginFromTemplate('https://browse.example.com', 'http://10.0.0.5'), RangeError);
    assert.throws(() => siteOriginFromTemplate('https://a.*.example.com', 'http://10.0.0.5'), RangeError);
  });
});

function memoryStore(): SiteStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}
const POOL = ['http://127.0.0.1:4001', 'http://127.0.0.1:4002', 'http://127.0.0.1:4003'];

describe('a pool of browse origins is shared out among intranet origins', () => {
  test('each site gets its own origin while the pool lasts, and keeps it', () => {
    const pool = new SitePool(POOL, memoryStore());
    const a = pool.assign('http://10.0.0.1');
    const b = pool.assign('http://10.0.0.2');
    const c = pool.assign('https://10.0.0.1');
    assert.deepEqual(new Set([a.origin, b.origin, c.origin]), new Set(POOL));
    assert.deepEqual([a.wipe, b.wipe, c.wipe], [false, false, false]);
    assert.deepEqual(pool.assign('http://10.0.0.2'), { origin: b.origin, wipe: false });
  });
  test('a full pool hands the least recently used site\'s origin to the new one, to be wiped', () => {
    const pool = new SitePool(POOL, memoryStore());
    const a = pool.assign('http://10.0.0.1');
    pool.assign('http://10.0.0.2');
    pool.assign('http://10.0.0.3');
    pool.assign('http://10.0.0.1'); // a used again: 10.0.0.2 is now the oldest
    const d = pool.assign('http://10.0.0.4');
    assert.equal(d.wipe, true);
    assert.notEqual(d.origin, a.origin);
    assert.equal(d.origin, pool.assign('http://10.0.0.4').origin);
    // the evicted site comes back on another origin, wiped too
    const back = pool.assign('http://10.0.0.2');
    assert.equal(back.wipe, true);
    assert.notEqual(back.origin, d.origin);
  });
  test('two tabs (one store) give a site the same origin', () => {
    const store = memoryStore();
    const tab1 = new SitePool(POOL, store);
    const tab2 = new SitePool(POOL, store);
    const a = tab1.assign('http://10.0.0.1');
    const b = tab2.assign('http://10.0.0.2');
    assert.notEqual(a.origin, b.origin);
    assert.equal(tab2.assign('http://10.0.0.1').origin, a.origin);
  });
  test('another pool (another relay or ports) does not inherit the assignments', () => {
    const store = memoryStore();
    new SitePool(POOL, store).assign('http://10.0.0.1');
    const other = new SitePool(['http://127.0.0.1:5001'], store);
    assert.deepEqual(other.assign('http://10.0.0.2'), { origin: 'http://127.0.0.1:5001', wipe: false });
  });
  test('a broken stored table is ignored, and a pool without a store still works', () => {
    const store = memoryStore();
    store.setItem(`wgweb.browse.sites:${POOL.join(' ')}`, '{not json');
    assert.equal(new SitePool(POOL, store).assign('http://10.0.0.1').wipe, false);
    const bare = new SitePool(POOL);
    assert.equal(bare.assign('http://10.0.0.1').origin, bare.assign('http://10.0.0.1').origin);
    assert.throws(() => new SitePool([]), RangeError);
    assert.throws(() => bare.assign('http://10.0.0.1/path'), RangeError);
  });
});
