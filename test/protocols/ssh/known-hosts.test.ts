import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KnownHosts, knownHostName } from '../../../src/protocols/ssh/known-hosts.ts';
import { parsePublicKeyLine } from '../../../src/protocols/ssh/ssh-public-key.ts';
import { ECDSA_FP, ECDSA_PUB, ED25519_PASS_PUB, HASHED_KNOWN_HOSTS, RSA_PUB } from './ssh-fixtures.ts';

const ecdsa = parsePublicKeyLine(ECDSA_PUB);
const ed = parsePublicKeyLine(ED25519_PASS_PUB);
const rsa = parsePublicKeyLine(RSA_PUB);
const bare = (line: string): string => line.split(' ').slice(0, 2).join(' ');

describe('known hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT)', () => {
  test('names are host for port 22 and [host]:port otherwise, lower case', () => {
    assert.equal(knownHostName('Server.Example'), 'server.example');
    assert.equal(knownHostName('10.0.0.5', 2222), '[10.0.0.5]:2222');
    assert.equal(knownHostName('[fd00::1]', 22), 'fd00::1');
  });

  test('hashed lines written by ssh-keygen -H match their host names', () => {
    const k = new KnownHosts();
    assert.deepEqual(k.importLines(HASHED_KNOWN_HOSTS), { added: 2, skipped: [] });
    assert.equal(k.check('host.example', 22, ecdsa).status, 'match');
    assert.equal(k.check('10.0.0.5', 2222, ed).status, 'match');
    assert.equal(k.check('10.0.0.5', 22, ed).status, 'unknown');
    assert.deepEqual(k.check('host.example', 22, ed), { status: 'changed', known: [ECDSA_FP] });
  });

  test('patterns: comma lists, wildcards, negation; @revoked refuses; @cert-authority and junk are reported', () => {
    const k = new KnownHosts();
    const r = k.importLines(
      [`# comment`, `a.example,*.lab,!bad.lab ${bare(ECDSA_PUB)}`, `@revoked * ${bare(RSA_PUB)}`, `@cert-authority *.x ${bare(ED25519_PASS_PUB)}`, 'only-two fields', `h ssh-ed25519 !!!`].join('\n'),
    );
    assert.equal(r.added, 2);
    assert.deepEqual(r.skipped.map((s) => s.line), [4, 5, 6]);
    assert.equal(k.check('a.example', 22, ecdsa).status, 'match');
    assert.equal(k.check('x.lab', 22, ecdsa).status, 'match');
    assert.equal(k.check('bad.lab', 22, ecdsa).status, 'unknown');
    assert.equal(k.check('anything', 22, rsa).status, 'revoked');
  });

  test('trust on first use records a plain line; the list survives toJSON/fromJSON', () => {
    const k = new KnownHosts();
    k.add('10.0.0.9', 2200, ed);
    k.add('10.0.0.9', 2200, ed);
    assert.equal(k.size, 1);
    assert.equal(k.toLines(), `[10.0.0.9]:2200 ${bare(ED25519_PASS_PUB)}\n`);
    const again = KnownHosts.fromJSON(JSON.parse(JSON.stringify(k)));
    assert.equal(again.check('10.0.0.9', 2200, ed).status, 'match');
    assert.deepEqual(again.knownTypes('10.0.0.9', 2200), ['ssh-ed25519']);
    assert.equal(again.remove('10.0.0.9', 2200), 1);
    assert.equal(again.check('10.0.0.9', 2200, ed).status, 'unknown');
  });

  test('list() shows each entry with its fingerprint (hashed lines too) and removeAt forgets exactly that one', () => {
    const k = new KnownHosts();
    k.importLines(HASHED_KNOWN_HOSTS);
    k.add('10.0.0.9', 2200, ed);
    const list = k.list();
    assert.equal(list.length, 3);
    assert.equal(list[0]!.fingerprint, ECDSA_FP);
    assert.match(list[0]!.hosts, /^\|1\|/);
    assert.deepEqual(list[2], { hosts: '[10.0.0.9]:2200', type: 'ssh-ed25519', fingerprint: list[2]!.fingerprint, revoked: false, line: `[10.0.0.9]:2200 ${bare(ED25519_PASS_PUB)}` });
    k.removeAt(0);
    assert.equal(k.check('host.example', 22, ecdsa).status, 'unknown');
    assert.equal(k.check('10.0.0.5', 2222, ed).status, 'match');
    assert.equal(k.list().length, 2);
    assert.throws(() => k.removeAt(2), RangeError);
  });
});
