/** TrustStore: PEM import (bundles, junk), pins, insecure hosts, legacy-TLS hosts, and JSON round trips. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestPki, type TestCert } from '../../../harness/test-pki.ts';
import { binariesSkipReason } from '../../../harness/requirements.ts';
import { TrustStore } from '../../../src/protocols/tls/trust-store.ts';
import { WgwebError } from '../../../src/shared/errors.ts';

describe('TrustStore', { skip: binariesSkipReason(['openssl'], 'certificate') }, () => {
  let pki: TestPki;
  let ca: TestCert;
  let server: TestCert;
  before(async () => {
    pki = await TestPki.create();
    ca = pki.ca('intranet-ca', { cn: 'Intranet CA' });
    server = pki.leaf('nas', { dns: ['nas.test'] });
  });
  after(() => pki?.cleanup());

  it('imports a bundle once per certificate and lists subject, expiry, fingerprint and kind', () => {
    const t = new TrustStore();
    const added = t.addPem(`# bundle\n${ca.certPem}\n${server.certPem}${ca.certPem}`);
    assert.equal(added.length, 3);
    const list = t.list();
    assert.equal(list.length, 2);
    assert.deepEqual(list.map((i) => [i.subject, i.isCa, i.selfSigned]), [
      ['CN=Intranet CA', true, true],
      ['CN=nas', false, true],
    ]);
    assert.match(list[0].sha256, /^[0-9a-f]{64}$/);
    assert.ok(list[0].notAfter > new Date());
  });

  it('says what to paste when the text holds no certificate', () => {
    const t = new TrustStore();
    assert.throws(() => t.addPem('hello'), (e) => e instanceof WgwebError && e.code === 'TLS_CERT_INVALID' && /BEGIN CERTIFICATE/.test(e.message));
    assert.throws(() => t.addPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'), (e) => e instanceof WgwebError && e.code === 'TLS_CERT_INVALID');
    assert.equal(t.list().length, 0);
  });

  it('pins per normalised host, accepts colon fingerprints, and refuses malformed ones', () => {
    const t = new TrustStore();
    const fp = 'AB:'.repeat(31) + 'AB';
    t.pin('NAS.test.', fp);
    assert.equal(t.pinOf('nas.test'), 'ab'.repeat(32));
    assert.equal(t.pinOf('other.test'), undefined);
    assert.throws(() => t.pin('nas.test', 'abc'), RangeError);
    assert.throws(() => t.pin('', 'ab'.repeat(32)), RangeError);
    assert.equal(t.unpin('nas.test'), true);
    assert.equal(t.pinOf('nas.test'), undefined);
  });

  it('round-trips certificates, pins and insecure hosts through JSON text, and tells listeners about changes', () => {
    const t = new TrustStore();
    let changes = 0;
    t.onChange(() => changes++);
    t.addPem(ca.certPem);
    t.pin('10.0.0.1', 'cd'.repeat(32));
    t.setInsecure('lab.test', true);
    assert.equal(changes, 3);
    const back = TrustStore.fromJSON(JSON.parse(JSON.stringify(t)));
    assert.deepEqual(back.list(), t.list().map((i) => ({ ...i })));
    assert.equal(back.pinOf('10.0.0.1'), 'cd'.repeat(32));
    assert.equal(back.isInsecure('LAB.test'), true);
    assert.equal(back.remove(t.list()[0].sha256), true);
    assert.equal(back.list().length, 0);
  });

  it('keeps the hosts allowed legacy TLS in one spelling, through JSON, and forgets them when turned off', () => {
    const t = new TrustStore();
    let changes = 0;
    t.onChange(() => changes++);
    t.setLegacyTls('UPS.Corp.', true);
    t.setLegacyTls('[FE80::0:1]', true);
    assert.equal(changes, 2);
    assert.deepEqual(t.legacyTlsHosts(), ['ups.corp', 'fe80::1']);
    assert.equal(t.allowsLegacyTls('ups.corp'), true);
    assert.equal(t.allowsLegacyTls('other.corp'), false);
    assert.throws(() => t.setLegacyTls('  ', true), RangeError);
    const back = TrustStore.fromJSON(JSON.parse(JSON.stringify(t)));
    assert.equal(back.allowsLegacyTls('fe80:0::1'), true);
    back.setLegacyTls('ups.corp', false);
    assert.deepEqual(back.toJSON().legacyTlsHosts, ['fe80::1']);
    // Data saved before the field existed, and junk in it.
    assert.deepEqual(TrustStore.fromJSON({ certificates: [], pins: {}, insecureHosts: [] }).legacyTlsHosts(), []);
    assert.deepEqual(TrustStore.fromJSON({ legacyTlsHosts: [3, '', 'nas.test'] }).legacyTlsHosts(), ['nas.test']);
  });

  it('restores what it can from damaged stored data', () => {
    assert.equal(TrustStore.fromJSON(null).list().length, 0);
    assert.equal(TrustStore.fromJSON('x').list().length, 0);
    const t = TrustStore.fromJSON({ certificates: ['junk', 7, ca.certPem], pins: { 'a.test': 'nothex', 'b.test': 'ef'.repeat(32) }, insecureHosts: [1, 'c.test'] });
    assert.equal(t.list().length, 1);
    assert.equal(t.pinOf('a.test'), undefined);
    assert.equal(t.pinOf('b.test'), 'ef'.repeat(32));
    assert.equal(t.isInsecure('c.test'), true);
  });
});
