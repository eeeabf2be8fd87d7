/**
 * pcapng output (draft-ietf-opsawg-pcapng): block bytes checked by hand against the draft's
 * layouts, read back by an independent strict reader (test/helpers/pcapng-reader.ts), and opened
 * by Wireshark's own parser (tshark), which must see the addresses, lengths, times, directions and
 * comments we wrote.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../../src/shared/bytes.ts';
import {
  LinkType,
  PcapngWriter,
  SECRETS_TYPE_TLS_KEY_LOG,
  concatBlocks,
  encodeEnhancedPacketBlock,
  encodeInterfaceDescriptionBlock,
  encodeSectionHeaderBlock,
  timestampUnits,
} from '../../../src/browser/capture/pcapng-writer.ts';
import { TcpFlag } from '../../../src/netstack/wire/tcp.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';
import { readPcapng, tsharkFields, tsharkSkipReason } from '../../helpers/pcapng-reader.ts';
import { tcpPacket, udpPacket } from './packet-fixtures.ts';

const hex = (b: Uint8Array): string => toHex(b).replace(/(.{8})/g, '$1 ').trim();

describe('pcapng blocks, byte by byte', () => {
  test('a Section Header Block without options: magic, version 1.0, section length -1', () => {
    // §4.1: type, total length 28, byte-order magic, major 1, minor 0, section length -1, total length.
    assert.equal(hex(encodeSectionHeaderBlock()), '0a0d0d0a 1c000000 4d3c2b1a 01000000 ffffffff ffffffff 1c000000');
  });

  test('an Interface Description Block: LINKTYPE_RAW, snap length 0, if_tsresol 6, opt_endofopt', () => {
    // §4.2: type 1, length 32, link type 101 + reserved, snap length 0, option 9 length 1 value 6
    // padded to 4, opt_endofopt, total length.
    assert.equal(hex(encodeInterfaceDescriptionBlock()), '01000000 20000000 65000000 00000000 09000100 06000000 00000000 20000000');
    const named = encodeInterfaceDescriptionBlock({ name: 'wg0', timestampResolution: 'ns' });
    // if_name "wg0" (3 bytes + 1 pad), then if_tsresol 9 (nanoseconds).
    assert.match(hex(named), /02000300 77673000 09000100 09000000 00000000/);
  });

  test('an Enhanced Packet Block: split timestamp, lengths, padded data, epb_flags', () => {
    const data = Uint8Array.of(0x45, 1, 2, 3, 4);
    // 1.5 ms after the epoch = 1500 µs = 0x5dc.
    const b = encodeEnhancedPacketBlock({ interfaceId: 0, timestampMs: 1.5, data, direction: 'in' });
    assert.equal(
      hex(b),
      [
        '06000000 34000000', // type 6, total length 52
        '00000000', // interface 0
        '00000000 dc050000', // timestamp high, low
        '05000000 05000000', // captured, original length
        '45010203 04000000', // data padded to 8
        '02000400 01000000', // epb_flags: inbound
        '00000000 34000000', // opt_endofopt, total length
      ].join(' '),
    );
    const outbound = encodeEnhancedPacketBlock({ interfaceId: 0, timestampMs: 0, data, direction: 'out' });
    assert.match(hex(outbound), /02000400 02000000/);
    const bare = encodeEnhancedPacketBlock({ interfaceId: 3, timestampMs: 0, data: new Uint8Array(4) });
    assert.equal(bare.length, 32 + 4, 'no options: no opt_endofopt either');
  });

  test('timestamps keep microseconds, or nanoseconds exactly (above 2^53)', () => {
    assert.equal(timestampUnits(1_700_000_000_123.456, 'us'), 1_700_000_000_123_456n);
    assert.equal(timestampUnits(1_700_000_000_123.25, 'ns'), 1_700_000_000_123_250_000n);
    const b = encodeEnhancedPacketBlock({ interfaceId: 0, timestampMs: 1_700_000_000_123.456, data: new Uint8Array(0) });
    const v = new DataView(b.buffer);
    assert.equal((BigInt(v.getUint32(12, true)) << 32n) | BigInt(v.getUint32(16, true)), 1_700_000_000_123_456n);
  });

  test('caller errors are thrown with the reason', () => {
    assert.throws(() => timestampUnits(-1, 'us'), RangeError);
    assert.throws(() => timestampUnits(Number.NaN, 'us'), RangeError);
    assert.throws(() => encodeEnhancedPacketBlock({ interfaceId: 0, timestampMs: 0, data: new Uint8Array(10), originalLength: 5 }), /shorter than the 10 captured bytes/);
    assert.throws(() => encodeInterfaceDescriptionBlock({ linkType: 70000 }), RangeError);
    const w = new PcapngWriter(() => {});
    assert.throws(() => w.writePacket({ interfaceId: 0, timestampMs: 0, data: new Uint8Array(1) }), /interface 0 was not added/);
    assert.throws(() => new PcapngWriter(undefined as unknown as (b: Uint8Array) => void), TypeError);
  });
});

/** A little capture: IPv4 and IPv6, in and out, two interfaces, comments. */
function sampleFile(resolution: 'us' | 'ns' = 'us') {
  const blocks: Uint8Array[] = [];
  const w = new PcapngWriter((b) => blocks.push(b), { comment: 'wgweb test capture', userApplication: 'wgweb' });
  assert.equal(blocks.length, 1, 'the section header is written at once');
  const wg0 = w.addInterface({ name: 'wgweb0', description: 'tunnel to peer A', timestampResolution: resolution });
  const packets = [
    { data: kernelPacket('icmpv4-echo-request'), direction: 'out' as const, comment: 'to peer A' },
    { data: kernelPacket('icmpv4-echo-reply'), direction: 'in' as const, comment: 'from peer A' },
    { data: tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.SYN, mss: 1380 }), direction: 'out' as const },
    { data: udpPacket('fd00::2', 'fd00::1', 40000, 53, Uint8Array.of(1, 2, 3)), direction: 'out' as const, comment: 'ünïcode ✓' },
  ];
  const t0 = 1_700_000_000_000.5;
  packets.forEach((p, i) => w.writePacket({ interfaceId: wg0, timestampMs: t0 + i * 1.25, ...p }));
  const wg1 = w.addInterface({ name: 'wgweb1', linkType: LinkType.RAW });
  w.writePacket({ interfaceId: wg1, timestampMs: t0 + 10, data: kernelPacket('icmpv6-echo-reply'), direction: 'in' });
  assert.equal(w.packetsWritten, 5);
  const file = concatBlocks(blocks);
  assert.equal(w.bytesWritten, file.length);
  return { file, packets, t0 };
}

describe('PcapngWriter read back by an independent parser', () => {
  for (const resolution of ['us', 'ns'] as const) {
    test(`every field survives (${resolution} timestamps)`, () => {
      const { file, packets, t0 } = sampleFile(resolution);
      const f = readPcapng(file);
      assert.equal(f.littleEndian, true);
      assert.deepEqual(f.version, { major: 1, minor: 0 });
      assert.equal(f.sectionLength, -1n);
      assert.deepEqual(f.blockTypes, [0x0a0d0d0a, 1, 6, 6, 6, 6, 1, 6]);
      assert.deepEqual(
        f.sectionOptions.map((o) => [o.code, new TextDecoder().decode(o.value)]),
        [
          [1, 'wgweb test capture'],
          [4, 'wgweb'],
        ],
      );
      assert.equal(f.interfaces.length, 2);
      assert.equal(f.interfaces[0].linkType, 101);
      assert.equal(f.interfaces[0].name, 'wgweb0');
      assert.equal(f.interfaces[0].description, 'tunnel to peer A');
      assert.equal(f.interfaces[0].tsresol, resolution === 'ns' ? 9 : 6);
      assert.equal(f.packets.length, 5);
      const perMs = resolution === 'ns' ? 1_000_000n : 1_000n;
      packets.forEach((p, i) => {
        const got = f.packets[i];
        assert.deepEqual(got.data, p.data);
        assert.equal(got.capturedLength, p.data.length);
        assert.equal(got.originalLength, p.data.length);
        assert.equal(got.flags, p.direction === 'in' ? 1 : 2);
        assert.equal(got.comment, p.comment);
        // t0 + i * 1.25 ms, in units
        assert.equal(got.timestamp, 1_700_000_000_000n * perMs + (perMs / 2n) + BigInt(i) * ((perMs * 5n) / 4n));
      });
      assert.equal(f.packets[4].interfaceId, 1);
      void t0;
    });
  }
});

describe('PcapngWriter read by tshark', { skip: tsharkSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-pcapng-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tshark sees the addresses, lengths, directions, comments and interfaces we wrote', () => {
    const { file, packets } = sampleFile();
    const path = join(dir, 'sample.pcapng');
    writeFileSync(path, file);
    const rows = tsharkFields(path, ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'frame.len', 'frame.packet_flags_direction', 'frame.comment', 'frame.interface_name', 'frame.protocols']);
    assert.equal(rows.length, 5);
    const expected = [
      ['10.77.0.1', '10.77.0.2', '', '', String(packets[0].data.length), '0x00000002', 'to peer A', 'wgweb0'],
      ['10.77.0.1', '10.77.0.2', '', '', String(packets[1].data.length), '0x00000001', 'from peer A', 'wgweb0'],
      ['10.8.0.2', '10.8.0.1', '', '', String(packets[2].data.length), '0x00000002', '', 'wgweb0'],
      ['', '', 'fd00::2', 'fd00::1', String(packets[3].data.length), '0x00000002', 'ünïcode ✓', 'wgweb0'],
      ['', '', 'fd77::1', 'fd77::2', String(kernelPacket('icmpv6-echo-reply').length), '0x00000001', '', 'wgweb1'],
    ];
    assert.deepEqual(
      rows.map((r) => r.slice(0, 8)),
      expected,
    );
    assert.match(rows[0][8], /^raw:ip:icmp/);
    assert.match(rows[2][8], /^raw:ip:tcp/);
    assert.match(rows[3][8], /^raw:ipv6:udp/);
    const times = tsharkFields(path, ['frame.time_epoch']).map((r) => r[0]);
    assert.deepEqual(times.slice(0, 2), ['1700000000.000500000', '1700000000.001750000']);
  });

  test('tshark reads the TCP flags and options of a SYN', () => {
    const blocks: Uint8Array[] = [];
    const w = new PcapngWriter((b) => blocks.push(b));
    const i = w.addInterface();
    w.writePacket({ interfaceId: i, timestampMs: 1, data: tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.SYN, mss: 1380, windowScale: 7, sackPermitted: true }) });
    const path = join(dir, 'syn.pcapng');
    writeFileSync(path, concatBlocks(blocks));
    assert.deepEqual(tsharkFields(path, ['tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.options.mss_val', 'tcp.options.wscale.shift']), [['51234', '80', '1', '1380', '7']]);
  });
});

describe('Decryption Secrets Block (TLS key log)', () => {
  test('holds the SSLKEYLOGFILE lines under secrets type TLSK, padded to 32 bits, framed by its length twice', () => {
    const blocks: Uint8Array[] = [];
    const w = new PcapngWriter((b) => blocks.push(b));
    w.writeTlsKeyLog(['CLIENT_RANDOM 00 11']);
    w.writeTlsKeyLog([]);
    assert.equal(blocks.length, 2, 'section header + one secrets block; an empty log writes nothing');
    const dsb = blocks[1]!;
    const v = new DataView(dsb.buffer, dsb.byteOffset, dsb.byteLength);
    const text = 'CLIENT_RANDOM 00 11\n';
    assert.equal(v.getUint32(0, true), 0x0000000a);
    assert.equal(v.getUint32(4, true), dsb.length);
    assert.equal(v.getUint32(dsb.length - 4, true), dsb.length);
    assert.equal(v.getUint32(8, true), SECRETS_TYPE_TLS_KEY_LOG);
    assert.equal(v.getUint32(12, true), text.length);
    assert.equal(new TextDecoder().decode(dsb.subarray(16, 16 + text.length)), text);
    assert.equal(dsb.length % 4, 0);
  });
});
