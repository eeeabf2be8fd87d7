/**
 * Certificate decoding compared with what `openssl x509` itself reports, and mutation fuzzing of
 * real certificates: decoding either succeeds or throws X509ParseError, and the verifier turns
 * anything into a WgwebError, never another exception.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TestPki, type TestCert } from '../../../harness/test-pki.ts';
import { binariesSkipReason } from '../../../harness/requirements.ts';
import { formatFingerprint, parseCertificate, X509ParseError } from '../../../src/protocols/tls/x509-certificate.ts';
import { verifyServerCertificates } from '../../../src/protocols/tls/certificate-verifier.ts';
import { TrustStore } from '../../../src/protocols/tls/trust-store.ts';
import { WgwebError } from '../../../src/shared/errors.ts';
import { formatIp } from '../../../src/shared/ip-address.ts';

describe('parseCertificate on openssl-made certificates', { skip: binariesSkipReason(['openssl'], 'certificate') }, () => {
  let pki: TestPki;
  let root: TestCert;
  let leaf: TestCert;
  before(async () => {
    pki = await TestPki.create();
    root = pki.ca('root', { pathLen: 1, key: 'ec-p384', extensions: ['nameConstraints=critical,permitted;DNS:.corp.test,excluded;IP:10.9.0.0/255.255.0.0'] });
    leaf = pki.leaf('leaf', { issuer: root, dns: ['a.corp.test'], ips: ['10.1.2.3', 'fd00::1'], startDays: -3, days: 400 });
  });
  after(() => pki?.cleanup());

  it('agrees with openssl on fingerprint, names, dates and extensions', () => {
    const c = parseCertificate(leaf.der);
    const out = (...a: string[]) => execFileSync('openssl', ['x509', '-in', leaf.certFile, '-noout', ...a], { encoding: 'utf8' }).trim();
    assert.equal(`sha256 Fingerprint=${formatFingerprint(c.sha256)}`, out('-fingerprint', '-sha256'));
    assert.equal(c.subject, 'CN=leaf');
    assert.equal(c.issuer, 'CN=root');
    const date = (line: string) => new Date(line.slice(line.indexOf('=') + 1)).toISOString();
    assert.equal(c.notBefore.toISOString(), date(out('-startdate')));
    assert.equal(c.notAfter.toISOString(), date(out('-enddate')));
    assert.equal(c.serialHex.replace(/^0+/, ''), out('-serial').replace(/^serial=0*/, '').toLowerCase());
    assert.deepEqual(c.dnsNames, ['a.corp.test']);
    assert.deepEqual(c.ipAddresses.map(formatIp), ['10.1.2.3', 'fd00::1']);
    assert.deepEqual(c.extKeyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.deepEqual([...(c.keyUsage ?? [])].sort(), ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(c.signatureAlgorithm, { kind: 'ecdsa', hash: 'SHA-256' });
    const r = parseCertificate(root.der);
    assert.deepEqual(r.basicConstraints, { cA: true, pathLen: 1 });
    assert.deepEqual(r.publicKey, { kind: 'ec', curve: 'P-384' });
    assert.deepEqual(r.nameConstraints?.permitted?.dns, ['.corp.test']);
    assert.deepEqual(r.nameConstraints?.excluded?.ip.map((p) => `${formatIp(p.address)}/${p.prefixLength}`), ['10.9.0.0/16']);
  });

  it('survives hundreds of byte mutations: only X509ParseError from decoding, only WgwebError from the verifier', async () => {
    let s = 7;
    const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const trust = new TrustStore();
    trust.addPem(root.certPem);
    let decoded = 0;
    for (let i = 0; i < 600; i++) {
      const m = leaf.der.slice();
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
      const der = r() < 0.2 ? m.subarray(0, Math.floor(r() * m.length)) : m;
      try {
        parseCertificate(der);
        decoded++;
      } catch (e) {
        assert.ok(e instanceof X509ParseError, `unexpected ${String(e)}`);
      }
      if (i % 20 === 0) {
        await verifyServerCertificates([der, root.der], { serverName: 'a.corp.test', trust, now: new Date() }).catch((e) => {
          assert.ok(e instanceof WgwebError, `unexpected ${String(e)}`);
        });
      }
    }
    assert.ok(decoded > 0, 'some mutations (e.g. in the signature) still decode');
  });
});
