import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../src/shared/bytes.ts';
import { parseIp } from '../../../src/shared/ip-address.ts';
import { Icmpv6Packet, Icmpv6Repr, Icmpv6TimeExceededCode, Icmpv6UnreachableCode } from '../../../src/netstack/wire/icmpv6.ts';
import { Ipv6Packet } from '../../../src/netstack/wire/ipv6.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';

function capture(name: string): { msg: Uint8Array; src: Uint8Array; dst: Uint8Array } {
  const p = Ipv6Packet.view(kernelPacket(name))!;
  return { msg: p.payload, src: p.src, dst: p.dst };
}

describe('Icmpv6Repr.parse', () => {
  test('verifies the pseudo-header checksum of a real kernel echo request', () => {
    const { msg, src, dst } = capture('icmpv6-echo-request');
    const r = Icmpv6Repr.parse(Icmpv6Packet.view(msg)!, src, dst);
    assert.ok(r.ok && r.value.kind === 'echo-request');
    assert.equal(r.value.sequence, 1);
    assert.equal(r.value.data.length, 56);
  });

  test('reads a real kernel echo reply', () => {
    const { msg, src, dst } = capture('icmpv6-echo-reply');
    const r = Icmpv6Repr.parse(Icmpv6Packet.view(msg)!, src, dst);
    assert.ok(r.ok && r.value.kind === 'echo-reply');
    assert.equal(r.value.identifier, 0x4242);
    assert.equal(r.value.sequence, 7);
  });

  test('reads a real kernel port unreachable (code 4) with its quote', () => {
    const { msg, src, dst } = capture('icmpv6-port-unreachable');
    const r = Icmpv6Repr.parse(Icmpv6Packet.view(msg)!, src, dst);
    assert.ok(r.ok && r.value.kind === 'destination-unreachable');
    assert.equal(r.value.code, Icmpv6UnreachableCode.Port);
    assert.equal(r.value.quote.length, 40 + 8 + 5);
  });

  test('reads a real kernel reassembly time exceeded (code 1)', () => {
    const { msg, src, dst } = capture('icmpv6-reassembly-time-exceeded');
    const r = Icmpv6Repr.parse(Icmpv6Packet.view(msg)!, src, dst);
    assert.ok(r.ok && r.value.kind === 'time-exceeded');
    assert.equal(r.value.code, Icmpv6TimeExceededCode.FragmentReassembly);
  });

  test('rejects the right message checked against the wrong addresses (the pseudo-header matters)', () => {
    const { msg, src } = capture('icmpv6-echo-reply');
    assert.deepEqual(Icmpv6Repr.parse(Icmpv6Packet.view(msg)!, src, parseIp('fd77::3')), { ok: false, reason: 'bad-checksum' });
  });

  test('rejects any single flipped bit', () => {
    const { msg, src, dst } = capture('icmpv6-echo-reply');
    for (let bit = 0; bit < msg.length * 8; bit += 3) {
      const b = msg.slice();
      b[bit >> 3] ^= 0x80 >> (bit & 7);
      assert.equal(Icmpv6Repr.parse(Icmpv6Packet.view(b)!, src, dst).ok, false, `bit ${bit}`);
    }
  });

  test('keeps Neighbor Discovery as `other` (meaningless on a layer-3 tunnel)', () => {
    const src = parseIp('fe80::1');
    const dst = parseIp('ff02::2');
    const rs = new Uint8Array(8);
    Icmpv6Repr.emit({ kind: 'other', type: 133, code: 0, word: 0, data: new Uint8Array(0) }, rs, src, dst);
    const r = Icmpv6Repr.parse(Icmpv6Packet.view(rs)!, src, dst);
    assert.ok(r.ok && r.value.kind === 'other');
    assert.equal(r.value.type, 133);
  });

  test('a message shorter than 8 bytes is not viewable', () => {
    assert.equal(Icmpv6Packet.view(new Uint8Array(7)), undefined);
  });
});

describe('Icmpv6Repr.emit', () => {
  test('reproduces real kernel messages byte for byte from their fields', () => {
    for (const name of ['icmpv6-echo-reply', 'icmpv6-echo-request', 'icmpv6-port-unreachable', 'icmpv6-reassembly-time-exceeded']) {
      const { msg, src, dst } = capture(name);
      const r = Icmpv6Repr.parse(Icmpv6Packet.view(msg)!, src, dst);
      assert.ok(r.ok);
      const buf = new Uint8Array(Icmpv6Repr.bufferLength(r.value));
      Icmpv6Repr.emit(r.value, buf, src, dst);
      assert.equal(toHex(buf), toHex(msg), name);
    }
  });

  test('writes the MTU of packet too big and the pointer of parameter problem as 32 bits', () => {
    const src = parseIp('fd00::1');
    const dst = parseIp('fd00::2');
    const ptb = new Uint8Array(8 + 40);
    Icmpv6Repr.emit({ kind: 'packet-too-big', mtu: 1280, quote: new Uint8Array(40) }, ptb, src, dst);
    assert.equal(toHex(ptb.subarray(0, 2)), '0200');
    assert.equal(toHex(ptb.subarray(4, 8)), '00000500');
    const r = Icmpv6Repr.parse(Icmpv6Packet.view(ptb)!, src, dst);
    assert.ok(r.ok && r.value.kind === 'packet-too-big');
    assert.equal(r.value.mtu, 1280);
    const pp = new Uint8Array(8 + 40);
    Icmpv6Repr.emit({ kind: 'parameter-problem', code: 1, pointer: 0x12345678, quote: new Uint8Array(40) }, pp, src, dst);
    const q = Icmpv6Repr.parse(Icmpv6Packet.view(pp)!, src, dst);
    assert.ok(q.ok && q.value.kind === 'parameter-problem');
    assert.equal(q.value.pointer, 0x12345678);
  });

  test('throws RangeError for IPv4 addresses, short buffers and bad fields', () => {
    const src = parseIp('fd00::1');
    const dst = parseIp('fd00::2');
    const echo = { kind: 'echo-request' as const, identifier: 0, sequence: 0, data: new Uint8Array(0) };
    assert.throws(() => Icmpv6Repr.emit(echo, new Uint8Array(8), parseIp('10.0.0.1'), dst), RangeError);
    assert.throws(() => Icmpv6Repr.emit(echo, new Uint8Array(7), src, dst), RangeError);
    assert.throws(() => Icmpv6Repr.emit({ ...echo, sequence: 70000 }, new Uint8Array(8), src, dst), RangeError);
  });
});
