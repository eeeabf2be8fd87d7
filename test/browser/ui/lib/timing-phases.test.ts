import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timingPhases, timingTotal } from '../../../../src/browser/ui/lib/timing-phases.ts';
import type { FetchTiming } from '../../../../src/browser/worker/tunnel-api.ts';

const base: FetchTiming = { url: 'http://h/', method: 'GET', reusedConnection: false, retried: false, startTime: 1000, bodyBytes: 10, outcome: 'complete' };

test('a fresh connection has DNS, connect, send, wait and download, back to back', () => {
  const phases = timingPhases({ ...base, dnsStart: 0, dnsEnd: 5, connectStart: 5, connectEnd: 25, requestSent: 26, firstByte: 60, done: 80 });
  assert.deepEqual(
    phases.map((p) => [p.id, p.start, p.end]),
    [
      ['dns', 0, 5],
      ['connect', 5, 25],
      ['send', 25, 26],
      ['wait', 26, 60],
      ['download', 60, 80],
    ],
  );
});

test('a reused keep-alive connection starts sending at 0 and has no DNS or connect', () => {
  const phases = timingPhases({ ...base, reusedConnection: true, requestSent: 1, firstByte: 9, done: 10 });
  assert.deepEqual(phases.map((p) => p.id), ['send', 'wait', 'download']);
  assert.equal(phases[0].start, 0);
});

test('an exchange that failed before the first byte stops at the last mark', () => {
  const t = { ...base, outcome: 'error' as const, dnsStart: 0, dnsEnd: 2, connectStart: 2 };
  assert.deepEqual(timingPhases(t).map((p) => p.id), ['dns']);
  assert.equal(timingTotal(t), undefined);
});
