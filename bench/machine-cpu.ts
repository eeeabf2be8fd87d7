/**
 * The whole machine's busy CPU time, from the first line of /proc/stat (every core, every process,
 * and the kernel's own softirq work, where the kernel TCP baseline does much of its packet
 * processing and which no process's utime/stime shows).
 *
 *   machineBusyMs() ─▶ transfer ─▶ machineBusyMs() ─▶ difference ÷ MB = machine CPU ms per MB
 *
 * On a machine where the transfer is CPU-bound, MB/s ≈ cores × 1000 ÷ (machine ms per MB), so the
 * ratio of two paths' machine ms per MB bounds the ratio of their throughputs (#19).
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/stat (USER_HZ; 100 on Linux for every architecture we run on). */
const USER_HZ = 100;

/**
 * Busy CPU milliseconds of all cores since boot: user + nice + system + irq + softirq + steal
 * (idle and iowait left out), or undefined where /proc/stat cannot be read.
 */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [label, ...fields] = line.trim().split(/\s+/);
    if (label !== 'cpu' || fields.length < 8) return undefined;
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** Machine CPU ms per MB (10^6 bytes) between two {@link machineBusyMs} readings, or undefined. */
export function machineMsPerMB(before: number | undefined, after: number | undefined, bytes: number): number | undefined {
  if (before === undefined || after === undefined || bytes <= 0) return undefined;
  return (after - before) / (bytes / 1e6);
}
