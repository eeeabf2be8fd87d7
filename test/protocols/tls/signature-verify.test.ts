/**
 * verifyHandshakeSignature for every TLS SignatureScheme we support, with keys from `openssl` and
 * signatures made by Node's crypto (OpenSSL underneath), as a server would make them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestPki, type TestCert, type KeyType } from '../../../harness/test-pki.ts';
import { binariesSkipReason } from '../../../harness/requirements.ts';
import { verifyHandshakeSignature } from '../../../src/protocols/tls/certificate-verifier.ts';
import { SignatureScheme as S, ecdsaDerToRaw } from '../../../src/protocols/tls/signature-verify.ts';

const data = new TextEncoder().encode(' '.repeat(64) + 'TLS 1.3, server CertificateVerify\0transcript-hash');

type Signer = (key: KeyObject) => Uint8Array;
const pkcs1 = (h: string): Signer => (key) => sign(h, data, key);
const pss = (h: string, salt: number): Signer => (key) => sign(h, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt });
const ecdsa = (h: string): Signer => (key) => sign(h, data, key);

const cases: [string, number, KeyType, Signer][] = [
  ['rsa_pkcs1_sha256', S.rsa_pkcs1_sha256, 'rsa-2048', pkcs1('sha256')],
  ['rsa_pkcs1_sha384', S.rsa_pkcs1_sha384, 'rsa-2048', pkcs1('sha384')],
  ['rsa_pkcs1_sha512', S.rsa_pkcs1_sha512, 'rsa-2048', pkcs1('sha512')],
  ['rsa_pss_rsae_sha256', S.rsa_pss_rsae_sha256, 'rsa-2048', pss('sha256', 32)],
  ['rsa_pss_rsae_sha384', S.rsa_pss_rsae_sha384, 'rsa-2048', pss('sha384', 48)],
  ['rsa_pss_rsae_sha512', S.rsa_pss_rsae_sha512, 'rsa-2048', pss('sha512', 64)],
  ['ecdsa_secp256r1_sha256', S.ecdsa_secp256r1_sha256, 'ec-p256', ecdsa('sha256')],
  ['ecdsa_secp384r1_sha384', S.ecdsa_secp384r1_sha384, 'ec-p384', ecdsa('sha384')],
  ['ed25519', S.ed25519, 'ed25519', (key) => sign(null, data, key)],
];

describe('verifyHandshakeSignature', { skip: binariesSkipReason(['openssl'], 'certificate') }, () => {
  let pki: TestPki;
  const certs = new Map<KeyType, { cert: TestCert; key: KeyObject }>();
  before(async () => {
    pki = await TestPki.create();
    for (const k of ['rsa-2048', 'ec-p256', 'ec-p384', 'ed25519'] as const) {
      const cert = pki.leaf(k, { key: k, dns: ['x.test'] });
      certs.set(k, { cert, key: createPrivateKey(readFileSync(cert.keyFile)) });
    }
  });
  after(() => pki?.cleanup());

  for (const [name, scheme, keyType, signer] of cases) {
    it(`accepts a good ${name} signature and refuses a flipped bit or other data`, async () => {
      const { cert, key } = certs.get(keyType)!;
      const sig = signer(key);
      assert.equal(await verifyHandshakeSignature(cert.der, scheme, data, sig), true);
      const bad = sig.slice();
      bad[bad.length - 5] ^= 1;
      assert.equal(await verifyHandshakeSignature(cert.der, scheme, data, bad), false);
      assert.equal(await verifyHandshakeSignature(cert.der, scheme, data.subarray(1), sig), false);
    });
  }

  it('refuses a scheme that does not fit the key, and unknown schemes', async () => {
    const rsa = certs.get('rsa-2048')!;
    const sig = pkcs1('sha256')(rsa.key);
    assert.equal(await verifyHandshakeSignature(rsa.cert.der, S.ecdsa_secp256r1_sha256, data, sig), false);
    assert.equal(await verifyHandshakeSignature(rsa.cert.der, S.rsa_pss_pss_sha256, data, pss('sha256', 32)(rsa.key)), false);
    assert.equal(await verifyHandshakeSignature(rsa.cert.der, 0x0a0a, data, sig), false);
    const ec = certs.get('ec-p256')!;
    assert.equal(await verifyHandshakeSignature(ec.cert.der, S.rsa_pkcs1_sha256, data, ecdsa('sha256')(ec.key)), false);
  });

  it('refuses SHA-1 schemes unless legacy is allowed', async () => {
    const rsa = certs.get('rsa-2048')!;
    const sig = pkcs1('sha1')(rsa.key);
    assert.equal(await verifyHandshakeSignature(rsa.cert.der, S.rsa_pkcs1_sha1, data, sig), false);
    assert.equal(await verifyHandshakeSignature(rsa.cert.der, S.rsa_pkcs1_sha1, data, sig, { allowSha1: true }), true);
  });

  it('binds ECDSA schemes to their curve only when asked (TLS 1.3)', async () => {
    const ec = certs.get('ec-p384')!;
    const sig = ecdsa('sha256')(ec.key);
    assert.equal(await verifyHandshakeSignature(ec.cert.der, S.ecdsa_secp256r1_sha256, data, sig), true);
    assert.equal(await verifyHandshakeSignature(ec.cert.der, S.ecdsa_secp256r1_sha256, data, sig, { requireCurveMatch: true }), false);
  });

  it('returns false for an unreadable certificate', async () => {
    assert.equal(await verifyHandshakeSignature(Uint8Array.of(1, 2, 3), S.ed25519, data, new Uint8Array(64)), false);
  });
});

describe('RSASSA-PSS keys (RFC 4055)', { skip: binariesSkipReason(['openssl'], 'certificate') }, () => {
  it('verify rsa_pss_pss_* signatures and refuse rsa_pss_rsae_* and PKCS#1 with them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgweb-pss-'));
    try {
      const run = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      run('genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'pss.key');
      run('req', '-x509', '-new', '-key', 'pss.key', '-subj', '/CN=pss.test', '-days', '30', '-out', 'pss.crt');
      const der = new Uint8Array(run('x509', '-in', 'pss.crt', '-outform', 'DER'));
      const key = createPrivateKey(readFileSync(join(dir, 'pss.key')));
      const sig = sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      assert.equal(await verifyHandshakeSignature(der, S.rsa_pss_pss_sha256, data, sig), true);
      assert.equal(await verifyHandshakeSignature(der, S.rsa_pss_rsae_sha256, data, sig), false);
      assert.equal(await verifyHandshakeSignature(der, S.rsa_pkcs1_sha256, data, sig), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ecdsaDerToRaw', () => {
  it('left-pads r and s and refuses trailing bytes and oversize integers', () => {
    // SEQUENCE { INTEGER 1, INTEGER 0x00ff (positive, needs a zero byte) }
    const der = Uint8Array.of(0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0xff);
    const raw = ecdsaDerToRaw(der, 32)!;
    assert.equal(raw.length, 64);
    assert.equal(raw[31], 1);
    assert.equal(raw[63], 0xff);
    assert.equal(ecdsaDerToRaw(Uint8Array.of(...der, 0), 32), undefined);
    assert.equal(ecdsaDerToRaw(der, 0), undefined);
  });
});
