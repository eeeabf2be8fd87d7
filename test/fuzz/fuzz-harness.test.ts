/** The fuzz harness itself: inputs are a pure function of (seed, index), and failures say how to replay. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FuzzFailure, fuzzInput, mutate, Rng, runFuzz, toHex, type FuzzTarget } from '../helpers/fuzz.ts';

const target: FuzzTarget = {
  corpus: [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
  generate: (rng) => rng.bytes(rng.size(40)),
  check() {},
};

describe('fuzz harness', () => {
  test('the same seed and index give the same input; another index gives others', () => {
    const a = fuzzInput(target, 't', 42, 7).input;
    assert.deepEqual(fuzzInput(target, 't', 42, 7).input, a);
    const others = new Set(Array.from({ length: 50 }, (_, i) => toHex(fuzzInput(target, 't', 42, i).input)));
    assert.ok(others.size > 25, `inputs vary (${others.size} distinct of 50)`);
  });

  test('mutations never modify their input and respect the length cap', () => {
    const rng = new Rng(1);
    const input = Uint8Array.of(9, 9, 9, 9);
    for (let i = 0; i < 2000; i++) assert.ok(mutate(rng, input, Uint8Array.of(1, 2, 3), 16).length <= 16);
    assert.deepEqual(input, Uint8Array.of(9, 9, 9, 9));
  });

  test('an undocumented exception fails the run with the seed, the index and the input hex', async () => {
    const crashy: FuzzTarget = { ...target, check: (b) => void (b.length > 20 && b[0] > 100 && (null as unknown as { x: number }).x) };
    const err = await runFuzz('crashy', crashy).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FuzzFailure, 'the run fails');
    const m = /WGWEB_FUZZ_SEED=(\d+) WGWEB_FUZZ_ONLY=(-?\d+)\n {2}input \(\d+ bytes\): ([0-9a-f]+)/.exec(err.message);
    assert.ok(m, err.message);
    assert.equal(toHex(fuzzInput(crashy, 'crashy', Number(m[1]), Number(m[2])).input), m[3], 'the printed seed and index replay the input');
  });

  test('a documented error type is counted as a refusal, not a failure', async () => {
    const strict: FuzzTarget = { ...target, maxInputs: 200, allowed: [RangeError], check: (b) => { if (b.length % 2) throw new RangeError('odd'); } };
    const r = await runFuzz('strict', strict);
    assert.ok(r.rejected > 0 && r.rejected < r.inputs);
  });
});
