import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatAgo, formatClock, formatDuration, formatMs, relayRttText } from '../../src/shared/format-time.ts';

describe('formatDuration reads like wg show, in short units', () => {
  const table: [number, string][] = [
    [0, '0 s'],
    [999, '0 s'],
    [12_000, '12 s'],
    [60_000, '1 min'],
    [65_000, '1 min 5 s'],
    [3_600_000, '1 h'],
    [2 * 3_600_000 + 3 * 60_000 + 59_000, '2 h 3 min'],
    [86_400_000, '1 d'],
    [3 * 86_400_000 + 4 * 3_600_000, '3 d 4 h'],
    [-5_000, '0 s'],
  ];
  for (const [ms, text] of table) test(`${ms} ms is "${text}"`, () => assert.equal(formatDuration(ms), text));
  test('non-finite is a dash', () => assert.equal(formatDuration(NaN), '—'));
});

describe('formatAgo', () => {
  const now = 1_700_000_000_000;
  test('12 seconds ago is "12 s ago"', () => assert.equal(formatAgo(now - 12_000, now), '12 s ago'));
  test('a minute and a bit', () => assert.equal(formatAgo(now - 61_500, now), '1 min 1 s ago'));
  test('no handshake yet is "never"', () => {
    assert.equal(formatAgo(undefined, now), 'never');
    assert.equal(formatAgo(0, now), 'never');
  });
  test('under a second, or in the future (clock skew), is "just now"', () => {
    assert.equal(formatAgo(now - 400, now), 'just now');
    assert.equal(formatAgo(now + 3_000, now), 'just now');
  });
});

describe('formatMs keeps about three significant digits', () => {
  const table: [number | undefined, string][] = [
    [0.4211, '0.42 ms'],
    [12.34, '12.3 ms'],
    [142.6, '143 ms'],
    [1240, '1.24 s'],
    [12_400, '12.4 s'],
    [undefined, '—'],
  ];
  for (const [ms, text] of table) test(`${ms} is "${text}"`, () => assert.equal(formatMs(ms), text));
});

test('formatClock is local HH:MM:SS', () => {
  assert.equal(formatClock(new Date(2024, 0, 2, 3, 4, 5).getTime()), '03:04:05');
});

test('relayRttText estimates the relay RTT from the WebSocket open time: two round trips for ws, three for wss (TLS 1.3)', () => {
  assert.equal(relayRttText('http://127.0.0.1:8080/', 12), '≈ 6.0 ms (WebSocket opened in 12 ms, 2 round trips)');
  assert.equal(relayRttText('wss://relay.example/', 90), '≈ 30 ms (WebSocket opened in 90 ms, 3 round trips)');
});
