/**
 * The browse frame across a reconnect (issue #18 item 4): a page shown in the Browse card is shown
 * again once the tunnel is back, without the user navigating.
 *
 *   Chromium: app ──ws──▶ relay ──UDP──▶ wireguard-go (namespace, HTTP server)
 *             frame (browse origin) ─▶ Service Worker ─▶ app ─▶ tunnel worker
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession } from '../../harness/browser.ts';

const skip = browserSkipReason() ?? interopSkipReason();

describe('the browse frame across a reconnect', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'brrecon', session: false, servers: ['http'] });
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
  });
  after(async () => {
    await ui?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  test('a page shown when the tunnel went down is shown again when it is back, without navigating', async () => {
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    const url = fx.http.url('/hello.txt');
    const shown = await page.evaluate((u) => window.wgweb.browse(u), url);
    assert.equal(shown.status, 200);
    const framed = page.frameLocator('wg-browse iframe.viewport');
    const text = (await framed.locator('body').textContent())?.trim();
    assert.ok(text, 'the browse frame shows the page');

    // The tunnel goes down and the frame is reloaded meanwhile (as the frame's reload button does):
    // the frame says the tunnel is down.
    await page.evaluate(() => window.wgweb.disconnect());
    const down = await page.evaluate((u) => window.wgweb.browse(u), url);
    assert.equal(down.error?.code, 'NOT_CONNECTED');
    await framed.locator('h1').filter({ hasText: 'The tunnel is down' }).waitFor({ timeout: 15_000 });

    // Connected again: the same page is back in the frame, the address bar unchanged.
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await framed.locator('body').filter({ hasText: text! }).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByLabel('Browse address', { exact: true }).inputValue(), url);
    assert.equal(await page.locator('wg-browse iframe.viewport').isVisible(), true);
    assert.deepEqual(ui.errors.filter((e) => !/Failed to load resource/.test(e)), []);
  });
});
