import { pathToFileURL } from 'node:url';

/**
 * One row of the benchmark report: our figure next to a baseline measured in the same run,
 * reported as a ratio so it stays meaningful on a noisy shared machine.
 */
export interface BenchFigure {
  /** What produced the figure, e.g. "wgweb Tunnel" or "@noble/ciphers chacha20poly1305". */
  readonly label: string;
  readonly value: number;
  /** e.g. "MB/s", "ms", "datagrams/s", "KiB". */
  readonly unit: string;
}

export interface BenchEntry {
  /** Stable identifier, e.g. "crypto.transport-1420". */
  readonly name: string;
  /** One sentence: what was measured and how. */
  readonly measured: string;
  readonly ours: BenchFigure;
  /** Missing only where no baseline is meaningful (e.g. bundle size). */
  readonly baseline?: BenchFigure;
  /**
   * ours/baseline, oriented so that bigger is better for us (for "lower is better" units such as
   * ms the bench computes baseline/ours). Absent without a baseline.
   */
  readonly ratio?: number;
  /** The goal in words, e.g. "ratio ≥ 0.8". */
  readonly goal?: string;
  /** Free-form notes (limits, what dominated). */
  readonly notes?: string;
}

/** Options every bench module receives. */
export interface BenchOptions {
  /** `--quick`: fewer iterations, smaller transfers (the whole suite then runs in under 2 minutes). */
  readonly quick: boolean;
}

/** A bench module: `export const bench: BenchModule`. */
export interface BenchModule {
  readonly title: string;
  run(options: BenchOptions): Promise<BenchEntry[]>;
}

/** ratio for "higher is better" figures. */
export function higherIsBetter(ours: number, baseline: number): number {
  return baseline === 0 ? 0 : ours / baseline;
}

/** ratio for "lower is better" figures (times, bytes). */
export function lowerIsBetter(ours: number, baseline: number): number {
  return ours === 0 ? 0 : baseline / ours;
}

/** One console line for an entry: figure, baseline, ratio, goal and notes. */
export function formatEntry(e: BenchEntry): string {
  const base = e.baseline ? `  baseline ${e.baseline.value.toFixed(3)} ${e.baseline.unit} (${e.baseline.label})` : '';
  const ratio = e.ratio !== undefined ? `  ratio ${e.ratio.toFixed(2)}` : '';
  const goal = e.goal ? `  goal ${e.goal}` : '';
  return `${e.name}: ${e.ours.value.toFixed(3)} ${e.ours.unit}${base}${ratio}${goal}${e.notes ? `  [${e.notes}]` : ''}`;
}

/**
 * Runs a bench module when its file is the process's entry point
 * (`node --import tsx bench/NAME.ts [--quick]`), printing one line per entry; a failure sets exit code 1.
 */
export function runWhenMain(moduleUrl: string, run: (options: BenchOptions) => Promise<BenchEntry[]>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  run({ quick: process.argv.includes('--quick') }).then(
    (entries) => {
      for (const e of entries) console.log(formatEntry(e));
    },
    (e: Error) => {
      console.error(e.stack ?? e.message);
      process.exitCode = 1;
    },
  );
}

/** Runs cleanup steps newest first; one that fails does not stop the others. */
export async function runCleanups(cleanups: ReadonlyArray<() => unknown>): Promise<void> {
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn();
    } catch {
      // keep going: the remaining namespaces and processes still need to go
    }
  }
}
