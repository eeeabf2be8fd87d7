/**
 * The browser app served by the real relay, whose deny-by-default policy refuses the config's
 * endpoint: the connect fails with the relay's reason, and the UI says why and what to check,
 * without a crash.
 * Needs only Chromium (no WireGuard peer: the relay never sends a datagram).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { browserSkipReason } from '../../harness/requirements.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { ensureUiBuilt, openUi, type UiSession } from '../../harness/browser.ts';

const CONFIG = `[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.8.0.2/32

[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
AllowedIPs = 10.8.0.0/24
Endpoint = 127.0.0.1:9
`;

describe('a relay that refuses the endpoint', { skip: browserSkipReason() }, () => {
  let relay: RelayHandle;
  let ui: UiSession;
  before(async () => {
    await ensureUiBuilt();
    relay = await startRelay({ port: 0, logger: createLogger({ level: 'error' }), warnIfNoRules: false });
    ui = await openUi({ url: relay.url });
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
  });

  test('the UI explains the refusal and how to allow the endpoint', async () => {
    const page = ui.page;
    await page.getByLabel('wg-quick config', { exact: true }).fill(CONFIG);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const alert = page.locator('wg-config-panel .alert.err');
    // Connect resolves only once the tunnel is up, so the refusal fails the connect itself.
    await alert.filter({ hasText: 'Could not connect' }).waitFor({ timeout: 30_000 });
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /not allowed|does not allow/);
    assert.match(text, /--allow/);
    assert.equal(await page.getByTestId('state').textContent(), 'Connection failed');
    assert.equal(await page.getByRole('button', { name: 'Connect', exact: true }).isEnabled(), true, 'ready to try again');
    const levels = await page.evaluate(() => window.wgweb.events().map((e) => e.level));
    assert.ok(levels.includes('error'));
    assert.deepEqual(ui.errors, []);
    if (process.env.WGWEB_SCREENSHOTS) {
      const dir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: `${dir}relay-refused.png`, fullPage: true });
    }
  });
});

describe('two peers, the relay refuses one (issue #11 item 13)', { skip: browserSkipReason() }, () => {
  let relay: RelayHandle;
  let ui: UiSession;
  before(async () => {
    await ensureUiBuilt();
    relay = await startRelay({ port: 0, demo: true, logger: createLogger({ level: 'error' }) });
    ui = await openUi({ url: relay.url });
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
  });

  test('the other peer comes up and works; the status card says which peer is down and the relay reason', async () => {
    const page = ui.page;
    const demoConfig = await page.evaluate(async () => (await fetch('/api/demo/config')).text());
    const refusedKey = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
    const config = `${demoConfig}\n[Peer]\nPublicKey = ${refusedKey}\nAllowedIPs = 10.99.0.0/24\nEndpoint = 127.0.0.1:9\n`;
    await page.getByLabel('wg-quick config', { exact: true }).fill(config);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    // Connected as the page sees it (the connect resolved), not only the worker's session state.
    await page.getByTestId('state').filter({ hasText: /^Connected$/ }).waitFor({ timeout: 60_000 });
    const summary = await page.evaluate(() => window.wgweb.ping('10.44.0.1', 1));
    assert.equal(summary.received, 1, 'the demo peer answers through the tunnel');

    const states = page.getByTestId('peer-state');
    await states.nth(1).filter({ hasText: 'down' }).waitFor({ timeout: 30_000 });
    assert.equal(await states.nth(0).textContent(), 'up');
    const problem = (await page.getByTestId('peer-problem').textContent()) ?? '';
    assert.match(problem, /refused this session/);
    assert.match(problem, /127\.0\.0\.1:9 is not allowed/, 'the relay\'s own reason is shown');
    assert.equal(await page.getByTestId('state').textContent(), 'Connected', 'the tunnel as a whole is up');
    assert.deepEqual(ui.errors, []);
    if (process.env.WGWEB_SCREENSHOTS) {
      const dir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      await page.locator('wg-status-panel').screenshot({ path: `${dir}one-peer-refused.png` });
    }
  });
});

describe('a handshake that gets no answer (issue #15 item 6, #18 item 5)', { skip: browserSkipReason() }, () => {
  let relay: RelayHandle;
  let ui: UiSession;
  before(async () => {
    await ensureUiBuilt();
    relay = await startRelay({ port: 0, demo: true, logger: createLogger({ level: 'error' }) });
    ui = await openUi({ url: relay.url });
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
  });

  test('the timeline shows each initiation and retry, then "No handshake" with the likely cause; the log says it too', async () => {
    const page = ui.page;
    const demoConfig = await page.evaluate(async () => (await fetch('/api/demo/config')).text());
    // The demo peer's endpoint, another public key: the demo never answers (WireGuard stays silent).
    const wrongKey = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
    await page.getByLabel('wg-quick config', { exact: true }).fill(demoConfig.replace(/(\[Peer\]\s*PublicKey = )\S+/, `$1${wrongKey}`));
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('tab', { name: 'Handshake' }).click();
    const timeline = page.locator('wg-handshake-timeline');
    await timeline.locator('li[data-type="handshake-retry"]').first().waitFor({ timeout: 30_000 });
    const failed = timeline.getByTestId('handshake-failed');
    await failed.waitFor({ timeout: 40_000 });
    assert.equal(await failed.textContent(), 'No handshake');
    assert.ok((await timeline.locator('li[data-type="handshake-initiation-sent"]').count()) >= 2, 'every initiation is a step');
    const step = (await timeline.locator('li[data-type="handshake-timeout"]').textContent()) ?? '';
    assert.match(step, /went unanswered, through a relay that works/);
    assert.match(step, new RegExp(`the peer's public key is ${wrongKey.replace(/[+/]/g, '\\$&')}`));
    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.type));
    assert.ok(log.includes('handshake-retry') && log.includes('handshake-timeout'), `the event log has the retries and the give-up: ${log.join(', ')}`);
    assert.deepEqual(ui.errors, []);
    if (process.env.WGWEB_SCREENSHOTS) {
      const dir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      await page.locator('wg-learn').screenshot({ path: `${dir}handshake-no-answer.png` });
    }
  });
});
