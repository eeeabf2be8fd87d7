/**
 * Child processes for benchmarks that measure one process alone (its RSS and CPU from /proc). The
 * `wgweb relay` process itself is harness/relay-process.ts (shared with the tests).
 *
 *   startBenchChild(node args, /ready (.*)/)  →  { pid, match, stop() }
 *   rssKiB(pid) / peakRssKiB(pid) / cpuMs(pid) / openFileLimit()
 *
 * Every child runs under `setpriv --pdeathsig KILL` (which execs, so the pid is the process
 * itself): it dies with the bench even when the bench is killed without cleanup.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BenchChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The `ready` match on the first stdout line that matched. */
  readonly match: RegExpExecArray;
  /** The last few KiB of stderr (for error messages). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Spawns `node ...args` (cwd: the repository) and resolves once a stdout line matches `ready`.
 * @throws {Error} with the child's stderr when it exits first or does not get ready in `timeoutMs`.
 */
export async function startBenchChild(
  args: readonly string[],
  ready: RegExp,
  options: { name?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; onStderrLine?: (line: string) => void } = {},
): Promise<BenchChild> {
  const name = options.name ?? args.join(' ').slice(0, 60);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  if (options.onStderrLine) createInterface({ input: child.stderr! }).on('line', options.onStderrLine);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const match = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not get ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      lines.on('line', (line) => {
        const m = ready.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${child.exitCode}) before it was ready: ${stderr}`));
      });
    });
    // Keep draining stdout so a chatty child never blocks on a full pipe.
    lines.on('line', () => undefined);
    return { process: child, pid: child.pid!, match, stderr: () => stderr, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Resident set size of `pid` now (VmRSS), KiB. */
export function rssKiB(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** The largest RSS `pid` ever had (VmHWM), KiB. */
export function peakRssKiB(pid: number): number {
  return statusField(pid, 'VmHWM');
}

let clockTicks: number | undefined;

/** User + system CPU time `pid` has used so far (/proc/PID/stat utime + stime), ms. */
export function cpuMs(pid: number, statPath = `/proc/${pid}/stat`): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(statPath, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): state is field 3,
  // utime and stime are fields 14 and 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** The soft limit on open files of this process (children inherit it), from /proc/self/limits. */
export function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (!m) return Number.NaN;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** What a process is, for CPU accounting: Chromium's process types, the relay, wireguard-go... */
function processLabel(pid: number): string {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return 'gone';
  }
  const cmd = argv.join(' ');
  const exe = (argv[0] ?? '').split('/').pop() ?? '';
  if (/chrom/.test(exe)) {
    const type = /--type=([\w-]+)/.exec(cmd)?.[1];
    if (!type) return 'chromium browser';
    if (type === 'utility') return /NetworkService|network\.mojom/.test(cmd) ? 'chromium network service' : 'chromium utility';
    return `chromium ${type}`;
  }
  if (/wgweb\.js relay/.test(cmd)) return 'relay';
  if (exe === 'wireguard-go') return 'wireguard-go';
  if (/ns-server\.ts/.test(cmd)) return 'HTTP server';
  return exe || 'unknown';
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** CPU ms used so far by this process and every descendant, by pid (with a label). */
export function descendantCpu(): Map<number, { label: string; cpuMs: number }> {
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  const parent = new Map(pids.map((p) => [p, parentOf(p)]));
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid) ?? -1, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? -1, hops++) if (p === process.pid) return true;
    return false;
  };
  const out = new Map<number, { label: string; cpuMs: number }>();
  for (const pid of pids) {
    if (pid === process.pid) {
      out.set(pid, { label: 'bench driver', cpuMs: cpuMs(pid) });
      continue;
    }
    if (!mine(pid)) continue;
    try {
      out.set(pid, { label: processLabel(pid), cpuMs: cpuMs(pid) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * CPU ms used so far by the threads of the descendant processes labelled `label` (see
 * {@link descendantCpu}), summed by thread name (`/proc/PID/task/TID/comm`, trailing digits
 * dropped, so a pool's threads count together; the process's first thread is "main thread"), e.g.
 * Chromium's renderer: main thread (the page), DedicatedWorker (the tunnel worker), Chrome_ChildIOT
 * (its IO thread), ThreadPoolForeg (its thread pool: crypto.subtle among others), V8 helpers.
 */
export function threadCpu(label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, p] of descendantCpu()) {
    if (p.label !== label) continue;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        // The main thread carries the process's own name: call it what it is.
        const name = tid === String(pid) ? 'main thread' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[\d:/#-]+$/, '') || '?';
        out.set(name, (out.get(name) ?? 0) + cpuMs(Number(tid), `/proc/${pid}/task/${tid}/stat`));
      } catch {
        // exited meanwhile
      }
    }
  }
  return out;
}

/**
 * Share of one core each kind of descendant process used between two {@link descendantCpu}
 * snapshots `ms` apart, largest first, e.g. [["chromium renderer", 87], ["relay", 31], ...].
 */
export function cpuShares(before: Map<number, { label: string; cpuMs: number }>, after: Map<number, { label: string; cpuMs: number }>, ms: number): [string, number][] {
  const byLabel = new Map<string, number>();
  for (const [pid, a] of after) {
    const used = a.cpuMs - (before.get(pid)?.cpuMs ?? 0);
    byLabel.set(a.label, (byLabel.get(a.label) ?? 0) + used);
  }
  return [...byLabel]
    .map(([label, used]): [string, number] => [label, (100 * used) / ms])
    .filter(([, pct]) => pct >= 0.5)
    .sort((a, b) => b[1] - a[1]);
}
