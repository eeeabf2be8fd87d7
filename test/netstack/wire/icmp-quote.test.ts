import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIp } from '../../../src/shared/ip-address.ts';
import { parseIcmpQuote } from '../../../src/netstack/wire/icmp-quote.ts';
import { Icmpv4Packet, Icmpv4Repr } from '../../../src/netstack/wire/icmpv4.ts';
import { Icmpv6Packet, Icmpv6Repr } from '../../../src/netstack/wire/icmpv6.ts';
import { Ipv4Packet, Ipv4Repr } from '../../../src/netstack/wire/ipv4.ts';
import { Ipv6Packet, Ipv6Repr } from '../../../src/netstack/wire/ipv6.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';

function quoteV4(name: string): Uint8Array {
  const r = Icmpv4Repr.parse(Icmpv4Packet.view(Ipv4Packet.view(kernelPacket(name))!.payload)!);
  assert.ok(r.ok && 'quote' in r.value);
  return r.value.quote;
}

function quoteV6(name: string): Uint8Array {
  const p = Ipv6Packet.view(kernelPacket(name))!;
  const r = Icmpv6Repr.parse(Icmpv6Packet.view(p.payload)!, p.src, p.dst);
  assert.ok(r.ok && 'quote' in r.value);
  return r.value.quote;
}

describe('parseIcmpQuote', () => {
  test('finds our UDP ports in a real kernel port unreachable (IPv4)', () => {
    const q = parseIcmpQuote(quoteV4('icmpv4-port-unreachable'), 4)!;
    assert.equal(formatIp(q.src), '10.77.0.2');
    assert.equal(formatIp(q.dst), '10.77.0.1');
    assert.equal(q.protocol, 17);
    assert.equal(q.srcPort, 33434);
    assert.equal(q.dstPort, 9);
    assert.equal(q.originalLength, 33);
  });

  test('finds our UDP ports in a real kernel port unreachable (IPv6)', () => {
    const q = parseIcmpQuote(quoteV6('icmpv6-port-unreachable'), 6)!;
    assert.equal(formatIp(q.src), 'fd77::2');
    assert.equal(q.protocol, 17);
    assert.equal(q.srcPort, 33434);
    assert.equal(q.dstPort, 9);
  });

  test('reads through the Fragment header of a quoted first fragment (real kernel IPv6 time exceeded)', () => {
    const q = parseIcmpQuote(quoteV6('icmpv6-reassembly-time-exceeded'), 6)!;
    assert.equal(q.protocol, 17);
    assert.equal(q.srcPort, 33434);
    assert.equal(q.dstPort, 9);
  });

  test('reads ports of a quoted IPv4 first fragment (real kernel time exceeded)', () => {
    const q = parseIcmpQuote(quoteV4('icmpv4-reassembly-time-exceeded'), 4)!;
    assert.equal(q.srcPort, 33434);
  });

  test('finds the identifier and sequence of a quoted echo request, v4 and v6', () => {
    const v4 = parseIcmpQuote(Ipv4Packet.view(kernelPacket('icmpv4-echo-request'))!.bytes, 4)!;
    assert.equal(v4.echo?.sequence, 1);
    const v6 = parseIcmpQuote(kernelPacket('icmpv6-echo-request'), 6)!;
    assert.equal(v6.echo?.sequence, 1);
    assert.equal(v6.echo?.identifier, (kernelPacket('icmpv6-echo-request')[44] << 8) | kernelPacket('icmpv6-echo-request')[45]);
  });

  test('a quoted echo reply is not an echo request: no identifier is reported', () => {
    assert.equal(parseIcmpQuote(kernelPacket('icmpv4-echo-reply'), 4)!.echo, undefined);
  });

  test('a quote cut inside the transport header reports addresses but no ports', () => {
    const full = quoteV4('icmpv4-port-unreachable');
    const q = parseIcmpQuote(full.subarray(0, 22), 4)!;
    assert.equal(q.protocol, 17);
    assert.equal(q.srcPort, undefined);
  });

  test('a quoted non-initial fragment has no transport header', () => {
    const b = new Uint8Array(28);
    Ipv4Repr.emit({ src: parseIp('10.0.0.1'), dst: parseIp('10.0.0.2'), protocol: 17, payloadLength: 8, fragmentOffset: 1400 }, b);
    assert.equal(parseIcmpQuote(b, 4)!.srcPort, undefined);
    const v6 = new Uint8Array(56);
    Ipv6Repr.emit({ src: parseIp('fd00::1'), dst: parseIp('fd00::2'), nextHeader: 44, payloadLength: 16 }, v6);
    v6.set([17, 0, 0x05, 0x78, 0, 0, 0, 1], 40);
    assert.equal(parseIcmpQuote(v6, 6)!.srcPort, undefined);
  });

  test('returns undefined when even the IP header is incomplete or of the other version', () => {
    assert.equal(parseIcmpQuote(new Uint8Array(19), 4), undefined);
    assert.equal(parseIcmpQuote(kernelPacket('udp-ipv6'), 4), undefined);
    assert.equal(parseIcmpQuote(kernelPacket('udp-ipv4'), 6), undefined);
    assert.equal(parseIcmpQuote(kernelPacket('udp-ipv6').subarray(0, 39), 6), undefined);
  });
});
