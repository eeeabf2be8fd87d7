/**
 * verifyServerCertificates against certificates the real `openssl` CLI makes at test time: good
 * chains of every key type we support, and one test per way a chain must be refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestPki, type TestCert } from '../../../harness/test-pki.ts';
import { binariesSkipReason } from '../../../harness/requirements.ts';
import { verifyServerCertificates } from '../../../src/protocols/tls/certificate-verifier.ts';
import { TrustStore } from '../../../src/protocols/tls/trust-store.ts';
import { WgwebError, type ErrorCode } from '../../../src/shared/errors.ts';

const now = () => new Date();

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, reason?: RegExp): Promise<WgwebError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WgwebError, `expected a WgwebError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (reason) assert.match(String(e.detail.reason ?? e.message), reason);
    return e;
  }
  assert.fail(`expected ${code}, but the chain was accepted`);
}

describe('verifyServerCertificates with an openssl-made PKI', { skip: binariesSkipReason(['openssl'], 'certificate') }, () => {
  let pki: TestPki;
  let root: TestCert;
  let inter: TestCert;
  let trust: TrustStore;

  before(async () => {
    pki = await TestPki.create();
    root = pki.ca('root', { key: 'rsa-2048' });
    inter = pki.ca('inter', { issuer: root });
    trust = new TrustStore();
    trust.addPem(root.certPem);
  });
  after(() => pki?.cleanup());

  const verify = (chain: TestCert[], serverName: string, store = trust, at = now()) =>
    verifyServerCertificates(chain.map((c) => c.der), { serverName, trust: store, now: at });

  describe('accepts', () => {
    for (const key of ['rsa-2048', 'rsa-4096', 'ec-p256', 'ec-p384', 'ed25519'] as const) {
      it(`a ${key} leaf issued by an intermediate under an imported root`, async () => {
        const leaf = pki.leaf(`leaf-${key}`, { key, issuer: inter, dns: ['intranet.test'] });
        const s = await verify([leaf, inter], 'intranet.test');
        assert.equal(s.sha256, (await import('@noble/hashes/sha2.js')).sha256(leaf.der).reduce((h, b) => h + b.toString(16).padStart(2, '0'), ''));
        assert.deepEqual(s.subjectAltNames, ['DNS:intranet.test']);
        assert.match(s.subject, /CN=leaf-/);
      });
    }

    it('a chain sent out of order with an unrelated extra certificate and the root itself', async () => {
      const other = pki.ca('unrelated');
      const leaf = pki.leaf('leaf-unordered', { issuer: inter, dns: ['a.test'] });
      await verify([leaf, root, other, inter], 'a.test');
    });

    it('intermediates signed with RSA-PSS and an Ed25519 root', async () => {
      const ed = pki.ca('ed-root', { key: 'ed25519' });
      const pssInter = pki.ca('rsa-inter', { key: 'rsa-2048', issuer: ed });
      const leaf = pki.leaf('leaf-pss', { issuer: pssInter, pss: true, digest: 'sha384', dns: ['pss.test'] });
      const store = new TrustStore();
      store.addPem(ed.certPem);
      await verify([leaf, pssInter], 'pss.test', store);
    });

    it('a wildcard SAN for one label, and an IP-only SAN for its address (v4 and v6)', async () => {
      const wild = pki.leaf('wild', { issuer: inter, dns: ['*.corp.test'] });
      await verify([wild, inter], 'Files.CORP.test.');
      const ip = pki.leaf('ip-only', { issuer: inter, ips: ['10.0.0.7', 'fd00::7'] });
      await verify([ip, inter], '10.0.0.7');
      await verify([ip, inter], '[fd00:0::7]');
    });

    it('a SHA-1 self-signed root, since the anchor signature itself is never checked', async () => {
      const oldRoot = pki.ca('sha1-root', { digest: 'sha1' });
      const leaf = pki.leaf('leaf-old-root', { issuer: oldRoot, dns: ['old.test'] });
      const store = new TrustStore();
      store.addPem(oldRoot.certPem);
      await verify([leaf], 'old.test', store);
    });
  });

  describe('refuses', () => {
    it('an expired leaf with TLS_CERT_EXPIRED', async () => {
      const leaf = pki.leaf('expired', { issuer: inter, dns: ['e.test'], startDays: -60, days: -1 });
      const e = await rejectsWith(verify([leaf, inter], 'e.test'), 'TLS_CERT_EXPIRED', /expired/);
      assert.match(String((e.detail.certificate as { subject: string }).subject), /CN=expired/);
    });

    it('a leaf not yet valid with TLS_CERT_NOT_YET_VALID', async () => {
      const leaf = pki.leaf('future', { issuer: inter, dns: ['f.test'], startDays: 10, days: 40 });
      await rejectsWith(verify([leaf, inter], 'f.test'), 'TLS_CERT_NOT_YET_VALID');
    });

    it('a certificate for another host with TLS_HOSTNAME_MISMATCH', async () => {
      const leaf = pki.leaf('other-host', { issuer: inter, dns: ['www.test', '*.corp.test'] });
      await rejectsWith(verify([leaf, inter], 'evil.test'), 'TLS_HOSTNAME_MISMATCH');
      await rejectsWith(verify([leaf, inter], 'a.b.corp.test'), 'TLS_HOSTNAME_MISMATCH');
      await rejectsWith(verify([leaf, inter], 'corp.test'), 'TLS_HOSTNAME_MISMATCH');
    });

    it('an IP-only SAN for a different address, and a DNS name that spells the IP', async () => {
      const leaf = pki.leaf('ip-mismatch', { issuer: inter, ips: ['10.0.0.7'] });
      await rejectsWith(verify([leaf, inter], '10.0.0.8'), 'TLS_HOSTNAME_MISMATCH');
      const dnsIp = pki.leaf('dns-ip', { issuer: inter, dns: ['10.0.0.9'] });
      await rejectsWith(verify([dnsIp, inter], '10.0.0.9'), 'TLS_HOSTNAME_MISMATCH');
    });

    it('a CN-only certificate from a CA (no CN fallback for CA-issued certificates)', async () => {
      const leaf = pki.leaf('cn-only', { cn: 'cn.test', issuer: inter });
      await rejectsWith(verify([leaf, inter], 'cn.test'), 'TLS_HOSTNAME_MISMATCH');
    });

    it('a chain to a root that is not imported with TLS_CERT_UNTRUSTED and the leaf in detail', async () => {
      const stranger = pki.ca('stranger-root');
      const leaf = pki.leaf('stranger-leaf', { issuer: stranger, dns: ['s.test'] });
      const e = await rejectsWith(verify([leaf, stranger], 's.test'), 'TLS_CERT_UNTRUSTED', /stranger-root/);
      assert.equal(e.detail.hostnameMatches, true);
      assert.match(e.message, /s\.test/);
    });

    it('a leaf whose intermediate is missing from the chain', async () => {
      const leaf = pki.leaf('orphan', { issuer: inter, dns: ['o.test'] });
      await rejectsWith(verify([leaf], 'o.test'), 'TLS_CERT_UNTRUSTED');
    });

    it('a SHA-1-signed intermediate with TLS_CERT_INVALID', async () => {
      const weak = pki.ca('sha1-inter', { issuer: root, digest: 'sha1' });
      const leaf = pki.leaf('under-sha1', { issuer: weak, dns: ['w.test'] });
      await rejectsWith(verify([leaf, weak], 'w.test'), 'TLS_CERT_INVALID', /SHA-1/);
    });

    it('an intermediate that is not a CA (CA:FALSE)', async () => {
      const notCa = pki.ca('not-ca', { issuer: root, basicConstraints: 'critical,CA:FALSE', keyUsage: 'critical,keyCertSign,digitalSignature' });
      const leaf = pki.leaf('under-not-ca', { issuer: notCa, dns: ['n.test'] });
      await rejectsWith(verify([leaf, notCa], 'n.test'), 'TLS_CERT_INVALID', /not a CA/);
    });

    it('a chain longer than a pathLen constraint allows', async () => {
      const limited = pki.ca('pathlen0', { pathLen: 0, issuer: root });
      const sub = pki.ca('sub-of-pathlen0', { issuer: limited });
      const leaf = pki.leaf('too-deep', { issuer: sub, dns: ['d.test'] });
      await rejectsWith(verify([leaf, sub, limited], 'd.test'), 'TLS_CERT_INVALID', /pathLen/);
      // …while one level below it is fine.
      const ok = pki.leaf('deep-enough', { issuer: limited, dns: ['d.test'] });
      await verify([ok, limited], 'd.test');
    });

    it('names outside a permitted DNS/IP subtree and inside an excluded one', async () => {
      const nc = pki.ca('constrained', {
        issuer: root,
        extensions: ['nameConstraints=critical,permitted;DNS:corp.test,permitted;IP:10.0.0.0/255.0.0.0,excluded;DNS:secret.corp.test'],
      });
      await verify([pki.leaf('nc-ok', { issuer: nc, dns: ['a.corp.test'], ips: ['10.1.2.3'] }), nc], 'a.corp.test');
      const outside = pki.leaf('nc-outside', { issuer: nc, dns: ['a.corp.test', 'bank.test'] });
      await rejectsWith(verify([outside, nc], 'a.corp.test'), 'TLS_CERT_INVALID', /name constraints/);
      const badIp = pki.leaf('nc-ip', { issuer: nc, ips: ['192.168.1.1'] });
      await rejectsWith(verify([badIp, nc], '192.168.1.1'), 'TLS_CERT_INVALID', /name constraints/);
      const excluded = pki.leaf('nc-excluded', { issuer: nc, dns: ['db.secret.corp.test'] });
      await rejectsWith(verify([excluded, nc], 'db.secret.corp.test'), 'TLS_CERT_INVALID', /excludes/);
      const wildExcluded = pki.leaf('nc-wild', { issuer: nc, dns: ['*.corp.test'] });
      await rejectsWith(verify([wildExcluded, nc], 'x.corp.test'), 'TLS_CERT_INVALID', /excludes/);
    });

    it('a leaf whose extendedKeyUsage lacks serverAuth', async () => {
      const leaf = pki.leaf('client-only', { issuer: inter, dns: ['c.test'], extKeyUsage: 'clientAuth' });
      await rejectsWith(verify([leaf, inter], 'c.test'), 'TLS_CERT_INVALID', /serverAuth/);
    });

    it('an unknown critical extension', async () => {
      const leaf = pki.leaf('crit', { issuer: inter, dns: ['k.test'], extensions: ['1.3.6.1.4.1.99999.1=critical,ASN1:UTF8String:x'] });
      await rejectsWith(verify([leaf, inter], 'k.test'), 'TLS_CERT_INVALID', /critical extension/);
    });

    it('a CA without keyCertSign in its keyUsage', async () => {
      const noSign = pki.ca('no-certsign', { issuer: root, keyUsage: 'critical,digitalSignature' });
      const leaf = pki.leaf('under-no-certsign', { issuer: noSign, dns: ['u.test'] });
      await rejectsWith(verify([leaf, noSign], 'u.test'), 'TLS_CERT_INVALID', /keyCertSign/);
    });

    it('a forged chain: the right issuer name but another key', async () => {
      const fakeInter = pki.ca('inter-forged', { key: 'ec-p384', cn: 'inter' });
      const leaf = pki.leaf('forged', { issuer: fakeInter, dns: ['g.test'] });
      await rejectsWith(verify([leaf, inter], 'g.test'), 'TLS_CERT_INVALID', /does not verify/);
    });
  });

  describe('trust on first use and directly trusted certificates', () => {
    it('accepts a pinned self-signed certificate for its host and refuses a changed one with TLS_PIN_CHANGED', async () => {
      const a = pki.leaf('appliance', { dns: ['nas.test'] });
      const b = pki.leaf('appliance2', { dns: ['nas.test'] });
      const store = new TrustStore();
      const first = await rejectsWith(verify([a], 'nas.test', store), 'TLS_CERT_UNTRUSTED');
      store.pin('nas.test', (first.detail.certificate as { sha256: string }).sha256);
      await verify([a], 'NAS.test', store);
      const e = await rejectsWith(verify([b], 'nas.test', store), 'TLS_PIN_CHANGED');
      assert.match(e.message, /CHANGED/);
      // A pin is per host: the same certificate elsewhere is not trusted by it.
      await rejectsWith(verify([a], 'other.test', store), 'TLS_CERT_UNTRUSTED');
    });

    it('trusts an imported server certificate for its own names, with CN fallback only when it has no SAN', async () => {
      const old = pki.leaf('old-appliance', { cn: '192.168.50.1', basicConstraints: null, keyUsage: null, extKeyUsage: null });
      const store = new TrustStore();
      store.addPem(old.certPem);
      await verify([old], '192.168.50.1', store);
      await rejectsWith(verify([old], '192.168.50.2', store), 'TLS_HOSTNAME_MISMATCH');
    });

    it('accepts anything with insecure, per call or per host', async () => {
      const stranger = pki.leaf('insecure-leaf', { dns: ['i.test'], startDays: -2, days: -1 });
      const store = new TrustStore();
      await verifyServerCertificates([stranger.der], { serverName: 'x.test', trust: store, now: now(), insecure: true });
      store.setInsecure('x.test', true);
      await verify([stranger], 'x.test', store);
      await rejectsWith(verify([stranger], 'y.test', store), 'TLS_CERT_UNTRUSTED');
    });
  });
});
