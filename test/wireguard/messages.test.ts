import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import {
  CookieReplyView,
  emitCookieReply,
  emitInitiation,
  emitResponse,
  emitTransport,
  InitiationView,
  messageType,
  parseCookieReply,
  parseInitiation,
  parseResponse,
  parseTransport,
  ResponseView,
  TransportView,
} from '../../src/wireguard/messages.ts';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

describe('messages', () => {
  test('the type is a little-endian u32: one type byte and three reserved zero bytes', () => {
    assert.equal(messageType(fromHex('01000000')), 1);
    assert.equal(messageType(fromHex('04000000ff')), 4);
    assert.equal(messageType(fromHex('01000100')), undefined);
    assert.equal(messageType(fromHex('010000')), undefined);
  });

  test('an initiation is 148 bytes: type, sender, ephemeral, static+tag, timestamp+tag, mac1, mac2', () => {
    const bytes = emitInitiation({
      senderIndex: 0x04030201,
      ephemeral: fill(32, 0xe1),
      encryptedStatic: fill(48, 0x51),
      encryptedTimestamp: fill(28, 0x71),
      mac1: fill(16, 0xa1),
      mac2: fill(16, 0xa2),
    });
    assert.equal(bytes.length, 148);
    assert.equal(
      toHex(bytes),
      '01000000' + '01020304' + 'e1'.repeat(32) + '51'.repeat(48) + '71'.repeat(28) + 'a1'.repeat(16) + 'a2'.repeat(16),
    );
    const v = new InitiationView(bytes);
    assert.equal(v.senderIndex, 0x04030201);
    assert.deepEqual(v.mac2, fill(16, 0xa2));
    assert.deepEqual(parseInitiation(bytes)?.encryptedTimestamp, fill(28, 0x71));
  });

  test('a response is 92 bytes: type, sender, receiver, ephemeral, empty tag, mac1, mac2', () => {
    const bytes = emitResponse({ senderIndex: 1, receiverIndex: 0xfffffffe, ephemeral: fill(32, 0xe2), encryptedNothing: fill(16, 0x0e), mac1: fill(16, 1), mac2: fill(16, 2) });
    assert.equal(toHex(bytes), '02000000' + '01000000' + 'feffffff' + 'e2'.repeat(32) + '0e'.repeat(16) + '01'.repeat(16) + '02'.repeat(16));
    const v = new ResponseView(bytes);
    assert.equal(v.receiverIndex, 0xfffffffe);
    assert.equal(parseResponse(bytes)?.senderIndex, 1);
  });

  test('a cookie reply is 64 bytes: type, receiver, 24-byte nonce, cookie+tag', () => {
    const bytes = emitCookieReply({ receiverIndex: 7, nonce: fill(24, 0x4e), encryptedCookie: fill(32, 0xcc) });
    assert.equal(toHex(bytes), '03000000' + '07000000' + '4e'.repeat(24) + 'cc'.repeat(32));
    assert.equal(new CookieReplyView(bytes).receiverIndex, 7);
    assert.deepEqual(parseCookieReply(bytes)?.nonce, fill(24, 0x4e));
  });

  test('a transport message carries a 64-bit little-endian counter after the receiver index', () => {
    const bytes = emitTransport({ receiverIndex: 9, counter: 0x0102030405060708n, encryptedPacket: fill(16, 0x99) });
    assert.equal(toHex(bytes), '04000000' + '09000000' + '0807060504030201' + '99'.repeat(16));
    const v = new TransportView(bytes);
    assert.equal(v.counterLo, 0x05060708);
    assert.equal(v.counterHi, 0x01020304);
    assert.equal(v.counter, 0x0102030405060708n);
    assert.equal(parseTransport(bytes)?.counter, 0x0102030405060708n);
  });

  test('parsers refuse wrong sizes and types instead of throwing', () => {
    assert.equal(parseInitiation(new Uint8Array(147)), undefined);
    assert.equal(parseResponse(fill(92, 0)), undefined);
    assert.equal(parseCookieReply(new Uint8Array(65)), undefined);
    assert.equal(parseTransport(fromHex('04000000')), undefined);
  });

  test('views and emitters reject bad caller input with RangeError', () => {
    assert.throws(() => new InitiationView(new Uint8Array(92)), RangeError);
    assert.throws(() => new TransportView(new Uint8Array(31)), RangeError);
    assert.throws(() => emitCookieReply({ receiverIndex: -1, nonce: fill(24, 0), encryptedCookie: fill(32, 0) }), RangeError);
    assert.throws(() => emitResponse({ senderIndex: 1, receiverIndex: 2, ephemeral: fill(31, 0), encryptedNothing: fill(16, 0), mac1: fill(16, 0), mac2: fill(16, 0) }), RangeError);
    assert.throws(() => emitTransport({ receiverIndex: 1, counter: 2n ** 64n, encryptedPacket: fill(16, 0) }), RangeError);
  });
});
