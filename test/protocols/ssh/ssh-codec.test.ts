import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SshDecodeError, SshReader, SshWriter, bigintToBytes, bytesToBigint } from '../../../src/protocols/ssh/ssh-codec.ts';
import { toHex } from '../../../src/shared/bytes.ts';

describe('SSH data types (RFC 4251 §5)', () => {
  test('mpints encode as the RFC\'s examples: 0, 9a378f9b2e332a7, 80, -1234 is refused', () => {
    assert.equal(toHex(new SshWriter().mpint(0n).finish()), '00000000');
    assert.equal(toHex(new SshWriter().mpint(0x9a378f9b2e332a7n).finish()), '0000000809a378f9b2e332a7');
    assert.equal(toHex(new SshWriter().mpint(0x80n).finish()), '000000020080');
    assert.throws(() => new SshWriter().mpint(-1234n), RangeError);
  });

  test('an unsigned byte string becomes a minimal mpint (leading zeros stripped, sign byte added)', () => {
    assert.equal(toHex(new SshWriter().mpintFromUnsigned(Uint8Array.of(0, 0, 0x80, 1)).finish()), '00000003008001');
    assert.equal(toHex(new SshWriter().mpintFromUnsigned(Uint8Array.of(0, 0x7f)).finish()), '000000017f');
  });

  test('name-lists: empty, one name, several (RFC 4251 §5 examples)', () => {
    assert.equal(toHex(new SshWriter().nameList([]).finish()), '00000000');
    assert.equal(toHex(new SshWriter().nameList(['zlib']).finish()), '000000047a6c6962');
    assert.equal(toHex(new SshWriter().nameList(['zlib', 'none']).finish()), '000000097a6c69622c6e6f6e65');
    assert.deepEqual(new SshReader(new SshWriter().nameList(['a', 'b']).finish()).nameList(), ['a', 'b']);
  });

  test('reading round-trips what was written', () => {
    const w = new SshWriter(2).byte(7).boolean(true).uint32(0xdeadbeef).uint64(0x0102030405060708n).string('grüße').mpint(0x80n);
    const r = new SshReader(w.finish());
    assert.equal(r.byte(), 7);
    assert.equal(r.boolean(), true);
    assert.equal(r.uint32(), 0xdeadbeef);
    assert.equal(r.uint64(), 0x0102030405060708n);
    assert.equal(r.text(), 'grüße');
    assert.equal(r.mpint(), 0x80n);
    assert.equal(r.remaining, 0);
  });

  test('a length field longer than the payload is a decode error, not an out-of-bounds read', () => {
    assert.throws(() => new SshReader(Uint8Array.of(0, 0, 0, 9, 1, 2)).string(), SshDecodeError);
    assert.throws(() => new SshReader(Uint8Array.of(0, 0)).uint32(), SshDecodeError);
    assert.throws(() => new SshReader(Uint8Array.of(0, 0, 0, 1, 0x80)).mpint(), SshDecodeError, 'negative mpint');
  });

  test('bigints convert to fixed-length bytes and back', () => {
    assert.equal(toHex(bigintToBytes(0x1234n, 4)), '00001234');
    assert.equal(bytesToBigint(Uint8Array.of(0, 0x12, 0x34)), 0x1234n);
    assert.throws(() => bigintToBytes(0x10000n, 2), RangeError);
  });
});
