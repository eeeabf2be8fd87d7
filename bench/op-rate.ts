/**
 * Operations per second of a function in a tight loop, for the CPU micro-benchmarks
 * (bench/wireguard-bench.ts in Node, bench/browser-js-probe-entry.ts in Node and a Chromium worker).
 * Imports nothing, so it bundles into a browser worker as it is.
 */

/** Runs `fn` repeatedly for about `ms` milliseconds after `warmup` calls; returns operations per second. */
export function rate(fn: () => void, ms: number, warmup = 50): number {
  // Warm up so the JIT has compiled the path before timing starts.
  for (let i = 0; i < warmup; i++) fn();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 64; i++) fn();
    ops += 64;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (ops * 1000) / elapsed;
}

/** Alternates the candidates for `rounds` rounds and keeps each one's best rate. */
export function bestOf(candidates: (() => void)[], rounds: number, ms: number): number[] {
  const best = candidates.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    candidates.forEach((fn, i) => {
      best[i] = Math.max(best[i], rate(fn, ms));
    });
  }
  return best;
}
