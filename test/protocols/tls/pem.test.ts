/** PEM ⇄ DER: bundles, junk between blocks, damaged blocks, and a fuzz run that must never throw. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePemBlocks, parsePemCertificates, toPem } from '../../../src/protocols/tls/pem.ts';
import { parseCertificate, X509ParseError } from '../../../src/protocols/tls/x509-certificate.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('PEM', () => {
  it('round-trips DER through toPem with 64-column lines', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = toPem(der);
    assert.ok(pem.split('\n').every((l) => l.length <= 64));
    assert.deepEqual(parsePemCertificates(pem), [der]);
  });

  it('reads every certificate of a bundle, skipping text between blocks, other labels and damaged blocks', () => {
    const a = toPem(Uint8Array.of(1, 2, 3));
    const b = toPem(Uint8Array.of(4, 5, 6));
    const key = toPem(Uint8Array.of(9), 'PRIVATE KEY');
    const text = `subject=CN = a\r\n${a.replace(/\n/g, '\r\n')}# comment\n${key}-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n${b}`;
    assert.deepEqual(parsePemCertificates(text), [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)]);
    assert.equal(parsePemBlocks(text).length, 3);
  });

  it('survives random text and mutated PEM without throwing', () => {
    const r = rng(13);
    const base = toPem(Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255));
    for (let i = 0; i < 2000; i++) {
      const chars = [...base];
      for (let k = 0; k < 1 + Math.floor(r() * 6); k++) chars[Math.floor(r() * chars.length)] = String.fromCharCode(Math.floor(r() * 128));
      const s = r() < 0.5 ? chars.join('') : chars.slice(0, Math.floor(r() * chars.length)).join('');
      parsePemCertificates(s);
    }
  });
});

describe('parseCertificate fuzzing', () => {
  it('throws only X509ParseError for random and truncated DER', () => {
    const r = rng(5);
    const inputs: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(0x30), Uint8Array.of(0x30, 0x80), Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff)];
    for (let i = 0; i < 500; i++) inputs.push(Uint8Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
    for (const der of inputs) {
      assert.throws(() => parseCertificate(der), X509ParseError);
    }
  });
});
