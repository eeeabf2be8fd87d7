/**
 * harness/browser.ts pollPage: the bounded wait e2e tests use for async conditions in the page.
 * Playwright's waitForFunction stops at the first truthy value without awaiting it, and a Promise
 * is truthy, so an async predicate there "passes" on its first call (seen in ten e2e files that
 * waited for the tunnel or for a shell's output that way). pollPage awaits the value.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkipReason } from '../../harness/requirements.ts';
import { launchBrowser, pollPage, type Browser } from '../../harness/browser.ts';

interface Counter {
  polled?: number;
}

describe('pollPage waits for an async condition in the page', { skip: browserSkipReason() }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser?.close());

  test('an async predicate that turns true on its third call: pollPage returns its value after three calls', async () => {
    const value = await pollPage(
      browser.page,
      'the third call',
      async (n) => {
        const w = window as unknown as Counter;
        w.polled = (w.polled ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 1));
        return w.polled >= n ? `call ${w.polled}` : false;
      },
      3,
      { intervalMs: 10 },
    );
    assert.equal(value, 'call 3');
    assert.equal(await browser.page.evaluate(() => (window as unknown as Counter).polled), 3);
  });

  test('a condition that never holds fails after the deadline, naming what was awaited and the last value', async () => {
    await assert.rejects(
      pollPage(browser.page, 'a shell prompt', async () => 0, undefined, { timeoutMs: 300, intervalMs: 50 }),
      /^Error: a shell prompt: not within 0\.3 s; the page last said 0$/,
    );
  });
});
