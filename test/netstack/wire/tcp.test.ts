/**
 * TCP wire format: a real Linux SYN parsed and re-emitted byte for byte, options of every kind,
 * malformed headers reported (never thrown), checksums over IPv4 and IPv6 pseudo-headers.
 *
 * Provenance of the Linux fixtures: captured on this machine (Linux 6.18) by opening a TUN device
 * with address 10.99.0.1/24 and fd99::1/64 inside a throwaway network namespace and calling
 * connect() to 10.99.0.2:8080 / [fd99::2]:8080 from Python; the first packet read from the TUN
 * file descriptor is the kernel's SYN (MTU 1500, hence MSS 1460 / 1440, window scale 10).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { parseIp } from '../../../src/shared/ip-address.ts';
import {
  emitTcp,
  emitTcpHeader,
  fillTcpChecksum,
  parseTcp,
  parseTcpRepr,
  TcpFlag,
  tcpHeaderLength,
  TcpPacket,
  tcpSegmentLength,
  verifyTcpChecksum,
  type TcpRepr,
} from '../../../src/netstack/wire/tcp.ts';

const LINUX_SYN_V4_PACKET =
  '4500003c13004000400612f40a6300010a630002' +
  '94ee1f907d46dfd700000000a002faf0bf950000020405b40402080a486c1ea5000000000103030a';
const LINUX_SYN_V6_PACKET =
  '600bf8ba00280640fd990000000000000000000000000001fd990000000000000000000000000002' +
  'c4f01f90e69299d100000000a002fd20869a0000020405a00402080a3f20251a000000000103030a';

const v4Src = parseIp('10.99.0.1');
const v4Dst = parseIp('10.99.0.2');
const v6Src = parseIp('fd99::1');
const v6Dst = parseIp('fd99::2');

function repr(bytes: Uint8Array): TcpRepr {
  const r = parseTcp(bytes);
  if (typeof r === 'string') throw new Error(`unexpected parse error ${r}`);
  return r;
}

describe('a real Linux IPv4 SYN', () => {
  const segment = fromHex(LINUX_SYN_V4_PACKET).subarray(20);

  test('has the ports, sequence number, flags and window Linux sent', () => {
    const p = TcpPacket.parse(segment);
    assert.ok(p instanceof TcpPacket);
    assert.equal(p.srcPort, 38126);
    assert.equal(p.dstPort, 8080);
    assert.equal(p.seq, 0x7d46dfd7);
    assert.equal(p.ack, 0);
    assert.equal(p.headerLength, 40);
    assert.equal(p.flags, TcpFlag.SYN);
    assert.equal(p.window, 64240);
    assert.equal(p.checksum, 0xbf95);
    assert.equal(p.urgentPointer, 0);
    assert.equal(p.options.length, 20);
    assert.equal(p.payload.length, 0);
  });

  test('carries MSS 1460, SACK-permitted, timestamps and window scale 10', () => {
    const r = repr(segment);
    assert.equal(r.mss, 1460);
    assert.equal(r.sackPermitted, true);
    assert.equal(r.tsVal, 0x486c1ea5);
    assert.equal(r.tsEcr, 0);
    assert.equal(r.windowScale, 10);
    assert.equal(r.sackBlocks, undefined);
    assert.equal(tcpSegmentLength(r), 1);
  });

  test('has a checksum that verifies over the IPv4 pseudo-header, and not over another one', () => {
    assert.equal(verifyTcpChecksum(segment, v4Src, v4Dst), true);
    assert.equal(verifyTcpChecksum(segment, v4Dst, v4Src.map((b, i) => (i === 3 ? 9 : b))), false);
  });

  test('is re-emitted byte for byte from its parsed form (same option layout as Linux)', () => {
    const out = emitTcp(repr(segment), v4Src, v4Dst);
    assert.equal(toHex(out), toHex(segment));
  });
});

describe('a real Linux IPv6 SYN', () => {
  const segment = fromHex(LINUX_SYN_V6_PACKET).subarray(40);

  test('parses to MSS 1440 with the same options', () => {
    const r = repr(segment);
    assert.equal(r.srcPort, 50416);
    assert.equal(r.dstPort, 8080);
    assert.equal(r.seq, 0xe69299d1);
    assert.equal(r.window, 64800);
    assert.equal(r.mss, 1440);
    assert.equal(r.sackPermitted, true);
    assert.equal(r.tsVal, 0x3f20251a);
    assert.equal(r.windowScale, 10);
  });

  test('has a checksum that verifies over the IPv6 pseudo-header and is re-emitted exactly', () => {
    assert.equal(verifyTcpChecksum(segment, v6Src, v6Dst), true);
    assert.equal(toHex(emitTcp(repr(segment), v6Src, v6Dst)), toHex(segment));
  });
});

describe('emitting options', () => {
  const base: TcpRepr = { srcPort: 1234, dstPort: 80, seq: 1, ack: 2, flags: TcpFlag.ACK, window: 100, payload: new Uint8Array(0) };

  test('a data segment with timestamps and two SACK blocks uses NOP NOP TS, NOP NOP SACK', () => {
    const r: TcpRepr = { ...base, tsVal: 0x01020304, tsEcr: 0x05060708, sackBlocks: [100, 200, 300, 400], payload: Uint8Array.of(0xaa, 0xbb, 0xcc) };
    assert.equal(tcpHeaderLength(r), 20 + 12 + 20);
    const out = emitTcp(r, v4Src, v4Dst);
    assert.equal(toHex(out.subarray(20, 52)), '0101080a0102030405060708' + '01010512' + '00000064000000c8' + '0000012c00000190');
    assert.equal(toHex(out.subarray(52)), 'aabbcc');
    assert.equal(out[12] >> 4, 13);
    const back = repr(out);
    assert.deepEqual(back.sackBlocks, [100, 200, 300, 400]);
    assert.equal(back.tsVal, 0x01020304);
    assert.equal(back.tsEcr, 0x05060708);
    assert.equal(verifyTcpChecksum(out, v4Src, v4Dst), true);
  });

  test('SACK-permitted without timestamps is padded as NOP NOP SACKOK', () => {
    const out = emitTcp({ ...base, flags: TcpFlag.SYN, mss: 1380, sackPermitted: true, windowScale: 7 });
    assert.equal(toHex(out.subarray(20)), '02040564' + '01010402' + '01030307');
  });

  test('more than 40 bytes of options is refused with a RangeError', () => {
    const r: TcpRepr = { ...base, mss: 1000, tsVal: 1, tsEcr: 1, sackBlocks: [1, 2, 3, 4, 5, 6, 7, 8] };
    assert.throws(() => emitTcp(r), RangeError);
    assert.throws(() => emitTcpHeader(base, new Uint8Array(10)), RangeError);
  });

  test('sequence numbers above 2^31 survive the round trip as unsigned values', () => {
    const out = emitTcp({ ...base, seq: 0xfffffffe, ack: 0x80000000 });
    const r = repr(out);
    assert.equal(r.seq, 0xfffffffe);
    assert.equal(r.ack, 0x80000000);
  });
});

describe('parsing unusual and malformed headers', () => {
  function withOptions(hexOptions: string, payload = ''): Uint8Array {
    const opts = fromHex(hexOptions);
    const header = new Uint8Array(20 + opts.length);
    header.set(fromHex('04d200500000000100000002' + '00' + '10' + '0064' + '00000000'));
    header[12] = ((20 + opts.length) / 4) << 4;
    header.set(opts, 20);
    const p = fromHex(payload);
    const out = new Uint8Array(header.length + p.length);
    out.set(header);
    out.set(p, header.length);
    return out;
  }

  test('unknown options (MPTCP kind 30, TFO kind 34) are skipped by their length', () => {
    const r = repr(withOptions('1e0400000204059c22040000'));
    assert.equal(r.mss, 1436);
  });

  test('EOL ends option parsing even if bytes follow', () => {
    const r = repr(withOptions('0002040200000000'));
    assert.equal(r.mss, undefined);
  });

  test('a known option with the wrong length is ignored, not fatal', () => {
    const r = repr(withOptions('020305' + '01' + '03040e00'));
    assert.equal(r.mss, undefined);
    assert.equal(r.windowScale, undefined);
  });

  test('a window scale above 14 is treated as 14 (RFC 7323 §2.3)', () => {
    assert.equal(repr(withOptions('01030320')).windowScale, 14);
  });

  test('a SACK option whose length is not 2+8n is ignored', () => {
    assert.equal(repr(withOptions('0101050600000001')).sackBlocks, undefined);
  });

  test('option lengths of 0 or 1, or running past the header, make the segment malformed', () => {
    assert.equal(parseTcp(withOptions('02000000')), 'tcp-bad-option-length');
    assert.equal(parseTcp(withOptions('02010000')), 'tcp-bad-option-length');
    assert.equal(parseTcp(withOptions('01010208')), 'tcp-bad-option-length');
    assert.equal(parseTcp(withOptions('01010102')), 'tcp-bad-option-length');
  });

  test('short buffers and impossible data offsets are reported, not thrown', () => {
    assert.equal(parseTcp(new Uint8Array(19)), 'tcp-truncated');
    const bad = withOptions('');
    bad[12] = 4 << 4;
    assert.equal(parseTcp(bad), 'tcp-bad-data-offset');
    bad[12] = 15 << 4;
    assert.equal(parseTcp(bad), 'tcp-truncated');
    assert.equal(TcpPacket.parse(new Uint8Array(0)), 'tcp-truncated');
  });

  test('the payload is a view after the options, and the urgent pointer is read', () => {
    const seg = withOptions('01010101', 'deadbeef');
    seg[18] = 0;
    seg[19] = 3;
    const p = TcpPacket.parse(seg) as TcpPacket;
    assert.equal(toHex(p.payload), 'deadbeef');
    assert.equal(p.payload.buffer, seg.buffer);
    const r = parseTcpRepr(p) as TcpRepr;
    assert.equal(r.urgentPointer, 3);
  });
});

describe('checksums', () => {
  test('an odd-length payload is padded with a zero byte (RFC 1071) and a flipped bit is caught', () => {
    const seg = emitTcp({ srcPort: 5, dstPort: 6, seq: 7, ack: 8, flags: TcpFlag.ACK | TcpFlag.PSH, window: 9, payload: fromHex('0102030405') }, v6Src, v6Dst);
    assert.equal(verifyTcpChecksum(seg, v6Src, v6Dst), true);
    seg[seg.length - 1] ^= 0x10;
    assert.equal(verifyTcpChecksum(seg, v6Src, v6Dst), false);
    fillTcpChecksum(seg, v6Src, v6Dst);
    assert.equal(verifyTcpChecksum(seg, v6Src, v6Dst), true);
    assert.equal((TcpPacket.parse(seg) as TcpPacket).verifyChecksum(v6Src, v6Dst), true);
  });
});
