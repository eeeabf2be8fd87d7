/**
 * The capture's ring buffer: bounded by packets and bytes with the oldest dropped and counted,
 * frame numbers that never repeat, private copies, pages for the live list (offset, tail, filter),
 * and the pcapng export naming each packet's peer by cryptokey routing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrefix } from '../../../src/shared/ip-address.ts';
import { DEFAULT_CAPTURE_BYTES, DEFAULT_CAPTURE_PACKETS, PacketCapture } from '../../../src/browser/capture/packet-capture.ts';
import { TcpFlag } from '../../../src/netstack/wire/tcp.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';
import { readPcapng } from '../../helpers/pcapng-reader.ts';
import { dnsQuery, tcpPacket, udpPacket } from './packet-fixtures.ts';
import { handshakeFlight } from '../../protocols/tls/fixtures/openssl-handshakes.ts';

const ping = kernelPacket('icmpv4-echo-request');
const T0 = 1_700_000_000_000;

/** A packet of exactly `n` bytes (its content does not matter to the ring). */
const sized = (n: number): Uint8Array => new Uint8Array(n).fill(0x45, 0, 1);

describe('PacketCapture: recording', () => {
  test('defaults: 10,000 packets / 32 MiB, stopped until started', () => {
    const c = new PacketCapture();
    assert.equal(c.maxPackets, DEFAULT_CAPTURE_PACKETS);
    assert.equal(c.maxBytes, DEFAULT_CAPTURE_BYTES);
    assert.equal(DEFAULT_CAPTURE_PACKETS, 10_000);
    assert.equal(DEFAULT_CAPTURE_BYTES, 32 * 1024 * 1024);
    assert.equal(c.record('out', ping, T0), false);
    assert.equal(c.stats().packets, 0);
    c.start();
    assert.equal(c.record('out', ping, T0), true);
    c.stop();
    assert.equal(c.record('out', ping, T0 + 1), false);
    assert.deepEqual(c.stats(), {
      running: false,
      packets: 1,
      bytes: ping.length,
      recorded: 1,
      evicted: 0,
      firstIndex: 1,
      nextIndex: 2,
      firstAt: T0,
      maxPackets: 10_000,
      maxBytes: 32 * 1024 * 1024,
    });
  });

  test('it keeps a private copy: the caller may reuse its buffer', () => {
    const c = new PacketCapture({ running: true });
    const buf = ping.slice();
    c.record('in', buf, T0);
    buf.fill(0);
    assert.deepEqual(c.get(1)?.data, ping);
  });

  test('copies share chunks instead of one buffer per packet, and each copy is exactly its packet', () => {
    // A worker pays microseconds per ArrayBuffer (#19): 1000 full-size packets must not cost 1000 buffers.
    const c = new PacketCapture({ running: true });
    for (let i = 0; i < 1000; i++) c.record('in', sized(1420 + (i % 3)).fill(i & 0xff, 1), T0 + i);
    const held = c.slice(1, 1001);
    assert.equal(held.length, 1000);
    assert.ok(new Set(held.map((r) => r.data.buffer)).size <= 8, 'at most a handful of chunks');
    held.forEach((r, i) => {
      assert.equal(r.data.length, 1420 + (i % 3));
      assert.equal(r.data[0], 0x45);
      assert.ok(r.data.subarray(1).every((b) => b === (i & 0xff)), `packet ${i + 1} intact after later copies`);
    });
    // A packet larger than a quarter chunk gets its own buffer, still a private copy.
    const big = sized(100_000);
    c.record('out', big, T0);
    big.fill(7);
    assert.equal(c.get(1001)?.data[0], 0x45);
  });

  test('bad limits are caller errors', () => {
    assert.throws(() => new PacketCapture({ maxPackets: 0 }), /maxPackets must be a positive integer/);
    assert.throws(() => new PacketCapture({ maxBytes: 1.5 }), RangeError);
  });
});

describe('PacketCapture: the ring drops the oldest and counts them', () => {
  // Numbered table: each step records one packet into a 3-packet ring.
  const steps: [n: number, held: number[], evicted: number][] = [
    [1, [1], 0],
    [2, [1, 2], 0],
    [3, [1, 2, 3], 0],
    [4, [2, 3, 4], 1],
    [5, [3, 4, 5], 2],
  ];
  test('by packet count (maxPackets 3)', () => {
    const c = new PacketCapture({ running: true, maxPackets: 3 });
    for (const [n, held, evicted] of steps) {
      c.record('out', ping, T0 + n);
      const s = c.stats();
      assert.deepEqual(c.slice(0, 100).map((r) => r.index), held, `after packet ${n}`);
      assert.equal(s.evicted, evicted);
      assert.equal(s.firstIndex, held[0]);
      assert.equal(s.nextIndex, n + 1);
      assert.equal(s.recorded, n);
    }
    assert.equal(c.get(2), undefined, 'frame 2 is gone');
    assert.equal(c.get(4)?.at, T0 + 4);
    assert.equal(c.get(6), undefined);
  });

  test('by bytes (maxBytes 1000): a big packet pushes several out; one larger than the limit stays alone', () => {
    const c = new PacketCapture({ running: true, maxBytes: 1000 });
    for (let i = 0; i < 4; i++) c.record('in', sized(300), T0 + i); // 1200 bytes: the first goes
    assert.deepEqual([c.stats().packets, c.stats().bytes, c.stats().evicted], [3, 900, 1]);
    c.record('in', sized(700), T0 + 5); // 1600: two more go
    assert.deepEqual([c.stats().packets, c.stats().bytes, c.stats().evicted], [2, 1000, 3]);
    c.record('in', sized(5000), T0 + 6);
    assert.deepEqual([c.stats().packets, c.stats().bytes, c.stats().evicted], [1, 5000, 5]);
    assert.equal(c.get(6)?.data.length, 5000);
  });

  test('frame numbers stay right across many evictions (the backing array is compacted)', () => {
    const c = new PacketCapture({ running: true, maxPackets: 10 });
    for (let i = 1; i <= 20_000; i++) c.record(i % 2 ? 'out' : 'in', sized(20), T0 + i);
    const s = c.stats();
    assert.equal(s.packets, 10);
    assert.equal(s.evicted, 19_990);
    assert.equal(s.firstIndex, 19_991);
    assert.equal(c.get(19_991)?.at, T0 + 19_991);
    assert.equal(c.get(20_000)?.at, T0 + 20_000);
    assert.deepEqual(c.rows({ offset: 8, limit: 5 }).rows.map((r) => r.index), [19_999, 20_000]);
  });

  test('a ring that grew and wrapped many times still returns each held packet with its own bytes, and lets go of old chunks', () => {
    const c = new PacketCapture({ running: true, maxPackets: 1500 });
    for (let i = 1; i <= 5000; i++) c.record(i % 3 ? 'in' : 'out', sized(1000 + (i % 7)).fill(i & 0xff, 1), T0 + i);
    const held = c.slice(0, 10_000);
    assert.deepEqual([held.length, held[0]!.index, held.at(-1)!.index], [1500, 3501, 5000]);
    for (const r of held) {
      assert.equal(r.data.length, 1000 + (r.index % 7), `frame ${r.index}`);
      assert.ok(r.data.subarray(1).every((b) => b === (r.index & 0xff)), `frame ${r.index} has its own bytes`);
      assert.equal(r.direction, r.index % 3 ? 'in' : 'out');
      assert.equal(r.at, T0 + r.index);
    }
    // 1.5 MB held in 256 KiB chunks: the chunks of the 3500 evicted packets are gone.
    assert.ok(new Set(held.map((r) => r.data.buffer)).size <= 8);
    assert.equal(c.stats().bytes, held.reduce((n, r) => n + r.data.length, 0));
  });

  test('once full, the chunk an eviction lets go is the next one written: no new memory per 256 KiB captured', () => {
    // Writing fresh ArrayBuffer memory costs a page fault per 4 KiB in Chromium (#19 section 17).
    const c = new PacketCapture({ running: true, maxPackets: 1000 });
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 1; i <= 20_000; i++) {
      c.record('in', sized(1400).fill(i & 0xff, 1), T0 + i);
      buffers.add(c.get(i)!.data.buffer);
    }
    // 28 MB went through a capture that holds 1.4 MB: a handful of chunks, written again and again.
    assert.ok(buffers.size <= 8, `${buffers.size} chunks for 20,000 packets`);
    for (const r of c.slice(0, 30_000)) assert.ok(r.data.subarray(1).every((b) => b === (r.index & 0xff)), `frame ${r.index} has its own bytes`);
  });

  test('clear empties the ring and restarts frame numbers; recording state is kept', () => {
    const c = new PacketCapture({ running: true, maxPackets: 2 });
    for (let i = 0; i < 5; i++) c.record('out', ping, T0 + i);
    c.clear();
    assert.deepEqual([c.stats().packets, c.stats().bytes, c.stats().evicted, c.stats().firstIndex, c.stats().nextIndex, c.stats().firstAt], [0, 0, 0, 1, 1, undefined]);
    assert.equal(c.running, true);
    c.record('out', ping, T0 + 9);
    assert.equal(c.get(1)?.at, T0 + 9);
  });
});

describe('PacketCapture: pages for the live list', () => {
  function mixed(): PacketCapture {
    const c = new PacketCapture({ running: true });
    c.record('out', ping, T0); // 1 ICMP
    c.record('out', tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.SYN }), T0 + 1); // 2
    c.record('in', tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 80, dstPort: 51234, flags: TcpFlag.SYN | TcpFlag.ACK }), T0 + 2); // 3
    c.record('out', udpPacket('10.8.0.2', '10.8.0.1', 40000, 53, dnsQuery(9, 'a.test')), T0 + 3); // 4 DNS
    c.record('in', kernelPacket('icmpv6-echo-reply'), T0 + 4); // 5 ICMPv6
    return c;
  }

  test('offset and limit in frame order, each row with its summary', () => {
    const c = mixed();
    const page = c.rows({ offset: 1, limit: 2 });
    assert.equal(page.matched, 5);
    assert.equal(page.offset, 1);
    assert.deepEqual(page.rows.map((r) => [r.index, r.direction, r.summary.protocol]), [
      [2, 'out', 'TCP'],
      [3, 'in', 'TCP'],
    ]);
    assert.equal(page.rows[0].length, page.rows[0].summary.length);
    assert.equal(page.rows[0].at, T0 + 1);
    // Summaries are computed once and reused.
    assert.equal(c.rows({ offset: 1, limit: 1 }).rows[0].summary, page.rows[0].summary);
  });

  test('tail follows the end; offsets past the end are clamped', () => {
    const c = mixed();
    assert.deepEqual(c.rows({ tail: true, limit: 2 }).rows.map((r) => r.index), [4, 5]);
    assert.equal(c.rows({ tail: true, limit: 2 }).offset, 3);
    assert.deepEqual(c.rows({ offset: 99, limit: 2 }).rows.map((r) => r.index), [5]);
    assert.deepEqual(c.rows({ offset: -4, limit: 1 }).rows.map((r) => r.index), [1]);
    assert.equal(c.rows({ limit: 5000 }).rows.length, 5, 'a page holds at most 1000 rows');
    assert.deepEqual(new PacketCapture().rows({ tail: true }), { rows: [], offset: 0, matched: 0 });
  });

  test('a filter pages through the matching packets only', () => {
    const c = mixed();
    const tcp = c.rows({ filter: 'tcp' });
    assert.equal(tcp.matched, 2);
    assert.deepEqual(tcp.rows.map((r) => r.index), [2, 3]);
    assert.deepEqual(c.rows({ filter: 'icmp', tail: true, limit: 1 }).rows.map((r) => r.index), [5]);
    assert.deepEqual(c.rows({ filter: 'in !icmp' }).rows.map((r) => r.index), [3]);
    assert.deepEqual(c.rows({ filter: 'a.test' }).rows.map((r) => r.index), [4]);
    assert.equal(c.rows({ filter: 'nothing-matches-this' }).matched, 0);
  });
});

describe('PacketCapture: relative TCP sequence numbers', () => {
  for (const [ours, theirs] of [
    ['10.8.0.2', '10.8.0.1'],
    ['fd00::2', 'fd00::1'],
  ]) {
    test(`numbers count from each side's SYN (${ours.includes(':') ? 'IPv6' : 'IPv4'}), wrapping past 2^32`, () => {
      const c = new PacketCapture({ running: true });
      const isnA = 0xfffffff0; // our ISN close to the wrap
      const isnB = 5000;
      c.record('out', tcpPacket(ours, theirs, { srcPort: 40000, dstPort: 80, flags: TcpFlag.SYN, seq: isnA }), T0);
      c.record('in', tcpPacket(theirs, ours, { srcPort: 80, dstPort: 40000, flags: TcpFlag.SYN | TcpFlag.ACK, seq: isnB, ack: (isnA + 1) >>> 0 }), T0 + 1);
      c.record('out', tcpPacket(ours, theirs, { srcPort: 40000, dstPort: 80, flags: TcpFlag.ACK | TcpFlag.PSH, seq: (isnA + 1) >>> 0, ack: isnB + 1, payload: new Uint8Array(100) }), T0 + 2);
      c.record('in', tcpPacket(theirs, ours, { srcPort: 80, dstPort: 40000, flags: TcpFlag.ACK, seq: isnB + 1, ack: (isnA + 101) >>> 0 }), T0 + 3);
      // Another connection whose SYN was never seen keeps absolute numbers.
      c.record('in', tcpPacket(theirs, ours, { srcPort: 80, dstPort: 40001, flags: TcpFlag.ACK, seq: 777, ack: 888 }), T0 + 4);
      const info = c.rows().rows.map((r) => r.summary.info.replace(/ Win=.*$/, ''));
      assert.deepEqual(info, [
        '40000 → 80 [SYN] Seq=0',
        '80 → 40000 [SYN, ACK] Seq=0 Ack=1',
        '40000 → 80 [PSH, ACK] Seq=1 Ack=1',
        '80 → 40000 [ACK] Seq=1 Ack=101',
        '80 → 40001 [ACK] Seq=777 Ack=888',
      ]);
      const third = c.get(3)!;
      assert.equal(c.summary(third).tcp?.seq, 0xfffffff1, 'the absolute number is kept beside it');
      assert.equal(c.summary(third).tcp?.relativeSeq, 1);
      assert.equal(c.summary(c.get(1)!).tcp?.relativeAck, undefined, 'a SYN without ACK has no acknowledgement number');
      c.clear();
      c.record('out', tcpPacket(ours, theirs, { srcPort: 40000, dstPort: 80, flags: TcpFlag.ACK, seq: 5, ack: 6 }), T0);
      assert.match(c.rows().rows[0].summary.info, /Seq=5 Ack=6/, 'clear forgets the connections');
    });
  }
});

describe('PacketCapture: TLS rows', () => {
  test('a ClientHello on a connection whose SYN was seen keeps its TLS Info; the relative numbers are still computed', () => {
    const c = new PacketCapture({ running: true });
    c.record('out', tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 40000, dstPort: 443, flags: TcpFlag.SYN, seq: 100 }), T0);
    c.record('out', tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 40000, dstPort: 443, flags: TcpFlag.ACK | TcpFlag.PSH, seq: 101, ack: 1, payload: handshakeFlight('tls13', 0) }), T0 + 1);
    const [, hello] = c.rows().rows;
    assert.equal(hello.summary.protocol, 'TLS');
    assert.match(hello.summary.info, /^Client Hello \(SNI=fixture\.wgweb\.test/);
    assert.equal(hello.summary.tcp?.relativeSeq, 1);
    assert.equal(c.rows({ filter: 'tls' }).matched, 1);
  });
});

describe('PacketCapture: pcapng export', () => {
  test('one interface per session that has packets; each packet names its peer by AllowedIPs', () => {
    const c = new PacketCapture({ running: true });
    const a = { publicKey: 'A'.repeat(43) + '=', endpoint: '192.0.2.1:51820', allowedIPs: [parsePrefix('10.8.0.0/24')] };
    const b = { publicKey: 'B'.repeat(43) + '=', allowedIPs: [parsePrefix('10.8.0.128/25'), parsePrefix('fd00::/64')] };
    const unused = c.addInterface({ name: 'wgweb0', addresses: [], peers: [a] });
    const s1 = c.addInterface({ name: 'wgweb1', addresses: [parsePrefix('10.8.0.2/32')], peers: [a, b] });
    c.record('out', udpPacket('10.8.0.2', '10.8.0.1', 1, 2, new Uint8Array(1)), T0, s1); // peer A
    c.record('out', udpPacket('10.8.0.2', '10.8.0.200', 1, 2, new Uint8Array(1)), T0 + 1, s1); // B: /25 is longer
    c.record('in', udpPacket('fd00::9', 'fd00::2', 1, 2, new Uint8Array(1)), T0 + 2, s1); // from B
    c.record('in', udpPacket('172.16.0.1', '10.8.0.2', 1, 2, new Uint8Array(1)), T0 + 3, s1); // no peer
    void unused;
    const f = readPcapng(c.toPcapng());
    assert.equal(f.interfaces.length, 1, 'the session without packets is left out');
    assert.equal(f.interfaces[0].name, 'wgweb1');
    assert.equal(f.interfaces[0].linkType, 101);
    assert.match(f.interfaces[0].description ?? '', /^WireGuard tunnel in wgweb: 10\.8\.0\.2\/32; peer A+= at 192\.0\.2\.1:51820 \(AllowedIPs 10\.8\.0\.0\/24\); peer B+= \(AllowedIPs 10\.8\.0\.128\/25, fd00::\/64\)$/);
    assert.deepEqual(f.packets.map((p) => p.comment), [
      `to peer ${a.publicKey} at 192.0.2.1:51820`,
      `to peer ${b.publicKey}`,
      `from peer ${b.publicKey}`,
      undefined,
    ]);
    assert.deepEqual(f.packets.map((p) => p.flags), [2, 2, 1, 1]);
    assert.deepEqual(f.packets.map((p) => p.timestamp), [0, 1, 2, 3].map((i) => BigInt(T0 + i) * 1000n));
    const comment = new TextDecoder().decode(f.sectionOptions.find((o) => o.code === 1)!.value);
    assert.match(comment, /Decrypted inner IP packets of a WireGuard tunnel/);
  });

  test('a filtered export holds the matching packets; evictions are mentioned in the section comment', () => {
    const c = new PacketCapture({ running: true, maxPackets: 3 });
    c.record('out', ping, T0);
    for (let i = 0; i < 3; i++) c.record('out', udpPacket('10.8.0.2', '10.8.0.1', 1000 + i, 2, new Uint8Array(1)), T0 + i + 1);
    const f = readPcapng(c.toPcapng({ filter: 'port 1001' }));
    assert.equal(f.packets.length, 1);
    const comment = new TextDecoder().decode(f.sectionOptions.find((o) => o.code === 1)!.value);
    assert.match(comment, /Filter: port 1001\./);
    assert.match(comment, /1 older packets were dropped/);
    // Packets recorded before any interface was declared get a generic one.
    assert.equal(f.interfaces[0].name, 'wgweb');
  });

  test('an empty capture is still a valid file (a section header only)', () => {
    const f = readPcapng(new PacketCapture().toPcapng());
    assert.deepEqual(f.blockTypes, [0x0a0d0d0a]);
  });
});
