/**
 * bench/machine-cpu.ts: reading /proc/stat's aggregate line and splitting the cores' time between
 * two readings (is a transfer CPU-bound, did the hypervisor take time).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSplit, formatCpuSplit, machineBusyMs, machineCpuTimes, parseProcStatCpu } from '../../bench/machine-cpu.ts';

describe('parseProcStatCpu', () => {
  test('reads the eight first fields of the cpu line in ms (USER_HZ 100)', () => {
    assert.deepEqual(parseProcStatCpu('cpu  100 2 30 400 5 0 7 1 0 0'), {
      user: 1000,
      nice: 20,
      system: 300,
      idle: 4000,
      iowait: 50,
      irq: 0,
      softirq: 70,
      steal: 10,
    });
  });

  test('is undefined for a per-core line or a short one', () => {
    assert.equal(parseProcStatCpu('cpu0 1 2 3 4 5 6 7 8'), undefined);
    assert.equal(parseProcStatCpu('cpu 1 2 3'), undefined);
  });
});

describe('cpuSplit', () => {
  const before = parseProcStatCpu('cpu 100 0 100 100 0 0 0 0')!;

  test('gives each kind of time its share of all cores time in between', () => {
    // +60 user, +10 nice, +20 system, +5 irq, +30 softirq, +15 steal, +50 idle, +10 iowait = 200 ticks.
    const after = parseProcStatCpu('cpu 160 10 120 150 10 5 30 15')!;
    assert.deepEqual(cpuSplit(before, after), { user: 35, system: 12.5, softirq: 15, steal: 7.5, idle: 30 });
  });

  test('is undefined without a reading or without time passing', () => {
    assert.equal(cpuSplit(undefined, before), undefined);
    assert.equal(cpuSplit(before, before), undefined);
    assert.equal(formatCpuSplit(undefined), 'cpu split not read');
  });

  test('the live readings agree with the busy total', () => {
    const t = machineCpuTimes();
    const busy = machineBusyMs();
    if (!t || busy === undefined) return; // no /proc/stat here
    assert.ok(busy >= t.user + t.system);
  });
});
