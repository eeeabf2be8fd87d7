import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { fromBase64, toBase64 } from '../../../src/shared/bytes.ts';
import { fingerprint, parsePublicKey, parsePublicKeyLine } from '../../../src/protocols/ssh/ssh-public-key.ts';
import { generateEd25519Key, parsePrivateKey } from '../../../src/protocols/ssh/ssh-private-key.ts';
import { bcryptPbkdf, piFractionWords } from '../../../src/protocols/ssh/bcrypt-pbkdf.ts';
import { ECDSA_FP, ECDSA_KEY, ECDSA_PUB, ED25519_GCM_KEY, ED25519_GCM_PUB, ED25519_PASS_FP, ED25519_PASS_KEY, ED25519_PASS_PUB, ED25519_PASSPHRASE, RSA_FP, RSA_KEY, RSA_PUB } from './ssh-fixtures.ts';

const data = new TextEncoder().encode('what the server asks us to sign');

describe('SSH keys: OpenSSH private keys, signatures, fingerprints', () => {
  test('fingerprints are what ssh-keygen -l prints', () => {
    assert.equal(fingerprint(parsePublicKeyLine(ED25519_PASS_PUB).blob), ED25519_PASS_FP);
    assert.equal(fingerprint(parsePublicKeyLine(ECDSA_PUB).blob), ECDSA_FP);
    assert.equal(fingerprint(parsePublicKeyLine(RSA_PUB).blob), RSA_FP);
  });

  for (const [name, text, pub, pass] of [
    ['ed25519 (passphrase, bcrypt-pbkdf + aes256-ctr)', ED25519_PASS_KEY, ED25519_PASS_PUB, ED25519_PASSPHRASE],
    ['ed25519 (passphrase, bcrypt-pbkdf + aes256-gcm)', ED25519_GCM_KEY, ED25519_GCM_PUB, ED25519_PASSPHRASE],
    ['ecdsa-sha2-nistp256', ECDSA_KEY, ECDSA_PUB, undefined],
    ['rsa', RSA_KEY, RSA_PUB, undefined],
  ] as const) {
    test(`${name}: reads the ssh-keygen file, its public half matches the .pub, every signature it makes verifies`, () => {
      const key = parsePrivateKey(text, pass);
      assert.equal(key.authorizedKeysLine(), pub);
      for (const alg of key.algorithms) {
        const sig = key.sign(data, alg);
        assert.equal(key.publicKey.verify(sig, data), true, alg);
        assert.equal(key.publicKey.verify(sig, data.slice(1)), false, `${alg}: other data`);
        assert.equal(key.publicKey.verify(sig, data, ['nothing-else']), false, `${alg}: algorithm not allowed`);
      }
      // Written back unencrypted, it reads again as the same key.
      assert.equal(parsePrivateKey(key.toOpenSsh()).authorizedKeysLine(), pub);
    });
  }

  test('an aes256-gcm key with a wrong passphrase or a changed byte is refused by its tag', () => {
    const refused = (e: unknown): boolean => e instanceof WgwebError && e.code === ErrorCode.SSH_KEY_INVALID && /wrong passphrase/.test(e.message);
    assert.throws(() => parsePrivateKey(ED25519_GCM_KEY, 'wrong'), refused);
    const lines = ED25519_GCM_KEY.split('\n');
    const raw = fromBase64(lines.slice(1, -2).join(''));
    raw[raw.length - 20] ^= 1; // inside the encrypted section, before the tag
    const body = toBase64(raw).replace(/.{70}/g, '$&\n');
    assert.throws(() => parsePrivateKey(`${lines[0]}\n${body}\n${lines[lines.length - 2]}\n`, ED25519_PASSPHRASE), refused);
  });

  test('a protected key needs its passphrase; a wrong one says so', () => {
    assert.throws(() => parsePrivateKey(ED25519_PASS_KEY), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.SSH_KEY_INVALID && /passphrase/.test(e.message));
    assert.throws(() => parsePrivateKey(ED25519_PASS_KEY, 'wrong'), (e: unknown) => e instanceof WgwebError && /wrong passphrase/.test(e.message));
  });

  test('PEM/PKCS#8 keys and junk are SSH_KEY_INVALID with a hint', () => {
    assert.throws(() => parsePrivateKey('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----'), (e: unknown) => e instanceof WgwebError && /ssh-keygen -p/.test(e.message));
    assert.throws(() => parsePrivateKey('hello'), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.SSH_KEY_INVALID);
    const truncated = ECDSA_KEY.replace(/\n[^\n]+\n-----END/, '\n-----END');
    assert.throws(() => parsePrivateKey(truncated), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.SSH_KEY_INVALID);
  });

  test('a generated Ed25519 key gives an authorized_keys line and signs', () => {
    const key = generateEd25519Key('me@wgweb');
    assert.match(key.authorizedKeysLine(), /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=* me@wgweb$/);
    assert.equal(key.publicKey.verify(key.sign(data), data), true);
    assert.equal(parsePrivateKey(key.toOpenSsh()).authorizedKeysLine(), key.authorizedKeysLine());
  });

  test('malformed public key blobs parse as undefined, never throw', () => {
    assert.equal(parsePublicKey(Uint8Array.of(0, 0, 0, 11)), undefined);
    assert.equal(parsePublicKey(new TextEncoder().encode('junk')), undefined);
    const ed = parsePublicKeyLine(ED25519_PASS_PUB);
    assert.equal(parsePublicKey(ed.blob.subarray(0, ed.blob.length - 1)), undefined);
    assert.equal(ed.verify(Uint8Array.of(1, 2, 3), data), false);
  });

  test('Blowfish\'s initial state is pi: P[0], P[17], S0[0], S3[255]', () => {
    const w = piFractionWords(1042);
    assert.deepEqual([w[0], w[17], w[18], w[1041]].map((x) => x!.toString(16)), ['243f6a88', '8979fb1b', 'd1310ba6', '3ac372e6']);
  });

  test('bcrypt-pbkdf spreads its output with a stride (byte i*stride+block), deterministic per input', () => {
    const a = bcryptPbkdf(new TextEncoder().encode('pw'), Uint8Array.of(1, 2, 3), 48, 2);
    const b = bcryptPbkdf(new TextEncoder().encode('pw'), Uint8Array.of(1, 2, 3), 48, 2);
    const c = bcryptPbkdf(new TextEncoder().encode('pw'), Uint8Array.of(1, 2, 4), 48, 2);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.throws(() => bcryptPbkdf(Uint8Array.of(), Uint8Array.of(), 32, 0), RangeError);
  });
});
