/** bench/bench-child.ts: CPU accounting by thread, which the browser bench uses to split the renderer's CPU. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadCpu } from '../../bench/bench-child.ts';

test('threadCpu counts the CPU of a process\'s threads by name, the first thread as "main thread"', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  const before = threadCpu('bench driver').get('main thread') ?? 0;
  // Busy until the kernel has charged a clock tick to this thread (bounded; a loaded machine may
  // take a while to give it one).
  const deadline = performance.now() + 20_000;
  let x = 0;
  let after = threadCpu('bench driver');
  while ((after.get('main thread') ?? 0) <= before && performance.now() < deadline) {
    for (let i = 0; i < 1e6; i++) x += Math.sqrt(x + i);
    after = threadCpu('bench driver');
  }
  void x;
  assert.ok((after.get('main thread') ?? 0) > before, `the busy main thread shows up (${[...after].join(' | ')})`);
  assert.equal(threadCpu('no such process kind').size, 0);
});
