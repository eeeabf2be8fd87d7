/**
 * harness/cdp-chromium.ts, the bare DevTools driver the browser benchmark uses instead of
 * Playwright: it loads a page, evaluates in it, reports console errors, reaches a dedicated worker,
 * and leaves the worker's Network domain off (the reason it exists: with it on, every WebSocket
 * frame of the tunnel worker is copied to the driver).
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserSkipReason } from '../../harness/requirements.ts';
import { serveStatic, type StaticServer } from '../../harness/static-server.ts';
import { launchCdpChromium, type CdpBrowser } from '../../harness/cdp-chromium.ts';

const skip = browserSkipReason();

describe('launchCdpChromium: headless Chromium over a DevTools pipe', { skip }, () => {
  let dir: string;
  let server: StaticServer;
  let browser: CdpBrowser;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-cdp-test-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>cdp</title><script>window.answer = 42; window.w = new Worker("./probe-worker.js");</script>');
    writeFileSync(join(dir, 'probe-worker.js'), 'self.fromWorker = "hello"; onmessage = () => {};');
    server = await serveStatic(dir);
    browser = await launchCdpChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('loads a page and evaluates functions with an argument, awaiting promises', async () => {
    await browser.page.goto(server.url);
    assert.equal(await browser.page.evaluate(() => (window as unknown as { answer: number }).answer), 42);
    assert.deepEqual(await browser.page.evaluate(async ({ a, b }) => ({ sum: a + b }), { a: 2, b: 3 }), { sum: 5 });
    await browser.page.waitForFunction(() => document.title === 'cdp');
  });

  test('a throwing function rejects with its message; console errors are collected', async () => {
    await assert.rejects(browser.page.evaluate(() => {
      throw new Error('boom in the page');
    }), /boom in the page/);
    await browser.page.evaluate(() => console.error('seen by the driver'));
    // The console event and the evaluation's answer are separate CDP messages: wait (bounded).
    for (let i = 0; i < 100 && !browser.errors.some((e) => e.includes('seen by the driver')); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(browser.errors.some((e) => e.includes('seen by the driver')), browser.errors.join(' | '));
  });

  test('attaches to a dedicated worker by script URL, evaluates there, and its Network domain stays off', async () => {
    const worker = await browser.attachWorker('probe-worker');
    // The worker's target is reported when the worker is created, which can be before its script
    // has run (seen under load): ask until the script's global is there (bounded).
    const fromWorker = async (): Promise<unknown> => (await worker.send<{ result: { value: unknown } }>('Runtime.evaluate', { expression: 'self.fromWorker', returnByValue: true })).result.value;
    let value = await fromWorker();
    for (let i = 0; i < 200 && value === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      value = await fromWorker();
    }
    assert.equal(value, 'hello');
    // A second attach returns the same worker without waiting for a new target.
    const again = await browser.attachWorker('probe-worker');
    assert.equal(((await again.send<{ result: { value: unknown } }>('Runtime.evaluate', { expression: '1 + 1', returnByValue: true })).result.value), 2);
    // Nothing reports the worker's network activity to the driver.
    let frames = 0;
    worker.on('Network.webSocketCreated', () => frames++);
    worker.on('Network.requestWillBeSent', () => frames++);
    await worker.send('Runtime.evaluate', { expression: 'fetch("./index.html").then((r) => r.text()).then((t) => t.length)', awaitPromise: true, returnByValue: true });
    assert.equal(frames, 0);
  });

  test('close() ends the browser process', async () => {
    const pid = browser.pid;
    await browser.close();
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
