import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/shared/bytes.ts';
import { CookieChecker, CookieGenerator, cookieKey, cookieSourceBytes, mac1Key } from '../../src/wireguard/cookie.ts';
import { COOKIE_REFRESH_TIME_MS } from '../../src/wireguard/constants.ts';
import { CookieReplyView } from '../../src/wireguard/messages.ts';
import { hash } from '../../src/wireguard/noise-primitives.ts';
import { keyPair, seededRandom } from './helpers.ts';

const random = seededRandom(7);
const responder = keyPair(random);
const source = cookieSourceBytes({ host: '192.0.2.7', port: 51820 });

function handshakeMessage(size = 148): Uint8Array {
  const m = random(size);
  m[0] = 1;
  m[1] = m[2] = m[3] = 0;
  return m;
}

describe('cookies and MACs', () => {
  test('MAC1 and cookie keys are HASH(label ‖ public key)', () => {
    const enc = new TextEncoder();
    assert.equal(toHex(mac1Key(responder.publicKey)), toHex(hash(enc.encode('mac1----'), responder.publicKey)));
    assert.equal(toHex(cookieKey(responder.publicKey)), toHex(hash(enc.encode('cookie--'), responder.publicKey)));
  });

  test('the source of a cookie is the address bytes and the port big-endian', () => {
    assert.equal(toHex(cookieSourceBytes({ host: '192.0.2.7', port: 51820 })), 'c0000207' + 'ca6c');
    assert.equal(cookieSourceBytes({ host: 'fd00::1', port: 1 }).length, 18);
  });

  test('MAC1 made for the responder verifies; for anyone else, or after a bit flip, it does not', () => {
    const gen = new CookieGenerator(responder.publicKey);
    const checker = new CookieChecker(responder.publicKey);
    const msg = handshakeMessage();
    assert.equal(gen.addMacs(msg, 0), false, 'no cookie yet: mac2 stays zero');
    assert.equal(toHex(msg.subarray(132)), '00'.repeat(16));
    assert.equal(checker.checkMac1(msg), true);
    assert.equal(new CookieChecker(keyPair(random).publicKey).checkMac1(msg), false);
    msg[10] ^= 1;
    assert.equal(checker.checkMac1(msg), false);
  });

  test('round trip: cookie reply, then MAC2 accepted from the same source only, for two minutes', () => {
    const gen = new CookieGenerator(responder.publicKey);
    const checker = new CookieChecker(responder.publicKey);
    const first = handshakeMessage();
    gen.addMacs(first, 1000);
    assert.equal(checker.checkMac2(first, source, 1000), false, 'no MAC2 without a cookie');
    const reply = checker.createReply(first, 0x11223344, source, 1000, random);
    assert.equal(reply.length, 64);
    assert.equal(new CookieReplyView(reply).receiverIndex, 0x11223344);
    assert.equal(gen.consumeReply(new CookieReplyView(reply), 1010), true);
    assert.equal(gen.hasFreshCookie(1010), true);

    const retry = handshakeMessage();
    assert.equal(gen.addMacs(retry, 2000), true, 'a fresh cookie means mac2 is set');
    assert.equal(checker.checkMac1(retry), true);
    assert.equal(checker.checkMac2(retry, source, 2000), true);
    assert.equal(checker.checkMac2(retry, cookieSourceBytes({ host: '192.0.2.8', port: 51820 }), 2000), false, 'other address');
    assert.equal(checker.checkMac2(retry, cookieSourceBytes({ host: '192.0.2.7', port: 51821 }), 2000), false, 'other port');
    assert.equal(checker.checkMac2(retry, source, 1000 + COOKIE_REFRESH_TIME_MS + 1), false, 'secret older than two minutes');

    const late = handshakeMessage();
    assert.equal(gen.addMacs(late, 1010 + COOKIE_REFRESH_TIME_MS + 1), false, 'the initiator stops using a stale cookie');
  });

  test('a cookie reply only decrypts against the last MAC1 sent', () => {
    const gen = new CookieGenerator(responder.publicKey);
    const checker = new CookieChecker(responder.publicKey);
    const a = handshakeMessage();
    gen.addMacs(a, 0);
    const reply = checker.createReply(a, 1, source, 0, random);
    const b = handshakeMessage();
    gen.addMacs(b, 1);
    assert.equal(gen.consumeReply(new CookieReplyView(reply), 2), false, 'reply to an older message');
    assert.equal(new CookieGenerator(responder.publicKey).consumeReply(new CookieReplyView(reply), 2), false, 'nothing sent yet');
  });

  test('the responder renews its secret every two minutes, invalidating old cookies', () => {
    const gen = new CookieGenerator(responder.publicKey);
    const checker = new CookieChecker(responder.publicKey);
    const m = handshakeMessage();
    gen.addMacs(m, 0);
    gen.consumeReply(new CookieReplyView(checker.createReply(m, 1, source, 0, random)), 0);
    const t = COOKIE_REFRESH_TIME_MS + 5;
    const m2 = handshakeMessage();
    gen.addMacs(m2, 100);
    checker.createReply(m2, 1, source, t, random); // renews the secret
    assert.equal(checker.checkMac2(m2, source, t), false);
  });

  test('MACs work on response-sized messages too', () => {
    const gen = new CookieGenerator(responder.publicKey);
    const checker = new CookieChecker(responder.publicKey);
    const m = handshakeMessage(92);
    gen.addMacs(m, 0);
    assert.equal(checker.checkMac1(m), true);
    assert.equal(CookieChecker.hasNoMac2(m), true);
  });
});
