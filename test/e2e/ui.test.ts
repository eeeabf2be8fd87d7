/**
 * The browser app in real headless Chromium, without a tunnel: it renders with no console errors,
 * shows config problems with line numbers as you type, generates a key pair with its [Peer]
 * stanza and QR code, can be driven by keyboard alone, labels every control, switches theme,
 * keeps the private key out of storage unless asked, fits a phone screen, and reports errors from
 * `window.wgweb` with codes.
 *
 * WGWEB_SCREENSHOTS=1 also saves the main states to docs/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserSkipReason } from '../../harness/requirements.ts';
import { openUi, reloadFresh, type UiSession } from '../../harness/browser.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
async function shot(page: Page, name: string): Promise<void> {
  if (!process.env.WGWEB_SCREENSHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

const SERVER_PUBLIC = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const GOOD = `[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.8.0.2/32
DNS = 10.8.0.1

[Peer]
PublicKey = ${SERVER_PUBLIC}
AllowedIPs = 10.8.0.0/24
Endpoint = 127.0.0.1:51820
PersistentKeepalive = 25
`;
// The public key of GOOD's PrivateKey (wg pubkey).
const GOOD_PUBLIC = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';

describe('the browser app', { skip: browserSkipReason() }, () => {
  let ui: UiSession;
  let page: Page;
  before(async () => {
    ui = await openUi();
    page = ui.page;
    await ui.context.addInitScript(() => {
      // tsx compiles this file with esbuild's keepNames, which wraps named functions in __name();
      // functions sent to the page with page.evaluate need it defined there.
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
      (globalThis as unknown as { deepActive: () => Element | null }).deepActive = () => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return el;
      };
    });
  });
  after(async () => {
    await ui?.close();
  });

  const fresh = (): Promise<void> => reloadFresh(page);

  test('renders its four parts, disconnected, with no console errors', async () => {
    await fresh();
    for (const name of ['Configuration', 'Status', 'Tools', 'Event log']) {
      assert.equal(await page.getByRole('heading', { name, exact: true }).count(), 1, name);
    }
    assert.equal(await page.getByTestId('state').textContent(), 'Disconnected');
    assert.equal(await page.getByRole('button', { name: 'Connect', exact: true }).isDisabled(), true);
    assert.equal(await page.title(), 'wgweb: WireGuard in the browser');
    assert.deepEqual(ui.errors, []);
    await shot(page, 'empty');
  });

  test('a broken line is reported with its line number as you type, and marked in the gutter', async () => {
    await fresh();
    const editor = page.getByLabel('wg-quick config', { exact: true });
    await editor.fill(GOOD.replace(`PublicKey = ${SERVER_PUBLIC}`, 'PublicKey = not-a-key'));
    const problems = page.getByRole('list', { name: 'Problems in the config' });
    const first = problems.getByRole('button').first();
    assert.match((await first.textContent()) ?? '', /Line 7\s*Error:\s*PublicKey/);
    assert.match((await page.locator('wg-config-editor .summary').textContent()) ?? '', /1 problem to fix/);
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('wg-config-editor .gutter .err').textContent(), '7');
    assert.equal(await page.getByRole('button', { name: 'Connect', exact: true }).isDisabled(), true);
    await shot(page, 'config-error');

    // Clicking the problem puts the caret on that line.
    await first.click();
    const caretLine = await editor.evaluate((el: HTMLTextAreaElement) => el.value.slice(0, el.selectionStart).split('\n').length);
    assert.equal(caretLine, 7);

    await editor.fill(GOOD);
    assert.match((await page.locator('wg-config-editor .summary').textContent()) ?? '', /Config looks good: 1 peer/);
    assert.equal(await page.getByRole('button', { name: 'Connect', exact: true }).isDisabled(), false);
    // The public key the server needs, derived in the worker from the PrivateKey line.
    await page.getByTestId('interface-public-key').waitFor();
    assert.equal(await page.getByTestId('interface-public-key').textContent(), GOOD_PUBLIC);
    await shot(page, 'config-ok');
  });

  test('key generation shows the [Peer] stanza for the server and a QR code of the client config', async () => {
    await fresh();
    await page.getByRole('tab', { name: 'New key pair' }).click();
    await page.getByRole('button', { name: 'Generate key pair' }).click();
    // Missing fields are named, and focus goes to the first one.
    assert.match((await page.locator('wg-keygen .field-error').first().textContent()) ?? '', /server's public key/);
    assert.equal(await page.evaluate(() => deepActive()?.id), 'kg-serverPublicKey');

    await page.getByLabel('Server public key').fill(SERVER_PUBLIC);
    await page.getByLabel('Server endpoint').fill('vpn.example.com:51820');
    await page.getByLabel('DNS server (optional)').fill('10.8.0.1');
    await page.getByRole('button', { name: 'Generate key pair' }).click();
    const stanza = (await page.getByTestId('peer-stanza').textContent()) ?? '';
    const m = /^\[Peer\]\n# wgweb browser client\nPublicKey = ([A-Za-z0-9+/]{43}=)\nAllowedIPs = 10\.8\.0\.2\/32\n$/.exec(stanza);
    assert.ok(m, `unexpected stanza:\n${stanza}`);
    const qr = page.getByRole('img', { name: 'QR code of the client config' });
    assert.equal(await qr.count(), 1);
    assert.ok(((await qr.locator('path').getAttribute('d')) ?? '').length > 500, 'the QR code has modules');
    const client = (await page.getByTestId('client-config').textContent()) ?? '';
    assert.match(client, /^\[Interface\]\nPrivateKey = [A-Za-z0-9+/]{43}=\nAddress = 10\.8\.0\.2\/32\nDNS = 10\.8\.0\.1\n/);
    await shot(page, 'keygen');

    // "Use this config" puts it in the editor, where it checks clean and derives the same public key.
    await page.getByRole('button', { name: 'Use this config' }).click();
    assert.equal(await page.getByRole('tab', { name: 'Config file' }).getAttribute('aria-selected'), 'true');
    assert.equal(await page.getByLabel('wg-quick config', { exact: true }).inputValue(), client);
    await page.getByTestId('interface-public-key').waitFor();
    assert.equal(await page.getByTestId('interface-public-key').textContent(), m[1]);
  });

  test('keyboard alone: skip link, tabs with arrow keys, and the editor and Connect in tab order', async () => {
    await fresh();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => deepActive()?.textContent?.trim()), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => deepActive()?.tagName), 'MAIN');

    // Into the config tabs: one tab stop, arrows move the selection.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => deepActive()?.textContent?.trim()), 'Config file');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => deepActive()?.textContent?.trim()), 'New key pair');
    assert.equal(await page.getByRole('tab', { name: 'New key pair' }).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('Home');
    assert.equal(await page.getByRole('tab', { name: 'Config file' }).getAttribute('aria-selected'), 'true');

    // Tab onwards reaches the file button, then the editor; typing there works.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => deepActive()?.textContent?.trim()), 'Open .conf file…');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => deepActive()?.id), 'config');
    await page.keyboard.insertText(GOOD);
    // Onwards to the relay field, the remember box and Connect.
    const seen: string[] = [];
    for (let i = 0; i < 8 && !seen.includes('Connect'); i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => deepActive()?.id || deepActive()?.textContent?.trim() || ''));
    }
    assert.ok(seen.includes('relay'), `tab order: ${seen.join(' → ')}`);
    assert.ok(seen.includes('Connect'), `tab order: ${seen.join(' → ')}`);

    // Tool tabs too: End selects the last one, ArrowRight from there wraps to the first.
    const toolTabs = page.getByRole('tablist', { name: 'Tools' }).getByRole('tab');
    await page.getByRole('tab', { name: 'Ping' }).focus();
    await page.keyboard.press('End');
    assert.equal(await toolTabs.last().getAttribute('aria-selected'), 'true');
    await page.getByRole('tab', { name: 'HTTP' }).click();
    assert.equal(await page.getByRole('tab', { name: 'HTTP' }).getAttribute('aria-selected'), 'true');
    assert.equal(await page.getByLabel('URL', { exact: true }).isVisible(), true);
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Ping' }).getAttribute('aria-selected'), 'true');
  });

  test('every control has an accessible name', async () => {
    await fresh();
    await page.getByRole('tab', { name: 'New key pair' }).click();
    const unnamed = await page.evaluate(() => {
      const out: string[] = [];
      const visit = (root: Document | ShadowRoot) => {
        for (const el of root.querySelectorAll<HTMLElement>('input, select, textarea, button, [role="tab"], a[href]')) {
          if ((el as HTMLInputElement).type === 'file' && el.style.display !== 'none' && getComputedStyle(el).display === 'none') continue;
          const id = el.id;
          const named =
            el.getAttribute('aria-label') ||
            el.getAttribute('aria-labelledby') ||
            (id && root.querySelector(`label[for="${id}"]`)) ||
            el.closest('label') ||
            (el.tagName === 'BUTTON' || el.tagName === 'A' ? el.textContent?.trim() : '');
          if (!named) out.push(el.outerHTML.slice(0, 120));
        }
        for (const host of root.querySelectorAll('*')) if (host.shadowRoot) visit(host.shadowRoot);
      };
      visit(document);
      return out;
    });
    assert.deepEqual(unnamed, []);
  });

  test('the theme follows the toggle and the choice survives a reload', async () => {
    await fresh();
    await page.getByLabel('wg-quick config', { exact: true }).fill(GOOD.replace('PublicKey = x', 'PublicKey = '));
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(14, 17, 22)');
    await shot(page, 'dark');
    await page.reload();
    await page.waitForFunction(() => typeof window.wgweb === 'object');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined, 'light is the system default here');
  });

  test('the config (with its private key) is stored only after opting in, and deleted on opt-out', async () => {
    await fresh();
    await page.getByLabel('wg-quick config', { exact: true }).fill(GOOD);
    assert.equal(await page.evaluate(() => localStorage.getItem('wgweb.config')), null);
    const remember = page.getByLabel('Remember this config on this device');
    await remember.check();
    assert.match((await page.locator('#remember-warning').textContent()) ?? '', /private key included/);
    assert.equal(await page.evaluate(() => localStorage.getItem('wgweb.config')), GOOD);
    await page.reload();
    await page.waitForFunction(() => typeof window.wgweb === 'object');
    assert.equal(await page.getByLabel('wg-quick config', { exact: true }).inputValue(), GOOD);
    await page.getByLabel('Remember this config on this device').uncheck();
    assert.equal(await page.evaluate(() => localStorage.getItem('wgweb.config')), null);
    // Nothing secret anywhere in the URL either.
    assert.equal(new URL(page.url()).search + new URL(page.url()).hash, '');
  });

  test('window.wgweb rejects with coded errors, and the UI shows what a script did', async () => {
    await fresh();
    const codeOf = (fn: string) =>
      page.evaluate(async (body) => {
        try {
          await new Function('return ' + body)();
          return 'resolved';
        } catch (e) {
          return `${(e as Error & { code?: string }).code}|${e instanceof Error}`;
        }
      }, fn);
    assert.equal(await codeOf("window.wgweb.ping('10.8.0.1')"), 'NOT_CONNECTED|true');
    assert.equal(await codeOf("window.wgweb.tcping('10.8.0.1', 0)"), 'USAGE|true');
    assert.equal(await codeOf("window.wgweb.connect('[Interface]\\nPrivateKey = nope\\n')"), 'CONFIG_INVALID|true');
    assert.equal(await page.getByTestId('state').textContent(), 'Connection failed');

    // A valid config towards a relay that is not there (a closed loopback port).
    assert.equal(await codeOf(`window.wgweb.connect(${JSON.stringify(GOOD)}, 'ws://127.0.0.1:9/wg')`), 'RELAY_UNREACHABLE|true');
    // The script's config is in the editor, the failure is explained under Connect and in the log.
    assert.equal(await page.getByLabel('wg-quick config', { exact: true }).inputValue(), GOOD);
    const alert = page.locator('wg-config-panel .alert.err');
    assert.match((await alert.textContent()) ?? '', /Could not connect/);
    assert.match((await alert.textContent()) ?? '', /Is the relay running\?/);
    const log = await page.evaluate(() => window.wgweb.events().map((e) => `${e.level} ${e.message}`));
    assert.ok(log.some((l) => /^error Could not connect/.test(l)), log.join('\n'));
    assert.equal(await page.evaluate(() => window.wgweb.status()), null);
    await shot(page, 'connect-failed');
  });

  test('fits a phone screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await fresh();
      await page.getByLabel('wg-quick config', { exact: true }).fill(GOOD);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
      await shot(page, 'mobile');
    } finally {
      await page.setViewportSize({ width: 1360, height: 900 });
    }
  });
});

declare global {
  /** Defined on the page by the test setup: the focused element, through shadow roots. */
  function deepActive(): HTMLElement | null;
}
