/**
 * The packet list's filter box as a table: each line is filter text and the frames of a fixed
 * little capture it keeps.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePacketFilter, type FilterableRow } from '../../../src/browser/capture/packet-filter.ts';
import { summarizePacket } from '../../../src/browser/capture/packet-summary.ts';
import { TcpFlag } from '../../../src/netstack/wire/tcp.ts';
import { kernelPacket, kernelPackets } from '../../vectors/netstack/kernel-packets.ts';
import { dnsQuery, tcpPacket, udpPacket } from './packet-fixtures.ts';
import { handshakeFlight } from '../../protocols/tls/fixtures/openssl-handshakes.ts';

const row = (direction: 'in' | 'out', bytes: Uint8Array): FilterableRow => ({ direction, summary: summarizePacket(bytes) });

/** A TLS ClientHello record (RFC 8446 §4.1.2) with SNI fixture.wgweb.test, from a real openssl s_client. */
const clientHello = handshakeFlight('tls13', 0);

/** Frames 1..9. */
const FRAMES: FilterableRow[] = [
  row('out', kernelPacket('icmpv4-echo-request')), // 1 ICMP 10.77.0.1 → 10.77.0.2
  row('in', kernelPacket('icmpv6-echo-reply')), // 2 ICMPv6 fd77::1 → fd77::2
  row('out', tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.SYN })), // 3
  row('in', tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 80, dstPort: 51234, flags: TcpFlag.SYN | TcpFlag.ACK })), // 4
  row('in', tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 81, dstPort: 51235, flags: TcpFlag.RST | TcpFlag.ACK })), // 5
  row('out', udpPacket('fd00::2', 'fd00::1', 40000, 53, dnsQuery(1, 'server.wgweb.test'))), // 6 DNS over IPv6
  row('out', kernelPackets('udp-ipv4-fragments')[1]), // 7 a later fragment
  row('in', Uint8Array.of(0x50, 0, 0)), // 8 not IP
  row('out', tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51236, dstPort: 443, flags: TcpFlag.PSH | TcpFlag.ACK, payload: clientHello })), // 9 TLS ClientHello
];

const TABLE: [filter: string, frames: number[]][] = [
  ['', [1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ['   ', [1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ['tcp', [3, 4, 5, 9]],
  ['TCP', [3, 4, 5, 9]],
  ['tls', [9]],
  ['tls out port 443', [9]],
  ['tcp !tls', [3, 4, 5]],
  ['client hello fixture.wgweb.test', [9]],
  ['udp', [6]],
  ['dns', [6]],
  ['icmp', [1, 2]],
  ['icmpv6', [2]],
  ['ipv4', [1, 3, 4, 5, 7, 9]],
  ['ipv6', [2, 6]],
  ['in', [2, 4, 5, 8]],
  ['out', [1, 3, 6, 7, 9]],
  ['syn', [3, 4]],
  ['syn !ack', [3]],
  ['syn not ack', [3]],
  ['rst', [5]],
  ['port 80', [3, 4]],
  ['port:53', [6]],
  ['host 10.8.0.1', [3, 4, 5, 9]],
  ['10.8.0.1', [3, 4, 5, 9]],
  ['fd00:0:0::1', [6]],
  ['[fd00::2]', [6]],
  ['tcp in', [4, 5]],
  ['tcp and in', [4, 5]],
  ['!tcp !icmp', [6, 7, 8]],
  ['fragment', [7]],
  ['malformed', [8]],
  ['wgweb.test', [6, 9]],
  ['51235', [5]],
  ['port banana', []],
  ['!', [1, 2, 3, 4, 5, 6, 7, 8, 9]],
];

describe('compilePacketFilter', () => {
  for (const [text, frames] of TABLE) {
    test(`"${text}" keeps ${frames.length ? frames.join(', ') : 'nothing'}`, () => {
      const f = compilePacketFilter(text);
      const kept = FRAMES.map((r, i) => (f.matches(r) ? i + 1 : 0)).filter((n) => n > 0);
      assert.deepEqual(kept, frames);
    });
  }

  test('empty text is marked empty (the capture skips the scan)', () => {
    assert.equal(compilePacketFilter('').empty, true);
    assert.equal(compilePacketFilter('tcp').empty, false);
    assert.equal(compilePacketFilter(undefined as unknown as string).empty, true);
  });
});
