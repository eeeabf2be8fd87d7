import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { parseIp } from '../../../src/shared/ip-address.ts';
import { Ipv4Packet } from '../../../src/netstack/wire/ipv4.ts';
import { Ipv6Packet } from '../../../src/netstack/wire/ipv6.ts';
import { UdpPacket, UdpRepr } from '../../../src/netstack/wire/udp.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';

const HELLO = new TextEncoder().encode('hello wgweb');

function fromKernel(name: string): { udp: Uint8Array; src: Uint8Array; dst: Uint8Array } {
  const bytes = kernelPacket(name);
  const p = bytes[0] >> 4 === 4 ? Ipv4Packet.view(bytes)! : Ipv6Packet.view(bytes)!;
  return { udp: p.payload, src: p.src, dst: p.dst };
}

// Hand-computed (RFC 768) datagram 10.0.0.1:1 -> 10.0.0.2:2, payload "hi" (0x6869):
// pseudo-header 0x0a00+0x0001+0x0a00+0x0002 + protocol 0x0011 + length 0x000a = 0x141e;
// header 0x0001+0x0002+0x000a = 0x000d; payload 0x6869 -> sum 0x7c94 -> checksum 0x836b.
const HAND = fromHex('0001 0002 000a 836b 6869');

describe('UdpPacket.view', () => {
  test('reads a real kernel datagram', () => {
    const { udp } = fromKernel('udp-ipv4');
    const p = UdpPacket.view(udp)!;
    assert.equal(p.srcPort, 40000);
    assert.equal(p.dstPort, 5353);
    assert.equal(p.length, 19);
    assert.deepEqual(p.payload, HELLO);
  });

  test('shorter than 8 bytes is truncated; a length field below 8 is a bad length', () => {
    assert.equal(UdpPacket.check(new Uint8Array(7)), 'truncated');
    const b = HAND.slice();
    b[5] = 7;
    assert.equal(UdpPacket.check(b), 'bad-length');
  });

  test('a length field beyond the IP payload is truncated', () => {
    const b = HAND.slice();
    b[5] = 11;
    assert.equal(UdpPacket.check(b), 'truncated');
  });

  test('bytes beyond the length field are ignored', () => {
    const b = new Uint8Array(HAND.length + 3);
    b.set(HAND);
    const p = UdpPacket.view(b)!;
    assert.deepEqual([...p.payload], [0x68, 0x69]);
    assert.equal(p.verifyChecksum(parseIp('10.0.0.1'), parseIp('10.0.0.2')), true);
  });
});

describe('UdpRepr.parse', () => {
  test('verifies the checksum of real kernel datagrams over IPv4 and IPv6', () => {
    for (const name of ['udp-ipv4', 'udp-ipv6']) {
      const { udp, src, dst } = fromKernel(name);
      const r = UdpRepr.parse(UdpPacket.view(udp)!, src, dst);
      assert.ok(r.ok, name);
      assert.deepEqual(r.value.payload, HELLO);
    }
  });

  test('verifies the hand-computed checksum', () => {
    const r = UdpRepr.parse(UdpPacket.view(HAND)!, parseIp('10.0.0.1'), parseIp('10.0.0.2'));
    assert.ok(r.ok);
    assert.equal(r.value.srcPort, 1);
  });

  test('rejects a corrupted datagram', () => {
    const { udp, src, dst } = fromKernel('udp-ipv4');
    const b = udp.slice();
    b[10] ^= 0x20;
    assert.deepEqual(UdpRepr.parse(UdpPacket.view(b)!, src, dst), { ok: false, reason: 'bad-checksum' });
  });

  test('accepts a zero checksum over IPv4 ("no checksum", RFC 768)', () => {
    const b = HAND.slice();
    b[6] = 0;
    b[7] = 0;
    assert.ok(UdpRepr.parse(UdpPacket.view(b)!, parseIp('10.0.0.1'), parseIp('10.0.0.2')).ok);
  });

  test('rejects a zero checksum over IPv6, where it is mandatory (RFC 8200 §8.1)', () => {
    const { udp, src, dst } = fromKernel('udp-ipv6');
    const b = udp.slice();
    b[6] = 0;
    b[7] = 0;
    assert.deepEqual(UdpRepr.parse(UdpPacket.view(b)!, src, dst), { ok: false, reason: 'missing-checksum' });
  });

  test('rejects destination port 0', () => {
    const buf = new Uint8Array(8);
    UdpRepr.emit({ srcPort: 1, dstPort: 0, payload: new Uint8Array(0) }, buf, parseIp('10.0.0.1'), parseIp('10.0.0.2'));
    assert.deepEqual(UdpRepr.parse(UdpPacket.view(buf)!, parseIp('10.0.0.1'), parseIp('10.0.0.2')), { ok: false, reason: 'bad-port' });
  });
});

describe('UdpRepr.emit', () => {
  test('reproduces real kernel datagrams byte for byte (IPv4 and IPv6)', () => {
    for (const name of ['udp-ipv4', 'udp-ipv6']) {
      const { udp, src, dst } = fromKernel(name);
      const buf = new Uint8Array(udp.length);
      UdpRepr.emit({ srcPort: 40000, dstPort: 5353, payload: HELLO }, buf, src, dst);
      assert.equal(toHex(buf), toHex(udp), name);
    }
  });

  test('reproduces the hand-computed datagram', () => {
    const buf = new Uint8Array(10);
    UdpRepr.emit({ srcPort: 1, dstPort: 2, payload: new Uint8Array([0x68, 0x69]) }, buf, parseIp('10.0.0.1'), parseIp('10.0.0.2'));
    assert.equal(toHex(buf), toHex(HAND));
  });

  test('sends a computed zero checksum as 0xffff (RFC 768)', () => {
    // Pick the payload so the one's-complement sum is 0xffff, i.e. the checksum computes to 0.
    const src = parseIp('10.0.0.1');
    const dst = parseIp('10.0.0.2');
    const probe = new Uint8Array(10);
    UdpRepr.emit({ srcPort: 1, dstPort: 2, payload: new Uint8Array([0, 0]) }, probe, src, dst);
    const c = (probe[6] << 8) | probe[7];
    const buf = new Uint8Array(10);
    UdpRepr.emit({ srcPort: 1, dstPort: 2, payload: new Uint8Array([c >> 8, c & 0xff]) }, buf, src, dst);
    assert.equal(toHex(buf.subarray(6, 8)), 'ffff');
    assert.ok(UdpRepr.parse(UdpPacket.view(buf)!, src, dst).ok);
  });

  test('throws RangeError on bad ports, mixed families and short buffers', () => {
    const v4 = parseIp('10.0.0.1');
    assert.throws(() => UdpRepr.emit({ srcPort: 70000, dstPort: 1, payload: new Uint8Array(0) }, new Uint8Array(8), v4, v4), RangeError);
    assert.throws(() => UdpRepr.emit({ srcPort: 1, dstPort: 1, payload: new Uint8Array(0) }, new Uint8Array(8), v4, parseIp('::1')), RangeError);
    assert.throws(() => UdpRepr.emit({ srcPort: 1, dstPort: 1, payload: new Uint8Array(4) }, new Uint8Array(11), v4, v4), RangeError);
  });
});
