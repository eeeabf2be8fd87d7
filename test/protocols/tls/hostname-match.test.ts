/** RFC 9525 host matching: wildcard rules, IP literals, and when the CN counts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dnsNameMatches, hostnameMatches, normalizeHost } from '../../../src/protocols/tls/hostname-match.ts';
import { parseIp } from '../../../src/shared/ip-address.ts';

const cert = (o: Partial<Parameters<typeof hostnameMatches>[0]>) => ({ hasSubjectAltName: true, dnsNames: [], ipAddresses: [], commonNames: [], ...o });

describe('dnsNameMatches', () => {
  it('compares names case-insensitively and ignores a trailing dot on the presented name', () => {
    assert.equal(dnsNameMatches('Intranet.Test.', 'intranet.test'), true);
    assert.equal(dnsNameMatches('intranet.test', 'intranet.test2'), false);
  });

  it('lets * stand for exactly one whole left-most label', () => {
    assert.equal(dnsNameMatches('*.corp.test', 'a.corp.test'), true);
    assert.equal(dnsNameMatches('*.corp.test', 'corp.test'), false);
    assert.equal(dnsNameMatches('*.corp.test', 'a.b.corp.test'), false);
    assert.equal(dnsNameMatches('*.corp.test', '.corp.test'), false);
  });

  it('refuses partial-label, inner and single-label wildcards', () => {
    assert.equal(dnsNameMatches('f*.corp.test', 'foo.corp.test'), false);
    assert.equal(dnsNameMatches('a.*.test', 'a.b.test'), false);
    assert.equal(dnsNameMatches('*.test', 'a.test'), false);
    assert.equal(dnsNameMatches('*', 'a'), false);
    assert.equal(dnsNameMatches('*.*.test', 'a.b.test'), false);
  });
});

describe('hostnameMatches', () => {
  it('matches an IP literal only against iPAddress SANs, v4 and v6 in any spelling', () => {
    const c = cert({ ipAddresses: [parseIp('10.0.0.7'), parseIp('fd00::7')], dnsNames: ['10.0.0.8'] });
    assert.equal(hostnameMatches(c, '10.0.0.7'), true);
    assert.equal(hostnameMatches(c, '[FD00:0:0::7]'), true);
    assert.equal(hostnameMatches(c, '10.0.0.8'), false);
    assert.equal(hostnameMatches(c, 'fd00::8'), false);
  });

  it('never uses the CN when the certificate has a subjectAltName, and only on request otherwise', () => {
    assert.equal(hostnameMatches(cert({ dnsNames: ['a.test'], commonNames: ['b.test'] }), 'b.test', true), false);
    const noSan = cert({ hasSubjectAltName: false, commonNames: ['b.test'] });
    assert.equal(hostnameMatches(noSan, 'b.test'), false);
    assert.equal(hostnameMatches(noSan, 'b.test', true), true);
    assert.equal(hostnameMatches(cert({ hasSubjectAltName: false, commonNames: ['192.168.1.1'] }), '192.168.1.1', true), true);
  });

  it('normalises the reference name', () => {
    assert.equal(normalizeHost(' Host.Test. '), 'host.test');
    assert.equal(normalizeHost('[FD00::0:1]'), 'fd00::1');
  });
});
