import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { formatIp, parseIp } from '../../../src/shared/ip-address.ts';
import { IPV4_HEADER_LENGTH, Ipv4Packet, Ipv4Repr, fragmentIpv4 } from '../../../src/netstack/wire/ipv4.ts';
import { kernelPacket, kernelPackets } from '../../vectors/netstack/kernel-packets.ts';

// Hand-verifiable header (the worked example of the IPv4 header checksum on Wikipedia's "Internet
// checksum" / "IPv4 header checksum" pages): UDP 192.168.0.1 -> 192.168.0.199, checksum 0xb861.
const TEXTBOOK = fromHex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

function withPayload(header: Uint8Array, payloadLength: number): Uint8Array {
  const b = new Uint8Array(header.length + payloadLength);
  b.set(header);
  return b;
}

describe('Ipv4Packet.view', () => {
  test('views a real kernel echo request and reads every header field', () => {
    const bytes = kernelPacket('icmpv4-echo-request');
    const p = Ipv4Packet.view(bytes);
    assert.ok(p);
    assert.equal(p.version, 4);
    assert.equal(p.headerLength, 20);
    assert.equal(p.totalLength, 84);
    assert.equal(p.dontFragment, true);
    assert.equal(p.moreFragments, false);
    assert.equal(p.fragmentOffset, 0);
    assert.equal(p.isFragment, false);
    assert.equal(p.ttl, 64);
    assert.equal(p.protocol, 1);
    assert.equal(formatIp(p.src), '10.77.0.1');
    assert.equal(formatIp(p.dst), '10.77.0.2');
    assert.equal(p.payload.length, 64);
    assert.equal(p.verifyChecksum(), true);
  });

  test('a buffer shorter than 20 bytes is truncated', () => {
    assert.equal(Ipv4Packet.check(TEXTBOOK.subarray(0, 19)), 'truncated');
    assert.equal(Ipv4Packet.view(TEXTBOOK.subarray(0, 19)), undefined);
    assert.equal(Ipv4Packet.check(new Uint8Array(0)), 'truncated');
  });

  test('a version other than 4 is rejected', () => {
    const b = withPayload(TEXTBOOK, 0x73 - 20);
    b[0] = 0x65;
    assert.equal(Ipv4Packet.check(b), 'bad-version');
  });

  test('an IHL below 5 is a bad header length', () => {
    const b = withPayload(TEXTBOOK, 0x73 - 20);
    b[0] = 0x44;
    assert.equal(Ipv4Packet.check(b), 'bad-header-length');
  });

  test('options longer than the buffer make it truncated', () => {
    const b = TEXTBOOK.slice();
    b[0] = 0x4f; // 60-byte header in a 20-byte buffer
    b[2] = 0;
    b[3] = 60;
    assert.equal(Ipv4Packet.check(b), 'truncated');
  });

  test('a total length below the header length is rejected', () => {
    const b = withPayload(TEXTBOOK, 100);
    b[2] = 0;
    b[3] = 19;
    assert.equal(Ipv4Packet.check(b), 'bad-total-length');
  });

  test('a total length beyond the buffer is truncated', () => {
    // The textbook header announces 0x73 = 115 bytes but the buffer holds only 20.
    assert.equal(Ipv4Packet.check(TEXTBOOK), 'truncated');
  });

  test('bytes after the total length (link padding) are ignored by payload', () => {
    const b = withPayload(TEXTBOOK, 0x73 - 20 + 7);
    const p = Ipv4Packet.view(b);
    assert.ok(p);
    assert.equal(p.payload.length, 0x73 - 20);
  });

  test('options are skipped: the payload starts after IHL', () => {
    const b = new Uint8Array(24 + 4);
    b.set(TEXTBOOK);
    b[0] = 0x46;
    b[2] = 0;
    b[3] = 28;
    b.set([1, 1, 1, 0], 20); // NOP NOP NOP EOL
    b.set([9, 9, 9, 9], 24);
    const p = Ipv4Packet.view(b);
    assert.ok(p);
    assert.equal(p.headerLength, 24);
    assert.deepEqual([...p.options], [1, 1, 1, 0]);
    assert.deepEqual([...p.payload], [9, 9, 9, 9]);
  });

  test('views share memory with the packet (no copies)', () => {
    const bytes = kernelPacket('icmpv4-echo-request');
    const p = Ipv4Packet.view(bytes)!;
    assert.equal(p.payload.buffer, bytes.buffer);
    assert.equal(p.src.buffer, bytes.buffer);
  });
});

describe('Ipv4Repr.parse', () => {
  test('accepts the textbook header checksum 0xb861', () => {
    const p = Ipv4Packet.view(withPayload(TEXTBOOK, 0x73 - 20))!;
    const r = Ipv4Repr.parse(p);
    assert.ok(r.ok);
    assert.equal(r.value.protocol, 17);
    assert.equal(r.value.payloadLength, 0x73 - 20);
    assert.equal(formatIp(r.value.dst), '192.168.0.199');
  });

  test('rejects a header whose checksum does not match', () => {
    const b = withPayload(TEXTBOOK, 0x73 - 20);
    b[11] ^= 1;
    const r = Ipv4Repr.parse(Ipv4Packet.view(b)!);
    assert.deepEqual(r, { ok: false, reason: 'bad-checksum' });
  });

  test('reads fragment fields in bytes from a real kernel fragment train', () => {
    const [a, b, c] = kernelPackets('udp-ipv4-fragments').map((x) => Ipv4Repr.parse(Ipv4Packet.view(x)!));
    assert.ok(a.ok && b.ok && c.ok);
    assert.equal(a.value.moreFragments, true);
    assert.equal(a.value.fragmentOffset, 0);
    assert.equal(b.value.fragmentOffset, 1400);
    assert.equal(c.value.fragmentOffset, 2800);
    assert.equal(c.value.moreFragments, false);
    assert.equal(a.value.dontFragment, false);
    assert.equal(a.value.identification, b.value.identification);
    assert.equal(a.value.payloadLength + b.value.payloadLength + c.value.payloadLength, 8 + 3000);
  });
});

describe('Ipv4Repr.emit', () => {
  test('reproduces the textbook header byte for byte, checksum included', () => {
    const buf = new Uint8Array(20);
    Ipv4Repr.emit({
      src: parseIp('192.168.0.1'),
      dst: parseIp('192.168.0.199'),
      protocol: 17,
      payloadLength: 0x73 - 20,
      identification: 0,
      ttl: 64,
    }, buf);
    assert.equal(toHex(buf), toHex(TEXTBOOK));
  });

  test('reproduces the header of a real kernel packet (DF set by default)', () => {
    const bytes = kernelPacket('udp-ipv4');
    const r = Ipv4Repr.parse(Ipv4Packet.view(bytes)!);
    assert.ok(r.ok);
    const buf = new Uint8Array(20);
    Ipv4Repr.emit({ src: r.value.src, dst: r.value.dst, protocol: 17, payloadLength: r.value.payloadLength, identification: r.value.identification }, buf);
    assert.equal(toHex(buf), toHex(bytes.subarray(0, 20)));
  });

  test('round-trips through parse, with the checksum verifying', () => {
    const buf = new Uint8Array(20 + 8);
    const repr = { src: parseIp('10.0.0.1'), dst: parseIp('10.0.0.2'), protocol: 6, payloadLength: 8, ttl: 3, identification: 0xbeef, dontFragment: false, moreFragments: true, fragmentOffset: 16, tos: 0xb8 };
    Ipv4Repr.emit(repr, buf);
    const r = Ipv4Repr.parse(Ipv4Packet.view(buf)!);
    assert.ok(r.ok);
    assert.deepEqual({ ...r.value, src: [...r.value.src], dst: [...r.value.dst] }, { ...repr, src: [10, 0, 0, 1], dst: [10, 0, 0, 2] });
  });

  test('throws RangeError on caller mistakes', () => {
    const src = parseIp('10.0.0.1');
    const dst = parseIp('10.0.0.2');
    assert.throws(() => Ipv4Repr.emit({ src, dst, protocol: 6, payloadLength: 0 }, new Uint8Array(19)), RangeError);
    assert.throws(() => Ipv4Repr.emit({ src: parseIp('::1'), dst, protocol: 6, payloadLength: 0 }, new Uint8Array(20)), RangeError);
    assert.throws(() => Ipv4Repr.emit({ src, dst, protocol: 6, payloadLength: 65516 }, new Uint8Array(20)), RangeError);
    assert.throws(() => Ipv4Repr.emit({ src, dst, protocol: 6, payloadLength: 0, fragmentOffset: 12 }, new Uint8Array(20)), RangeError);
    assert.throws(() => Ipv4Packet.unchecked(new Uint8Array(3)), RangeError);
  });
});

describe('fragmentIpv4', () => {
  const src = parseIp('10.77.0.1');
  const dst = parseIp('10.77.0.2');

  test('splits the real kernel 3000-byte UDP datagram exactly as the kernel did', () => {
    const kernel = kernelPackets('udp-ipv4-fragments');
    const first = Ipv4Packet.view(kernel[0])!;
    const udpDatagram = new Uint8Array(3008);
    let o = 0;
    for (const k of kernel) {
      const p = Ipv4Packet.view(k)!;
      udpDatagram.set(p.payload, p.fragmentOffset);
      o += p.payload.length;
    }
    assert.equal(o, 3008);
    const ours = fragmentIpv4({ src, dst, protocol: 17, payloadLength: 0, identification: first.identification }, udpDatagram, 1420);
    assert.deepEqual(ours.map(toHex), kernel.map(toHex));
  });

  test('keeps all but the last fragment a multiple of 8 bytes and clears DF', () => {
    const payload = new Uint8Array(1000).map((_, i) => i);
    const frags = fragmentIpv4({ src, dst, protocol: 17, payloadLength: 0 }, payload, 100);
    for (const f of frags) assert.ok(f.length <= 100);
    const views = frags.map((f) => Ipv4Packet.view(f)!);
    views.slice(0, -1).forEach((v) => {
      assert.equal(v.payload.length % 8, 0);
      assert.equal(v.moreFragments, true);
    });
    assert.equal(views.at(-1)!.moreFragments, false);
    assert.ok(views.every((v) => !v.dontFragment && v.verifyChecksum()));
    const back = new Uint8Array(1000);
    for (const v of views) back.set(v.payload, v.fragmentOffset);
    assert.deepEqual(back, payload);
  });

  test('rejects an MTU with no room for 8 payload bytes, and oversized datagrams', () => {
    assert.throws(() => fragmentIpv4({ src, dst, protocol: 17, payloadLength: 0 }, new Uint8Array(100), 27), RangeError);
    assert.throws(() => fragmentIpv4({ src, dst, protocol: 17, payloadLength: 0 }, new Uint8Array(65516), 1420), RangeError);
    assert.equal(IPV4_HEADER_LENGTH, 20);
  });
});
