import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closestMatch } from '../../src/shared/closest-match.ts';

const KEYS = ['PrivateKey', 'Address', 'DNS', 'MTU', 'ListenPort', 'PublicKey', 'AllowedIPs', 'PersistentKeepalive'];

describe('closestMatch', () => {
  const cases: [string, string | undefined][] = [
    ['AllowedIP', 'AllowedIPs'], // one letter missing
    ['allowed_ips', 'AllowedIPs'], // punctuation and case
    ['Adress', 'Address'], // one deletion
    ['PubilcKey', 'PublicKey'], // adjacent swap
    ['Keepalive', 'PersistentKeepalive'], // suffix
    ['MTUs', 'MTU'], // short word: distance 1
    ['DN', 'DNS'],
    ['Jc', undefined], // short and unlike anything
    ['IncludedApplications', undefined],
    ['x', undefined],
    ['', undefined],
  ];
  cases.forEach(([word, expected], i) => {
    test(`${i + 1}. ${JSON.stringify(word)} → ${expected ?? 'no suggestion'}`, () => {
      assert.equal(closestMatch(word, KEYS), expected);
    });
  });

  test('very long input gets no suggestion (bounded work)', () => {
    assert.equal(closestMatch('a'.repeat(10_000), KEYS), undefined);
  });

  test('commands: "pign" → ping, "genky" → genkey', () => {
    const commands = ['genkey', 'pubkey', 'genpsk', 'relay', 'ping', 'fetch', 'dns', 'tcping'];
    assert.equal(closestMatch('pign', commands), 'ping');
    assert.equal(closestMatch('genky', commands), 'genkey');
    assert.equal(closestMatch('curl', commands), undefined);
  });
});
