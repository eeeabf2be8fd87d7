/**
 * The whole machine's CPU time, from the first line of /proc/stat (every core, every process,
 * and the kernel's own softirq work, where the kernel TCP baseline does much of its packet
 * processing and which no process's utime/stime shows).
 *
 *   machineBusyMs() ─▶ transfer ─▶ machineBusyMs() ─▶ difference ÷ MB = machine CPU ms per MB
 *   machineCpuTimes() ─▶ transfer ─▶ machineCpuTimes() ─▶ cpuSplit(): where the cores' time went
 *                                                         (user, system, softirq, steal, idle, …)
 *
 * On a machine where the transfer is CPU-bound, MB/s ≈ cores × 1000 ÷ (machine ms per MB), so the
 * ratio of two paths' machine ms per MB bounds the ratio of their throughputs (#19). The split says
 * whether a transfer was CPU-bound at all (idle near 0) and whether the hypervisor took time (steal).
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/stat (USER_HZ; 100 on Linux for every architecture we run on). */
const USER_HZ = 100;

/** The first line of /proc/stat in ms, all cores summed (proc(5); guest time is inside user). */
export interface MachineCpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

const FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Parses the aggregate `cpu` line of /proc/stat; undefined when it is not one. */
export function parseProcStatCpu(line: string): MachineCpuTimes | undefined {
  const [label, ...fields] = line.trim().split(/\s+/);
  if (label !== 'cpu' || fields.length < FIELDS.length) return undefined;
  const out: Record<string, number> = {};
  FIELDS.forEach((name, i) => (out[name] = (Number(fields[i]) * 1000) / USER_HZ));
  return out as unknown as MachineCpuTimes;
}

/** All cores' CPU times since boot, or undefined where /proc/stat cannot be read. */
export function machineCpuTimes(): MachineCpuTimes | undefined {
  try {
    return parseProcStatCpu(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!);
  } catch {
    return undefined;
  }
}

/** Busy time: user + nice + system + irq + softirq + steal (idle and iowait left out). */
function busy(t: MachineCpuTimes): number {
  return t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
}

/**
 * Busy CPU milliseconds of all cores since boot: user + nice + system + irq + softirq + steal
 * (idle and iowait left out), or undefined where /proc/stat cannot be read.
 */
export function machineBusyMs(): number | undefined {
  const t = machineCpuTimes();
  return t && busy(t);
}

/** Machine CPU ms per MB (10^6 bytes) between two {@link machineBusyMs} readings, or undefined. */
export function machineMsPerMB(before: number | undefined, after: number | undefined, bytes: number): number | undefined {
  if (before === undefined || after === undefined || bytes <= 0) return undefined;
  return (after - before) / (bytes / 1e6);
}

/** Where all cores' time went between two readings, % of the total (all fields sum to 100). */
export interface CpuSplit {
  /** user + nice */
  readonly user: number;
  /** system + irq */
  readonly system: number;
  readonly softirq: number;
  readonly steal: number;
  /** idle + iowait: time no runnable work used (a transfer that leaves it is not CPU-bound). */
  readonly idle: number;
}

/** The split of the cores' time between two {@link machineCpuTimes} readings, or undefined. */
export function cpuSplit(before: MachineCpuTimes | undefined, after: MachineCpuTimes | undefined): CpuSplit | undefined {
  if (!before || !after) return undefined;
  const d = (k: keyof MachineCpuTimes): number => after[k] - before[k];
  const total = FIELDS.reduce((s, k) => s + d(k), 0);
  if (total <= 0) return undefined;
  const pct = (ms: number): number => (100 * ms) / total;
  return {
    user: pct(d('user') + d('nice')),
    system: pct(d('system') + d('irq')),
    softirq: pct(d('softirq')),
    steal: pct(d('steal')),
    idle: pct(d('idle') + d('iowait')),
  };
}

/** "user 61, system 22, softirq 9, steal 0, idle 8 %" */
export function formatCpuSplit(s: CpuSplit | undefined): string {
  if (!s) return 'cpu split not read';
  return `user ${s.user.toFixed(0)}, system ${s.system.toFixed(0)}, softirq ${s.softirq.toFixed(0)}, steal ${s.steal.toFixed(0)}, idle ${s.idle.toFixed(0)} %`;
}
