import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBitrate, formatBytes } from '../../src/shared/format-bytes.ts';

const table: [number, string][] = [
  [0, '0 B'],
  [1023, '1023 B'],
  [1024, '1.00 KiB'],
  [1240, '1.21 KiB'],
  [3.4 * 1024 * 1024, '3.40 MiB'],
  [5 * 1024 ** 3, '5.00 GiB'],
  [2 * 1024 ** 6, '2048.00 PiB'],
  [-1, '—'],
  [NaN, '—'],
];
for (const [n, text] of table) test(`${n} bytes is "${text}"`, () => assert.equal(formatBytes(n), text));

const rates: [number, string][] = [
  [0, '0 bit/s'],
  [999, '999 bit/s'],
  [1000, '1.00 kbit/s'],
  [76_123_456, '76.1 Mbit/s'],
  [1_500_000_000, '1.50 Gbit/s'],
  [-1, '—'],
  [Infinity, '—'],
];
for (const [bps, text] of rates) test(`${bps} bit/s is "${text}" (decimal units, as iperf3 prints them)`, () => assert.equal(formatBitrate(bps), text));
