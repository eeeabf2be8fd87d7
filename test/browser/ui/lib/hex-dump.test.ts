import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexDump } from '../../../../src/browser/ui/lib/hex-dump.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('lays out like hexdump -C: offset, two groups of eight, ASCII column, final offset', () => {
  const { text, truncated } = hexDump(enc('HTTP/1.1 200 OK\r\nServer: x\r\n'));
  assert.equal(
    text,
    [
      '00000000  48 54 54 50 2f 31 2e 31  20 32 30 30 20 4f 4b 0d  |HTTP/1.1 200 OK.|',
      '00000010  0a 53 65 72 76 65 72 3a  20 78 0d 0a              |.Server: x..|',
      '0000001c',
    ].join('\n'),
  );
  assert.equal(truncated, false);
});

test('non-printable bytes show as dots', () => {
  assert.match(hexDump(new Uint8Array([0, 0x7f, 0x80, 0xff, 0x41])).text, /\|\.\.\.\.A\|/);
});

test('an empty body is just the zero offset', () => assert.equal(hexDump(new Uint8Array()).text, '00000000'));

test('stops at maxBytes and says so', () => {
  const { text, truncated } = hexDump(new Uint8Array(100), 32);
  assert.equal(truncated, true);
  assert.equal(text.split('\n').length, 3);
  assert.equal(text.split('\n')[2], '00000020');
});

test('rejects a negative limit', () => assert.throws(() => hexDump(new Uint8Array(1), -1), RangeError));
