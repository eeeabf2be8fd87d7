import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseProxy } from 'comlink';
import { PageCallback } from '../../../src/browser/worker/page-callback.ts';

/** A stand-in for a comlink proxy: each call answers when the test says so. */
function slowPage() {
  const seen: number[] = [];
  const answers: (() => void)[] = [];
  let released = 0;
  const callback = Object.assign(
    (v: number) =>
      new Promise<void>((resolve) =>
        answers.push(() => {
          seen.push(v);
          resolve();
        }),
      ),
    { [releaseProxy]: () => void released++ },
  );
  return { callback, seen, answers, released: () => released };
}

test('settle waits until the page has run every value sent, then releases the port once', async () => {
  const page = slowPage();
  const relay = new PageCallback(page.callback);
  relay.send(1);
  relay.send(2);
  let settled = false;
  const done = relay.settle().then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled, false, 'still waiting for the page');
  for (const answer of page.answers) answer();
  await done;
  assert.deepEqual(page.seen, [1, 2]);
  assert.equal(page.released(), 1);
  relay.send(3);
  await relay.settle();
  assert.equal(page.answers.length, 2, 'nothing is sent after settle');
  assert.equal(page.released(), 1);
});

test('a page that never answers holds the result back for settleMs only', async () => {
  const page = slowPage();
  const relay = new PageCallback(page.callback);
  relay.send(1);
  const t0 = performance.now();
  await relay.settle(30);
  assert.ok(performance.now() - t0 >= 25);
  assert.equal(page.released(), 1);
});

test('a callback that throws or rejects is the page\'s problem: send and settle still complete', async () => {
  const throwing = new PageCallback<number>(() => {
    throw new Error('page bug');
  });
  throwing.send(1);
  await throwing.settle();
  const rejecting = new PageCallback<number>(() => Promise.reject(new Error('port closed')));
  rejecting.send(1);
  await rejecting.settle();
  const none = new PageCallback<number>(undefined);
  none.send(1);
  await none.settle();
});
