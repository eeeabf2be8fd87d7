import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4TimeExceededCode, Icmpv4UnreachableCode } from '../../../src/netstack/wire/icmpv4.ts';
import { Ipv4Packet } from '../../../src/netstack/wire/ipv4.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';

const icmpOf = (name: string) => Ipv4Packet.view(kernelPacket(name))!.payload;

// Hand-assembled echo request, id 0x0001 seq 0x0001, data "abcd". Checksum by hand (RFC 1071):
// 0x0800 + 0x0001 + 0x0001 + 0x6162 + 0x6364 = 0xccc8 -> one's complement 0x3337.
const HAND_ECHO = fromHex('0800 3337 0001 0001 6162 6364');

describe('Icmpv4Packet', () => {
  test('a message shorter than its 8-byte header is not viewable', () => {
    assert.equal(Icmpv4Packet.view(new Uint8Array(7)), undefined);
    assert.equal(Icmpv4Packet.check(new Uint8Array(7)), 'truncated');
  });

  test('verifies the hand-computed checksum of an echo request', () => {
    const p = Icmpv4Packet.view(HAND_ECHO)!;
    assert.equal(p.checksum, 0x3337);
    assert.equal(p.verifyChecksum(), true);
  });
});

describe('Icmpv4Repr.parse', () => {
  test('reads a real kernel echo request (ping -s 56)', () => {
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(icmpOf('icmpv4-echo-request'))!);
    assert.ok(r.ok && r.value.kind === 'echo-request');
    assert.equal(r.value.sequence, 1);
    assert.equal(r.value.data.length, 56);
  });

  test('reads a real kernel echo reply: our identifier, sequence and data come back', () => {
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(icmpOf('icmpv4-echo-reply'))!);
    assert.ok(r.ok && r.value.kind === 'echo-reply');
    assert.equal(r.value.identifier, 0x4242);
    assert.equal(r.value.sequence, 7);
    assert.deepEqual([...r.value.data], Array.from({ length: 32 }, (_, i) => i));
  });

  test('reads a real kernel port unreachable with the quoted datagram', () => {
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(icmpOf('icmpv4-port-unreachable'))!);
    assert.ok(r.ok && r.value.kind === 'destination-unreachable');
    assert.equal(r.value.code, Icmpv4UnreachableCode.Port);
    assert.equal(r.value.nextHopMtu, 0);
    // Linux quotes the whole offending datagram: 20 + 8 + "probe".
    assert.equal(r.value.quote.length, 33);
  });

  test('reads a real kernel reassembly time exceeded', () => {
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(icmpOf('icmpv4-reassembly-time-exceeded'))!);
    assert.ok(r.ok && r.value.kind === 'time-exceeded');
    assert.equal(r.value.code, Icmpv4TimeExceededCode.FragmentReassembly);
  });

  test('reads the next-hop MTU of fragmentation needed (RFC 1191 §4)', () => {
    const msg = new Uint8Array(8 + 28);
    Icmpv4Repr.emit({ kind: 'destination-unreachable', code: 4, nextHopMtu: 1280, quote: new Uint8Array(28) }, msg);
    assert.equal(toHex(msg.subarray(4, 8)), '00000500');
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(msg)!);
    assert.ok(r.ok && r.value.kind === 'destination-unreachable');
    assert.equal(r.value.nextHopMtu, 1280);
  });

  test('keeps unknown types raw instead of failing', () => {
    const msg = new Uint8Array(12);
    Icmpv4Repr.emit({ kind: 'other', type: 5, code: 1, restOfHeader: 0x0a000001, data: new Uint8Array([1, 2, 3, 4]) }, msg);
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(msg)!);
    assert.deepEqual(r.ok && r.value, { kind: 'other', type: 5, code: 1, restOfHeader: 0x0a000001, data: new Uint8Array([1, 2, 3, 4]) });
  });

  test('rejects a flipped bit as a bad checksum', () => {
    for (let bit = 0; bit < HAND_ECHO.length * 8; bit++) {
      const b = HAND_ECHO.slice();
      b[bit >> 3] ^= 0x80 >> (bit & 7);
      assert.deepEqual(Icmpv4Repr.parse(Icmpv4Packet.view(b)!), { ok: false, reason: 'bad-checksum' }, `bit ${bit}`);
    }
  });
});

describe('Icmpv4Repr.emit', () => {
  test('reproduces the hand-assembled echo request', () => {
    const buf = new Uint8Array(12);
    Icmpv4Repr.emit({ kind: 'echo-request', identifier: 1, sequence: 1, data: new TextEncoder().encode('abcd') }, buf);
    assert.equal(toHex(buf), toHex(HAND_ECHO));
  });

  test('reproduces the real kernel echo reply from its fields', () => {
    const kernel = icmpOf('icmpv4-echo-reply');
    const buf = new Uint8Array(kernel.length);
    Icmpv4Repr.emit({ kind: 'echo-reply', identifier: 0x4242, sequence: 7, data: kernel.subarray(8) }, buf);
    assert.equal(toHex(buf), toHex(kernel));
  });

  test('reproduces the real kernel port unreachable from its fields', () => {
    const kernel = icmpOf('icmpv4-port-unreachable');
    const r = Icmpv4Repr.parse(Icmpv4Packet.view(kernel)!);
    assert.ok(r.ok);
    const buf = new Uint8Array(Icmpv4Repr.bufferLength(r.value));
    Icmpv4Repr.emit(r.value, buf);
    assert.equal(toHex(buf), toHex(kernel));
  });

  test('writes in place without copying when the data already sits after the header', () => {
    const buf = new Uint8Array(8 + 4);
    buf.set([9, 8, 7, 6], 8);
    Icmpv4Repr.emit({ kind: 'echo-reply', identifier: 1, sequence: 2, data: buf.subarray(8) }, buf);
    assert.deepEqual([...buf.subarray(8)], [9, 8, 7, 6]);
    assert.ok(Icmpv4Packet.view(buf)!.verifyChecksum());
  });

  test('throws RangeError for out-of-range fields and short buffers', () => {
    assert.throws(() => Icmpv4Repr.emit({ kind: 'echo-request', identifier: 65536, sequence: 0, data: new Uint8Array(0) }, new Uint8Array(8)), RangeError);
    assert.throws(() => Icmpv4Repr.emit({ kind: 'echo-request', identifier: 0, sequence: -1, data: new Uint8Array(0) }, new Uint8Array(8)), RangeError);
    assert.throws(() => Icmpv4Repr.emit({ kind: 'echo-request', identifier: 0, sequence: 0, data: new Uint8Array(4) }, new Uint8Array(11)), RangeError);
  });
});
