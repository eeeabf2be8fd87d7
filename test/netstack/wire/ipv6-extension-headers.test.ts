import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { walkIpv6Extensions } from '../../../src/netstack/wire/ipv6-extension-headers.ts';

// Chains are written after a 40-byte stand-in for the fixed header, whose Next Header (byte 6)
// names the first extension header. Each header below is hand-assembled per RFC 8200 §4.
function packet(first: number, ...headers: number[][]): Uint8Array {
  const body = headers.flat();
  const b = new Uint8Array(40 + body.length);
  b[0] = 0x60;
  b[4] = body.length >> 8;
  b[5] = body.length & 0xff;
  b[6] = first;
  b.set(body, 40);
  return b;
}

const UDP_HEADER = [0x12, 0x34, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00];
// Hop-by-Hop, next = Destination Options (60), 8 bytes: Router Alert (type 5, action 00) + PadN(0).
const HOP_BY_HOP = [60, 0, 5, 2, 0, 0, 1, 0];
// Destination Options, next = UDP, 8 bytes: PadN of 4 + Pad1 + Pad1.
const DEST_OPTS_TO_UDP = [17, 0, 1, 2, 0, 0, 0, 0];
const walk = (b: Uint8Array) => walkIpv6Extensions(b, 40, b[6], 6, true);

describe('walkIpv6Extensions', () => {
  test('with no extension header, the upper layer starts at 40', () => {
    assert.deepEqual(walk(packet(17, UDP_HEADER)), { ok: true, value: { protocol: 17, offset: 40, protocolField: 6 } });
  });

  test('skips Hop-by-Hop then Destination Options to reach UDP, pointing at the last Next Header byte', () => {
    assert.deepEqual(walk(packet(0, HOP_BY_HOP, DEST_OPTS_TO_UDP, UDP_HEADER)), { ok: true, value: { protocol: 17, offset: 56, protocolField: 48 } });
  });

  test('rejects Hop-by-Hop anywhere but first (RFC 8200 §4.1)', () => {
    const destToHbh = [0, 0, 1, 4, 0, 0, 0, 0];
    assert.deepEqual(walk(packet(60, destToHbh, [17, 0, 1, 4, 0, 0, 0, 0], UDP_HEADER)), { ok: false, reason: 'misplaced-hop-by-hop' });
  });

  test('skips an unknown option whose action bits are 00', () => {
    assert.ok(walk(packet(60, [17, 0, 0x1e, 2, 0xaa, 0xbb, 1, 0], UDP_HEADER)).ok);
  });

  test('discards on an unknown option whose action bits ask for it (01, 10, 11)', () => {
    for (const type of [0x5e, 0x9e, 0xde]) {
      assert.deepEqual(walk(packet(60, [17, 0, type, 2, 0, 0, 1, 0], UDP_HEADER)), { ok: false, reason: 'unknown-option' }, type.toString(16));
    }
  });

  test('discards the jumbo payload option (0xC2): jumbograms are not supported', () => {
    assert.deepEqual(walk(packet(0, [17, 0, 0xc2, 4, 0, 1, 0, 0], UDP_HEADER)), { ok: false, reason: 'unknown-option' });
  });

  test('rejects an option that runs past its header', () => {
    assert.deepEqual(walk(packet(60, [17, 0, 1, 9, 0, 0, 0, 0], UDP_HEADER)), { ok: false, reason: 'bad-option' });
    assert.deepEqual(walk(packet(60, [17, 0, 0, 0, 0, 0, 0, 5], UDP_HEADER)), { ok: false, reason: 'bad-option' });
  });

  test('skips a Routing header whose Segments Left is 0', () => {
    assert.deepEqual(walk(packet(43, [17, 0, 4, 0, 0, 0, 0, 0], UDP_HEADER)), { ok: true, value: { protocol: 17, offset: 48, protocolField: 40 } });
  });

  test('discards a Routing header with segments left: a host does not forward', () => {
    assert.deepEqual(walk(packet(43, [17, 2, 0, 1, 0, 0, 0, 0, ...new Array(16).fill(0)], UDP_HEADER)), { ok: false, reason: 'routing-header' });
  });

  test('skips AH by its 4-octet length units (RFC 4302 §2.2)', () => {
    // Payload Len 4 -> (4 + 2) * 4 = 24 bytes.
    const ah = [17, 4, 0, 0, ...new Array(20).fill(0xab)];
    assert.deepEqual(walk(packet(51, ah, UDP_HEADER)), { ok: true, value: { protocol: 17, offset: 64, protocolField: 40 } });
  });

  test('stops at a Fragment header and reports offset, M flag and identification', () => {
    const frag = [17, 0, 0x05, 0x79, 0xde, 0xad, 0xbe, 0xef]; // offset 0x578 = 1400, M = 1
    const r = walk(packet(0, [44, 0, 1, 4, 0, 0, 0, 0], frag, UDP_HEADER));
    assert.deepEqual(r, {
      ok: true,
      value: { protocol: 17, offset: 56, protocolField: 48, fragment: { headerOffset: 48, fragmentOffset: 1400, moreFragments: true, identification: 0xdeadbeef } },
    });
  });

  test('treats ESP and No Next Header as the upper layer', () => {
    assert.equal(walk(packet(50, [0, 0, 0, 1])).ok && walk(packet(50, [0, 0, 0, 1])).ok, true);
    const r = walk(packet(60, [59, 0, 1, 4, 0, 0, 0, 0]));
    assert.ok(r.ok);
    assert.equal(r.value.protocol, 59);
  });

  test('every header cut short is truncated, never an exception', () => {
    const full = packet(0, HOP_BY_HOP, DEST_OPTS_TO_UDP, UDP_HEADER);
    for (let end = 40; end < 56; end++) {
      const r = walkIpv6Extensions(full, 40, 0, 6, true, end);
      assert.deepEqual(r, { ok: false, reason: 'truncated' }, `end ${end}`);
    }
    for (const nh of [43, 44, 51]) assert.deepEqual(walkIpv6Extensions(packet(nh, [17]), 40, nh, 6, true), { ok: false, reason: 'truncated' });
  });
});
