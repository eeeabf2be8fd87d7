import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextIndex } from '../../../../src/browser/ui/lib/roving-focus.ts';

test('arrows move and wrap; Home and End jump; other keys are not ours', () => {
  assert.equal(nextIndex(0, 'ArrowRight', 4), 1);
  assert.equal(nextIndex(3, 'ArrowRight', 4), 0);
  assert.equal(nextIndex(0, 'ArrowLeft', 4), 3);
  assert.equal(nextIndex(2, 'Home', 4), 0);
  assert.equal(nextIndex(0, 'End', 4), 3);
  assert.equal(nextIndex(0, 'Enter', 4), undefined);
  assert.equal(nextIndex(0, 'ArrowRight', 0), undefined);
});

test('vertical lists use up and down', () => {
  assert.equal(nextIndex(0, 'ArrowDown', 3, 'vertical'), 1);
  assert.equal(nextIndex(0, 'ArrowRight', 3, 'vertical'), undefined);
});
