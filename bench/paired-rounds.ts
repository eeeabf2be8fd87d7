/**
 * Interleaved rounds of two transfers (ours and a baseline) on a shared machine, and what they
 * summarise to (#19: "same run, same machine", run at least three times and report the spread).
 *
 *   pairOrder(n) ─▶ for each pair: run both sides back to back, the order alternating
 *                   (baseline-ours, ours-baseline, …: a load that rises or falls through the run
 *                   favours neither side over two pairs)
 *   summarizePairs(pairs) ─▶ each pair's ratio ours/baseline; the median ratio and its min–max;
 *                   the median rate of each side
 *
 * The ratio of a pair compares two transfers a few seconds apart; the median of the pairs' ratios
 * is what a table row reports, the min–max how far one pair can be from it.
 */

/** Which side runs first in each pair. */
export type Side = 'baseline' | 'ours';

/** The run order of `pairs` pairs: [baseline, ours], [ours, baseline], [baseline, ours], … */
export function pairOrder(pairs: number): [Side, Side][] {
  if (!Number.isSafeInteger(pairs) || pairs < 1) throw new RangeError(`pairs must be a positive integer, got ${pairs}`);
  return Array.from({ length: pairs }, (_, i): [Side, Side] => (i % 2 === 0 ? ['baseline', 'ours'] : ['ours', 'baseline']));
}

/** The median (the mean of the middle two for an even count). @throws {RangeError} on no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One pair's figures: rates (higher is better) of the two sides. */
export interface PairRates {
  readonly ours: number;
  readonly baseline: number;
}

export interface PairSummary {
  /** ours ÷ baseline of each pair, in run order. */
  readonly ratios: number[];
  /** The median of {@link ratios}: the table row's ratio. */
  readonly ratio: number;
  readonly minRatio: number;
  readonly maxRatio: number;
  /** The median of each side's rates (the row's value and baseline). */
  readonly ours: number;
  readonly baseline: number;
  /** Index of the pair whose ratio is closest to the median (its notes describe the row). */
  readonly medianPair: number;
}

/** Summarises pairs of rates. @throws {RangeError} on no pairs or a baseline that is not > 0. */
export function summarizePairs(pairs: readonly PairRates[]): PairSummary {
  if (pairs.length === 0) throw new RangeError('no pairs to summarize');
  for (const p of pairs) if (!(p.baseline > 0) || !(p.ours >= 0)) throw new RangeError(`a pair needs a baseline > 0 and ours ≥ 0, got ${JSON.stringify(p)}`);
  const ratios = pairs.map((p) => p.ours / p.baseline);
  const ratio = median(ratios);
  let medianPair = 0;
  ratios.forEach((r, i) => {
    if (Math.abs(r - ratio) < Math.abs(ratios[medianPair]! - ratio)) medianPair = i;
  });
  return {
    ratios,
    ratio,
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    ours: median(pairs.map((p) => p.ours)),
    baseline: median(pairs.map((p) => p.baseline)),
    medianPair,
  };
}

/** "0.71 (0.55–0.80 over 3 pairs: 0.71, 0.55, 0.80)" */
export function formatPairSummary(s: PairSummary): string {
  const f = (r: number): string => r.toFixed(2);
  return `${f(s.ratio)} (${f(s.minRatio)}–${f(s.maxRatio)} over ${s.ratios.length} pairs: ${s.ratios.map(f).join(', ')})`;
}
