import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { toHex } from '../../src/shared/bytes.ts';
import { Keypair } from '../../src/wireguard/keypair.ts';
import { REJECT_AFTER_MESSAGES } from '../../src/wireguard/constants.ts';
import { TransportView } from '../../src/wireguard/messages.ts';

const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const pair = () => ({
  a: new Keypair({ sendKey: k1.slice(), receiveKey: k2.slice(), isInitiator: true, localIndex: 10, remoteIndex: 20 }, 0),
  b: new Keypair({ sendKey: k2.slice(), receiveKey: k1.slice(), isInitiator: false, localIndex: 20, remoteIndex: 10 }, 0),
});

describe('Keypair', () => {
  test('seal writes type 4, the receiver index, the counter and ChaCha20-Poly1305 of the padded packet', () => {
    const { a } = pair();
    const msg = a.seal(Uint8Array.of(1, 2, 3), 16);
    assert.equal(msg.length, 16 + 16 + 16);
    assert.equal(toHex(msg.subarray(0, 16)), '04000000' + '14000000' + '0000000000000000');
    const padded = new Uint8Array(16);
    padded.set([1, 2, 3]);
    const expected = chacha20poly1305(k1, new Uint8Array(12)).encrypt(padded);
    assert.deepEqual(msg.subarray(16), expected);
    const second = new TransportView(a.seal(new Uint8Array(0), 0));
    assert.equal(second.counter, 1n, 'the counter advances per message');
  });

  test('seal in place builds the message over the packet and the room around it, byte for byte what a copy gives (#19)', () => {
    const { a } = pair();
    const { a: twin } = pair();
    const packet = Uint8Array.from({ length: 1001 }, (_, i) => i & 0xff);
    // Junk in the room: the header and the padding must be written, not assumed zero.
    const buffer = new Uint8Array(16 + 1001 + 32).fill(0xee);
    buffer.set(packet, 16);
    const inRoom = buffer.subarray(16, 16 + 1001);
    const msg = a.seal(inRoom, 1008, true);
    assert.ok(msg.buffer === buffer.buffer && msg.byteOffset === 0, 'the message is the packet\'s bytes and the room');
    assert.equal(toHex(msg), toHex(twin.seal(packet, 1008)), 'the same message as sealing a copy');
    // Without the room (or without inPlace) the packet is copied and left as it was.
    const bare = packet.slice();
    const copied = a.seal(bare, 1008, true);
    assert.ok(copied.buffer !== bare.buffer);
    assert.equal(toHex(bare), toHex(packet));
    const tight = new Uint8Array(16 + 1001 + 8);
    tight.set(packet, 16);
    assert.ok(a.seal(tight.subarray(16, 16 + 1001), 1008, true).buffer !== tight.buffer, 'too little room after it: a copy');
  });

  test('open decrypts into a new buffer and leaves the message untouched; a bad tag gives undefined', () => {
    const { a, b } = pair();
    const msg = a.seal(Uint8Array.of(9, 9), 16);
    const copy = msg.slice();
    const v = new TransportView(msg);
    const pt = b.open(msg, v.counterLo, v.counterHi)!;
    assert.equal(pt.length, 16);
    assert.deepEqual(pt.subarray(0, 2), Uint8Array.of(9, 9));
    assert.deepEqual(msg, copy);
    assert.equal(b.open(msg, 1, 0), undefined, 'wrong counter');
    msg[20] ^= 1;
    assert.equal(b.open(msg, 0, 0), undefined);
  });

  test('the send counter carries into the high word and stops at REJECT_AFTER_MESSAGES', () => {
    const { a, b } = pair();
    a.setSendCounter(2n ** 32n - 1n);
    const m1 = new TransportView(a.seal(new Uint8Array(0), 0));
    const m2 = new TransportView(a.seal(new Uint8Array(0), 0));
    assert.equal(m1.counter, 2n ** 32n - 1n);
    assert.equal(m2.counter, 2n ** 32n);
    assert.ok(b.open(m2.bytes, m2.counterLo, m2.counterHi));
    assert.equal(a.needsRekeyByMessages, false);
    a.setSendCounter(2n ** 60n);
    assert.equal(a.needsRekeyByMessages, false, 'exactly 2^60 sent is not yet more than 2^60');
    a.setSendCounter(2n ** 60n + 1n);
    assert.equal(a.needsRekeyByMessages, true);
    a.setSendCounter(REJECT_AFTER_MESSAGES - 1n);
    assert.equal(a.sendExhausted, false);
    a.seal(new Uint8Array(0), 0);
    assert.equal(a.sendExhausted, true);
  });

  test('zero() wipes keys and makes the keypair unusable for sending', () => {
    const { a } = pair();
    a.zero();
    assert.equal(a.sendExhausted, true);
    assert.ok((a['sendKey'] as Uint8Array).every((x) => x === 0));
  });
});
