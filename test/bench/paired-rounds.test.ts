/**
 * bench/paired-rounds.ts: the run order of interleaved kernel/browser pairs and what a table row
 * reports from them (the median of the pairs' ratios, its spread, the median rates).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPairSummary, median, pairOrder, summarizePairs } from '../../bench/paired-rounds.ts';

describe('pairOrder', () => {
  test('alternates which side runs first, starting with the baseline', () => {
    assert.deepEqual(pairOrder(4), [
      ['baseline', 'ours'],
      ['ours', 'baseline'],
      ['baseline', 'ours'],
      ['ours', 'baseline'],
    ]);
  });

  test('every pair runs both sides once', () => {
    for (const pair of pairOrder(5)) assert.deepEqual([...pair].sort(), ['baseline', 'ours']);
  });

  test('refuses a count that is not a positive integer', () => {
    assert.throws(() => pairOrder(0), RangeError);
    assert.throws(() => pairOrder(2.5), RangeError);
  });
});

describe('median', () => {
  test('is the middle value of an odd count and the mean of the middle two of an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  test('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    assert.deepEqual(values, [3, 1, 2]);
  });

  test('of no values is a RangeError', () => {
    assert.throws(() => median([]), RangeError);
  });
});

describe('summarizePairs', () => {
  const pairs = [
    { ours: 20, baseline: 40 }, // 0.5
    { ours: 30, baseline: 40 }, // 0.75
    { ours: 18, baseline: 30 }, // 0.6
  ];

  test('the ratio is the median of the pairs ratios, not the ratio of the medians', () => {
    const s = summarizePairs(pairs);
    assert.deepEqual(s.ratios, [0.5, 0.75, 0.6]);
    assert.equal(s.ratio, 0.6);
    // The medians of the rates (20 and 40) would give 0.5.
    assert.equal(s.ours, 20);
    assert.equal(s.baseline, 40);
  });

  test('reports the spread and which pair is the median one', () => {
    const s = summarizePairs(pairs);
    assert.equal(s.minRatio, 0.5);
    assert.equal(s.maxRatio, 0.75);
    assert.equal(s.medianPair, 2);
  });

  test('with an even count the median pair is one of the middle two (the first of them in run order)', () => {
    const s = summarizePairs([...pairs, { ours: 10, baseline: 10 }]);
    assert.equal(s.ratio, (0.6 + 0.75) / 2);
    assert.equal(s.medianPair, 1);
  });

  test('refuses no pairs and a baseline that is not positive', () => {
    assert.throws(() => summarizePairs([]), RangeError);
    assert.throws(() => summarizePairs([{ ours: 1, baseline: 0 }]), RangeError);
    assert.throws(() => summarizePairs([{ ours: Number.NaN, baseline: 1 }]), RangeError);
  });

  test('formats as the median ratio, its range and every pair', () => {
    assert.equal(formatPairSummary(summarizePairs(pairs)), '0.60 (0.50–0.75 over 3 pairs: 0.50, 0.75, 0.60)');
  });
});
