import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../src/shared/bytes.ts';
import { formatIp, parseIp } from '../../../src/shared/ip-address.ts';
import { IPV6_HEADER_LENGTH, Ipv6Packet, Ipv6Repr, fragmentIpv6 } from '../../../src/netstack/wire/ipv6.ts';
import { walkIpv6Extensions } from '../../../src/netstack/wire/ipv6-extension-headers.ts';
import { kernelPacket, kernelPackets } from '../../vectors/netstack/kernel-packets.ts';

describe('Ipv6Packet.view', () => {
  test('views a real kernel ICMPv6 echo request and reads every field', () => {
    const bytes = kernelPacket('icmpv6-echo-request');
    const p = Ipv6Packet.view(bytes);
    assert.ok(p);
    assert.equal(p.version, 6);
    assert.equal(p.trafficClass, 0);
    assert.equal(p.payloadLength, 64);
    assert.equal(p.nextHeader, 58);
    assert.equal(p.hopLimit, 64);
    assert.equal(formatIp(p.src), 'fd77::1');
    assert.equal(formatIp(p.dst), 'fd77::2');
    assert.equal(p.payload.length, 64);
    // The kernel sets a flow label on ping sockets (RFC 6437); the 20 bits are read back intact.
    assert.equal(p.flowLabel, ((bytes[1] & 15) << 16) | (bytes[2] << 8) | bytes[3]);
  });

  test('a buffer shorter than 40 bytes is truncated', () => {
    assert.equal(Ipv6Packet.check(kernelPacket('udp-ipv6').subarray(0, 39)), 'truncated');
  });

  test('a version other than 6 is rejected', () => {
    const b = kernelPacket('udp-ipv6');
    b[0] = 0x45;
    assert.equal(Ipv6Packet.check(b), 'bad-version');
  });

  test('a payload length beyond the buffer is truncated', () => {
    const b = kernelPacket('udp-ipv6');
    assert.equal(Ipv6Packet.check(b.subarray(0, b.length - 1)), 'truncated');
  });

  test('bytes beyond the payload length are ignored', () => {
    const b = kernelPacket('udp-ipv6');
    const padded = new Uint8Array(b.length + 5);
    padded.set(b);
    assert.equal(Ipv6Packet.view(padded)!.payload.length, b.length - 40);
  });
});

describe('Ipv6Repr', () => {
  test('parse then emit reproduces a real kernel header byte for byte (traffic class, flow label)', () => {
    for (const name of ['icmpv6-echo-request', 'udp-ipv6', 'icmpv6-port-unreachable']) {
      const bytes = kernelPacket(name);
      const r = Ipv6Repr.parse(Ipv6Packet.view(bytes)!);
      assert.ok(r.ok);
      const buf = new Uint8Array(40);
      Ipv6Repr.emit(r.value, buf);
      assert.equal(toHex(buf), toHex(bytes.subarray(0, 40)), name);
    }
  });

  test('emit defaults to hop limit 64, traffic class 0 and flow label 0', () => {
    const buf = new Uint8Array(40);
    Ipv6Repr.emit({ src: parseIp('fd00::1'), dst: parseIp('fd00::2'), nextHeader: 17, payloadLength: 8 }, buf);
    assert.equal(toHex(buf.subarray(0, 8)), '6000000000081140');
  });

  test('emit throws RangeError on caller mistakes', () => {
    const src = parseIp('fd00::1');
    const dst = parseIp('fd00::2');
    assert.throws(() => Ipv6Repr.emit({ src, dst, nextHeader: 17, payloadLength: 0 }, new Uint8Array(39)), RangeError);
    assert.throws(() => Ipv6Repr.emit({ src: parseIp('10.0.0.1'), dst, nextHeader: 17, payloadLength: 0 }, new Uint8Array(40)), RangeError);
    assert.throws(() => Ipv6Repr.emit({ src, dst, nextHeader: 17, payloadLength: 65536 }, new Uint8Array(40)), RangeError);
    assert.throws(() => Ipv6Packet.unchecked(new Uint8Array(39)), RangeError);
  });
});

describe('fragmentIpv6', () => {
  test('splits the real kernel 3000-byte UDP packet as the kernel did (same sizes, offsets, ID)', () => {
    const kernel = kernelPackets('udp-ipv6-fragments');
    const views = kernel.map((k) => Ipv6Packet.view(k)!);
    const chains = kernel.map((k) => walkIpv6Extensions(k, 40, 44, 6, true));
    const whole = new Uint8Array(3008);
    for (let i = 0; i < kernel.length; i++) {
      const c = chains[i];
      assert.ok(c.ok && c.value.fragment);
      whole.set(kernel[i].subarray(c.value.offset, 40 + views[i].payloadLength), c.value.fragment.fragmentOffset);
    }
    const first = chains[0];
    assert.ok(first.ok && first.value.fragment);
    const repr = Ipv6Repr.parse(views[0]);
    assert.ok(repr.ok);
    const ours = fragmentIpv6(repr.value, 17, whole, 1420, first.value.fragment.identification);
    assert.deepEqual(ours.map(toHex), kernel.map(toHex));
  });

  test('every fragment fits the MTU and carries the same identification', () => {
    const payload = new Uint8Array(5000).map((_, i) => i * 7);
    const frags = fragmentIpv6({ src: parseIp('fd00::1'), dst: parseIp('fd00::2'), nextHeader: 0, payloadLength: 0 }, 17, payload, 1280, 0xdeadbeef);
    const back = new Uint8Array(5000);
    for (const f of frags) {
      assert.ok(f.length <= 1280);
      const c = walkIpv6Extensions(f, 40, f[6], 6, true);
      assert.ok(c.ok && c.value.fragment);
      assert.equal(c.value.fragment.identification, 0xdeadbeef);
      assert.equal(c.value.protocol, 17);
      back.set(f.subarray(c.value.offset), c.value.fragment.fragmentOffset);
    }
    assert.deepEqual(back, payload);
  });

  test('refuses an MTU below 1280', () => {
    assert.throws(() => fragmentIpv6({ src: parseIp('fd00::1'), dst: parseIp('fd00::2'), nextHeader: 0, payloadLength: 0 }, 17, new Uint8Array(2000), 1000, 1), RangeError);
    assert.equal(IPV6_HEADER_LENGTH, 40);
  });
});
