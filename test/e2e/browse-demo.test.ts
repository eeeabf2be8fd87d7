/**
 * The browse view against wgweb's own demo peer (docs/demo.md): its intranet site, with a strict
 * CSP of its own (`default-src 'none'`), renders through the tunnel; the guestbook's POST, cookie
 * and 303 work; a multipart upload goes through. No namespace needed: the demo peer runs in the
 * relay, on loopback.
 *
 * WGWEB_SCREENSHOTS=1 also saves docs/screenshots/browse-demo.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FrameLocator, Page } from 'playwright-core';
import { browserSkipReason } from '../../harness/requirements.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

describe('the browse view on the demo peer\'s intranet site', { skip: browserSkipReason() }, () => {
  let relay: RelayHandle;
  let ui: UiSession;
  let page: Page;
  let frame: FrameLocator;

  before(async () => {
    await ensureUiBuilt();
    relay = await startRelay({ port: 0, demo: true, logger: createLogger({ level: 'error' }) });
    ui = await openUi({ url: relay.url });
    page = ui.page;
    frame = page.frameLocator('wg-browse iframe.viewport');
    const config = await page.evaluate(async () => (await fetch('/api/demo/config')).text());
    await page.evaluate((c) => window.wgweb.connect(c), config);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
  });

  test('the home page renders, with its own strict CSP, by address and by DNS name', async () => {
    const r = await page.evaluate(() => window.wgweb.browse('http://10.44.0.1/'));
    assert.equal(r.title, 'Welcome · intranet.demo');
    assert.equal(r.status, 200);
    await frame.locator('h1').filter({ hasText: 'You made it through the tunnel.' }).waitFor();
    if (process.env.WGWEB_SCREENSHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.locator('wg-browse').screenshot({ path: `${SHOTS}browse-demo.png` });
    }
    const byName = await page.evaluate(() => window.wgweb.browse('http://intranet.demo/handshake'));
    assert.equal(byName.title, 'Your handshake · intranet.demo');
  });

  test('the guestbook: POST, Set-Cookie and 303 See Other, then the name comes back from the cookie', async () => {
    await page.evaluate(() => window.wgweb.browse('http://10.44.0.1/guestbook'));
    await frame.locator('#name').fill('Ada');
    await frame.locator('#message').fill('hello through the browse view');
    await frame.getByRole('button', { name: 'Sign' }).click();
    await frame.locator('.entries').filter({ hasText: 'hello through the browse view' }).waitFor({ timeout: 30_000 });
    const again = await page.evaluate(() => window.wgweb.browse('http://10.44.0.1/guestbook'));
    assert.equal(again.url, 'http://10.44.0.1/guestbook');
    assert.equal(await frame.locator('#name').inputValue(), 'Ada');
  });

  test('a multipart file upload goes through the tunnel whole', async () => {
    await page.evaluate(() => window.wgweb.browse('http://10.44.0.1/services'));
    const content = Buffer.alloc(200_000, 7);
    await frame.locator('#file').setInputFiles({ name: 'blob.bin', mimeType: 'application/octet-stream', buffer: content });
    await frame.getByRole('button', { name: 'Upload' }).click();
    await frame.locator('body').filter({ hasText: /"length"/ }).waitFor({ timeout: 30_000 });
    const answer = JSON.parse((await frame.locator('body').textContent()) ?? '{}') as { length: number };
    assert.ok(answer.length > content.length && answer.length < content.length + 1024, `multipart body of ${answer.length} bytes`);
    assert.deepEqual(ui.errors, []);
  });
});
