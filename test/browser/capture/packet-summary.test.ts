/**
 * Packet summaries read like a packet analyser's list: kernel-captured ICMP/UDP packets and
 * fragments (test/vectors/netstack), TCP segments and DNS messages built with the netstack's
 * emitters, and garbage of every shape, which must never throw.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizePacket, tcpFlagNames } from '../../../src/browser/capture/packet-summary.ts';
import { DnsType } from '../../../src/protocols/dns/dns-message.ts';
import { IpProtocol } from '../../../src/netstack/wire/ip-protocol.ts';
import { TcpFlag } from '../../../src/netstack/wire/tcp.ts';
import { kernelPacket, kernelPackets } from '../../vectors/netstack/kernel-packets.ts';
import { dnsQuery, dnsResponse, ipPacket, tcpPacket, udpPacket } from './packet-fixtures.ts';
import { handshakeFlight } from '../../protocols/tls/fixtures/openssl-handshakes.ts';

describe('summarizePacket: kernel packets (test/vectors/netstack)', () => {
  test('an ICMPv4 echo request from ping(8): addresses, TTL, id and sequence', () => {
    const bytes = kernelPacket('icmpv4-echo-request');
    const s = summarizePacket(bytes);
    assert.equal(s.version, 4);
    assert.equal(s.protocol, 'ICMP');
    assert.equal(s.src, '10.77.0.1');
    assert.equal(s.dst, '10.77.0.2');
    assert.equal(s.length, 84);
    assert.equal(s.ttl, 64);
    // Identifier and sequence sit at ICMP bytes 4-7, after the 20-byte IP header.
    const id = (bytes[24] << 8) | bytes[25];
    assert.deepEqual(s.icmp, { type: 8, code: 0, name: 'Echo (ping) request', identifier: id, sequence: 1 });
    assert.equal(s.info, `Echo (ping) request id=0x${id.toString(16).padStart(4, '0')}, seq=1`);
    assert.equal(s.malformed, undefined);
  });

  test('ICMP and ICMPv6 echo replies', () => {
    const v4 = summarizePacket(kernelPacket('icmpv4-echo-reply'));
    assert.equal(v4.info, 'Echo (ping) reply id=0x4242, seq=7');
    const v6 = summarizePacket(kernelPacket('icmpv6-echo-reply'));
    assert.equal(v6.version, 6);
    assert.equal(v6.protocol, 'ICMPv6');
    assert.equal(v6.src, 'fd77::1');
    assert.equal(v6.dst, 'fd77::2');
    assert.equal(v6.info, 'Echo (ping) reply id=0x4242, seq=7');
    assert.equal(v6.icmp?.type, 129);
  });

  test('UDP over IPv4 and IPv6: ports and payload length', () => {
    for (const name of ['udp-ipv4', 'udp-ipv6']) {
      const s = summarizePacket(kernelPacket(name));
      assert.equal(s.protocol, 'UDP', name);
      assert.equal(s.srcPort, 40000);
      assert.equal(s.dstPort, 5353);
      assert.equal(s.udpPayloadLength, 'hello wgweb'.length);
      assert.equal(s.info, '40000 → 5353 Len=11');
    }
  });

  test('port unreachable names the datagram it quotes', () => {
    assert.equal(summarizePacket(kernelPacket('icmpv4-port-unreachable')).info, 'Destination unreachable (Port unreachable) for UDP 10.77.0.2:33434 → 10.77.0.1:9');
    assert.equal(summarizePacket(kernelPacket('icmpv6-port-unreachable')).info, 'Destination unreachable (Port unreachable) for UDP [fd77::2]:33434 → [fd77::1]:9');
    assert.match(summarizePacket(kernelPacket('icmpv4-reassembly-time-exceeded')).info, /^Time exceeded \(fragment reassembly\) for UDP/);
  });

  for (const version of [4, 6] as const) {
    test(`IPv${version} fragments: the first carries the ports, the others only their offset`, () => {
      const [first, second, last] = kernelPackets(`udp-ipv${version}-fragments`).map(summarizePacket);
      assert.equal(first.protocol, 'UDP');
      assert.equal(first.srcPort, 40000);
      assert.equal(first.udpPayloadLength, 3000);
      assert.equal(first.fragment?.offset, 0);
      assert.equal(first.fragment?.more, true);
      assert.equal(first.malformed, undefined, 'a first fragment is not a truncated datagram');
      assert.match(first.info, /^40000 → 5353 Len=3000 \[first fragment, ID 0x[0-9a-f]+\]$/);
      assert.equal(second.protocol, version === 4 ? 'IPv4' : 'IPv6');
      assert.equal(second.srcPort, undefined);
      assert.equal(second.fragment?.more, true);
      assert.ok(second.fragment!.offset > 0);
      assert.match(second.info, /^Fragment of UDP \(17\), offset \d+, ID 0x[0-9a-f]+, more follow$/);
      assert.equal(last.fragment?.more, false);
      assert.match(last.info, /, last$/);
      assert.equal(second.fragment?.id, first.fragment?.id);
    });
  }
});

describe('summarizePacket: TCP', () => {
  test('a SYN with MSS, window scale and SACK-permitted', () => {
    const s = summarizePacket(
      tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.SYN, seq: 123456789, window: 64240, mss: 1380, windowScale: 7, sackPermitted: true }),
    );
    assert.equal(s.protocol, 'TCP');
    assert.equal(s.srcPort, 51234);
    assert.equal(s.dstPort, 80);
    assert.deepEqual(s.tcp?.flagNames, ['SYN']);
    assert.equal(s.tcp?.seq, 123456789);
    assert.equal(s.tcp?.mss, 1380);
    assert.equal(s.tcp?.windowScale, 7);
    assert.equal(s.tcp?.sackPermitted, true);
    assert.equal(s.info, '51234 → 80 [SYN] Seq=123456789 Win=64240 Len=0 MSS=1380 WS=128 SACK_PERM');
  });

  test('SYN-ACK shows the acknowledgement number; a data segment its length; FIN and RST their flags', () => {
    const synAck = summarizePacket(tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 80, dstPort: 51234, flags: TcpFlag.SYN | TcpFlag.ACK, seq: 7, ack: 123456790 }));
    assert.deepEqual(synAck.tcp?.flagNames, ['SYN', 'ACK']);
    assert.equal(synAck.info, '80 → 51234 [SYN, ACK] Seq=7 Ack=123456790 Win=65535 Len=0');
    const data = summarizePacket(
      tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.PSH | TcpFlag.ACK, payload: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n') }),
    );
    assert.deepEqual(data.tcp?.flagNames, ['PSH', 'ACK']);
    assert.equal(data.tcp?.payloadLength, 18);
    assert.equal(data.length, 20 + 20 + 18);
    const fin = summarizePacket(tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.FIN | TcpFlag.ACK }));
    assert.deepEqual(fin.tcp?.flagNames, ['FIN', 'ACK']);
    const rst = summarizePacket(tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 81, dstPort: 51234, flags: TcpFlag.RST | TcpFlag.ACK }));
    assert.match(rst.info, /^81 → 51234 \[RST, ACK\]/);
  });

  test('TCP over IPv6, and the flag names in order', () => {
    const s = summarizePacket(tcpPacket('fd00::2', 'fd00::1', { srcPort: 40000, dstPort: 443, flags: TcpFlag.ACK, ack: 5 }));
    assert.equal(s.version, 6);
    assert.equal(s.src, 'fd00::2');
    assert.equal(s.protocol, 'TCP');
    assert.equal(s.dstPort, 443);
    assert.deepEqual(tcpFlagNames(0xff), ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR']);
    assert.deepEqual(tcpFlagNames(0), []);
  });

  test('a TCP header cut short is named, with the ports it still has', () => {
    const s = summarizePacket(ipPacket('10.8.0.1', '10.8.0.2', IpProtocol.Tcp, Uint8Array.of(0, 80, 0xc8, 0x22, 0, 0, 0, 1)));
    assert.equal(s.protocol, 'TCP');
    assert.equal(s.srcPort, 80);
    assert.equal(s.dstPort, 51234);
    assert.equal(s.malformed, 'TCP header: truncated');
    assert.match(s.info, /malformed TCP header/);
  });
});

describe('summarizePacket: TLS', () => {
  test('a segment starting with a TLS record is a TLS row: the Info names the handshake, the TCP fields stay', () => {
    const hello = summarizePacket(tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 8443, flags: TcpFlag.PSH | TcpFlag.ACK, payload: handshakeFlight('tls13', 0) }));
    assert.equal(hello.protocol, 'TLS');
    assert.equal(hello.info, 'Client Hello (SNI=fixture.wgweb.test, TLS 1.3/1.2/1.1/1.0, ALPN http/1.1)');
    assert.deepEqual(hello.tcp?.flagNames, ['PSH', 'ACK']);
    assert.equal(hello.dstPort, 8443, 'recognised by the record header, not the port');
    const server = summarizePacket(tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 8443, dstPort: 51234, flags: TcpFlag.ACK, payload: handshakeFlight('tls12', 1) }));
    assert.equal(server.tls?.certificateSubject, 'fixture.wgweb.test');
    assert.match(server.info, /^Server Hello \(TLS 1\.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\), Certificate \(CN=fixture\.wgweb\.test/);
    // Plain HTTP stays TCP.
    const http = summarizePacket(tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.PSH | TcpFlag.ACK, payload: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n') }));
    assert.equal(http.protocol, 'TCP');
    assert.equal(http.tls, undefined);
  });
});

describe('summarizePacket: DNS', () => {
  test('a query names the question; a response its answers', () => {
    const q = summarizePacket(udpPacket('10.8.0.2', '10.8.0.1', 40001, 53, dnsQuery(0x1234, 'server.wgweb.test', DnsType.AAAA)));
    assert.equal(q.protocol, 'DNS');
    assert.deepEqual(q.dns, { id: 0x1234, response: false, name: 'server.wgweb.test', type: 'AAAA' });
    assert.equal(q.info, 'Standard query 0x1234 AAAA server.wgweb.test');
    const r = summarizePacket(udpPacket('10.8.0.1', '10.8.0.2', 53, 40001, dnsResponse(0x1234, 'server.wgweb.test', ['10.8.0.1'])));
    assert.equal(r.dns?.response, true);
    assert.deepEqual(r.dns?.answers, ['10.8.0.1']);
    assert.equal(r.info, 'Standard query response 0x1234 A server.wgweb.test → 10.8.0.1');
    const nx = summarizePacket(udpPacket('10.8.0.1', '10.8.0.2', 53, 40001, dnsResponse(7, 'nothing.test', [], 3)));
    assert.equal(nx.info, 'Standard query response 0x0007 A nothing.test NXDOMAIN');
  });

  test('port 53 traffic that is not DNS stays plain UDP', () => {
    const s = summarizePacket(udpPacket('10.8.0.2', '10.8.0.1', 40001, 53, Uint8Array.of(1, 2, 3)));
    assert.equal(s.protocol, 'UDP');
    assert.equal(s.dns, undefined);
  });
});

describe('summarizePacket: IPv6 extension headers', () => {
  test('a Hop-by-Hop header is walked to the UDP datagram behind it', () => {
    const inner = udpPacket('fd00::1', 'fd00::2', 1000, 2000, Uint8Array.of(9)).subarray(40);
    // Hop-by-Hop (RFC 8200 §4.3): next header UDP, length 0 (8 bytes), PadN of 4 bytes.
    const hbh = Uint8Array.of(IpProtocol.Udp, 0, 1, 4, 0, 0, 0, 0);
    const payload = new Uint8Array(hbh.length + inner.length);
    payload.set(hbh);
    payload.set(inner, hbh.length);
    const s = summarizePacket(ipPacket('fd00::1', 'fd00::2', IpProtocol.HopByHop, payload));
    assert.equal(s.protocol, 'UDP');
    assert.equal(s.ipProtocol, IpProtocol.Udp);
    assert.equal(s.dstPort, 2000);
  });

  test('an unknown protocol is named by number', () => {
    const s = summarizePacket(ipPacket('10.0.0.1', '10.0.0.2', 132, new Uint8Array(12)));
    assert.equal(s.protocol, 'IPv4');
    assert.equal(s.info, 'SCTP (132), 12 bytes of payload');
  });
});

describe('summarizePacket: garbage never throws', () => {
  test('empty, non-IP and truncated headers are named', () => {
    assert.equal(summarizePacket(new Uint8Array(0)).malformed, 'empty');
    const notIp = summarizePacket(Uint8Array.of(0x50, 1, 2, 3));
    assert.equal(notIp.version, undefined);
    assert.equal(notIp.protocol, 'unknown');
    assert.match(notIp.info, /Not an IP packet/);
    const shortV4 = summarizePacket(Uint8Array.of(0x45, 0, 0, 20));
    assert.equal(shortV4.version, 4);
    assert.equal(shortV4.malformed, 'IPv4 header: truncated');
    // A header that claims more bytes than it has keeps its addresses.
    const lying = kernelPacket('udp-ipv4').slice();
    lying[3] += 50;
    const s = summarizePacket(lying);
    assert.equal(s.src, '10.77.0.1');
    assert.equal(s.malformed, 'IPv4 header: truncated');
    assert.equal(summarizePacket(new Uint8Array(39).fill(0x60)).malformed, 'IPv6 header: truncated');
  });

  test('every truncation and random corruption of real packets gives a summary', () => {
    const seeds = [
      kernelPacket('icmpv4-echo-request'),
      kernelPacket('icmpv6-port-unreachable'),
      ...kernelPackets('udp-ipv6-fragments'),
      tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 1, dstPort: 2, flags: TcpFlag.SYN, mss: 1380, windowScale: 7, sackPermitted: true, tsVal: 1, tsEcr: 0 }),
      udpPacket('fd00::1', 'fd00::2', 40000, 53, dnsQuery(1, 'example.com')),
    ];
    // xorshift32: a fixed, reproducible stream of corruptions.
    let x = 0x9e3779b9;
    const rand = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    let count = 0;
    for (const seed of seeds) {
      for (let cut = 0; cut <= seed.length; cut++) {
        const s = summarizePacket(seed.subarray(0, cut));
        assert.equal(typeof s.info, 'string');
        assert.equal(s.length, cut);
        count++;
      }
      for (let i = 0; i < 400; i++) {
        const b = seed.slice();
        for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        const s = summarizePacket(b);
        assert.equal(typeof s.info, 'string');
        assert.ok(s.info.length > 0);
        assert.doesNotMatch(s.malformed ?? '', /internal error/, 'no summariser threw');
        count++;
      }
    }
    for (let i = 0; i < 500; i++) {
      const b = new Uint8Array(Math.floor(rand() * 120));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
      if (b.length) b[0] = (rand() < 0.5 ? 0x40 : 0x60) | (b[0] & 15);
      assert.doesNotMatch(summarizePacket(b).malformed ?? '', /internal error/);
      count++;
    }
    assert.ok(count > 3000);
  });

  test('a summary is plain data that survives structured cloning', () => {
    const s = summarizePacket(udpPacket('10.8.0.1', '10.8.0.2', 53, 40001, dnsResponse(1, 'a.test', ['10.8.0.9'])));
    assert.deepEqual(structuredClone(s), s);
  });
});
