import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NoneOpener,
  NoneSealer,
  cipherKeySizes,
  createOpener,
  createSealer,
  isAead,
  openerAlignment,
  SUPPORTED_CIPHERS,
  SUPPORTED_MACS,
  type DirectionKeys,
} from '../../../src/protocols/ssh/ssh-packet-cipher.ts';

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

function keysFor(cipher: string, mac: string): DirectionKeys {
  const s = cipherKeySizes(cipher, mac);
  return { cipher, mac: isAead(cipher) ? '' : mac, key: random(s.key), iv: random(s.iv), macKey: random(s.macKey) };
}

/** Opens `wire` as the client's reader does: length first, then the whole packet. */
function open(opener: ReturnType<typeof createOpener>, seq: number, wire: Uint8Array): Uint8Array | null {
  const len = opener.packetLength(seq, wire);
  assert.equal(wire.length, 4 + len + opener.macLength);
  const plain = opener.open(seq, wire);
  if (!plain) return null;
  return plain.subarray(1, plain.length - plain[0]!);
}

const combos: [string, string][] = [];
for (const c of SUPPORTED_CIPHERS) {
  if (isAead(c)) combos.push([c, '']);
  else for (const m of SUPPORTED_MACS) combos.push([c, m]);
}

describe('SSH binary packet protection (RFC 4253 §6)', () => {
  for (const [cipher, mac] of combos) {
    test(`${cipher}${mac ? ' + ' + mac : ''}: packets round-trip in sequence, aligned, and a flipped bit fails the check`, () => {
      const keys = keysFor(cipher, mac);
      const sealer = createSealer(keys, random);
      const opener = createOpener(keys);
      const { block, lengthIncluded } = openerAlignment(keys);
      for (let seq = 0; seq < 40; seq++) {
        const payload = random(seq * 37);
        payload[0] = 94;
        const wire = sealer.seal(seq, payload);
        const plainLength = wire.length - opener.macLength;
        assert.equal((plainLength - (lengthIncluded ? 0 : 4)) % block, 0, 'aligned to the block size');
        assert.deepEqual(open(opener, seq, wire), payload);
      }
      // A second pair with the same keys: a tampered packet is refused (null), never thrown.
      const s2 = createSealer(keys, random);
      const o2 = createOpener(keys);
      const wire = s2.seal(0, Uint8Array.of(2, 1, 2, 3));
      wire[wire.length - opener.macLength - 1]! ^= 1;
      assert.equal(open(o2, 0, wire), null);
    });
  }

  test('a sequence number mismatch fails chacha20-poly1305 and the MACs (the Terrapin countermeasure relies on it)', () => {
    for (const [cipher, mac] of [['chacha20-poly1305@openssh.com', ''], ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com']] as const) {
      const keys = keysFor(cipher, mac);
      const wire = createSealer(keys, random).seal(5, Uint8Array.of(94, 1));
      assert.equal(createOpener(keys).open(6, wire), null, cipher);
      assert.notEqual(createOpener(keys).open(5, wire), null, cipher);
    }
  });

  test('before NEWKEYS: 8-byte alignment including the length, at least 4 bytes of padding, no MAC', () => {
    const sealer = new NoneSealer(random);
    for (let n = 1; n < 30; n++) {
      const wire = sealer.seal(0, new Uint8Array(n).fill(20));
      assert.equal(wire.length % 8, 0);
      assert.ok(wire[4]! >= 4);
      assert.deepEqual(open(new NoneOpener(), 0, wire), new Uint8Array(n).fill(20));
    }
  });
});
