/**
 * Configuration → Certificates in real headless Chromium: import an openssl-made CA by pasting PEM,
 * see its subject, kind and SHA-256 fingerprint (as `openssl x509 -fingerprint` prints it), keep it
 * only under the "remember" opt-in, and remove it.
 *
 * WGWEB_SCREENSHOTS=1 also saves docs/screenshots/trusted-certificates.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { binariesSkipReason, browserSkipReason } from '../../harness/requirements.ts';
import { openUi, type UiSession } from '../../harness/browser.ts';
import { TestPki, type TestCert } from '../../harness/test-pki.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

describe('trusted certificates in the browser app', { skip: browserSkipReason() ?? binariesSkipReason(['openssl'], 'certificate') }, () => {
  let ui: UiSession;
  let page: Page;
  let pki: TestPki;
  let ca: TestCert;
  before(async () => {
    pki = await TestPki.create();
    ca = pki.ca('intranet-ca', { cn: 'Example Intranet CA' });
    ui = await openUi();
    page = ui.page;
    await page.evaluate(() => localStorage.clear());
  });
  after(async () => {
    await ui?.close();
    pki?.cleanup();
  });

  test('imports a pasted CA, lists it with its fingerprint, remembers it only when asked, and removes it', async () => {
    await page.getByRole('tab', { name: 'Certificates' }).click();
    const area = page.getByLabel('Import a certificate (PEM)');
    await area.fill(`subject=CN = Example Intranet CA\n${ca.certPem}`);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const list = page.getByTestId('trusted-list');
    await list.waitFor();
    const text = (await list.textContent()) ?? '';
    assert.match(text, /CN=Example Intranet CA/);
    assert.match(text, /\bCA\b/);
    const fp = execFileSync('openssl', ['x509', '-in', ca.certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).trim().split('=')[1];
    assert.ok(text.includes(fp), `fingerprint ${fp} in ${text}`);
    assert.match((await page.getByRole('status').filter({ hasText: 'Imported' }).textContent()) ?? '', /Imported CN=Example Intranet CA/);

    // Not stored until the user opts in; then stored; unticking deletes it.
    assert.equal(await page.evaluate(() => localStorage.getItem('wgweb.trust')), null);
    await page.getByRole('tab', { name: 'Config file' }).click();
    const remember = page.getByLabel('Remember this config on this device');
    await remember.check();
    const stored = JSON.parse((await page.evaluate(() => localStorage.getItem('wgweb.trust'))) ?? 'null');
    assert.equal(stored?.certificates?.length, 1);
    await remember.uncheck();
    assert.equal(await page.evaluate(() => localStorage.getItem('wgweb.trust')), null);

    await page.getByRole('tab', { name: 'Certificates' }).click();
    if (process.env.WGWEB_SCREENSHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}trusted-certificates.png`, fullPage: false });
    }
    await page.getByRole('button', { name: 'Remove CN=Example Intranet CA' }).click();
    await list.waitFor({ state: 'detached' });
    assert.match((await page.getByTestId('trusted-certificates').textContent()) ?? '', /None yet/);
  });

  test('says what is wrong with text that holds no certificate', async () => {
    await page.getByLabel('Import a certificate (PEM)').fill('this is not a certificate');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    assert.match((await page.getByRole('alert').filter({ hasText: 'BEGIN CERTIFICATE' }).textContent()) ?? '', /No certificate found/);
  });
});
