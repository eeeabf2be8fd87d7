/**
 * HTTPS trust end to end in headless Chromium: the worker's TLS client reaches real
 * `openssl s_server`s inside the wireguard-go namespace, and what the user sets in the UI decides
 * what it accepts.
 *
 *   Chromium (UI ─comlink─▶ worker: Session + TLS) ──ws──▶ relay ──UDP──▶ wireguard-go (namespace)
 *       ── 10.77.X.1:443  openssl s_server, self-signed appliance certificate (trust on first use)
 *       ── server.wgweb.test:8443 openssl s_server, leaf from an internal CA (Configuration → Certificates)
 *       ── server.wgweb.test:7443 openssl s_server, TLS 1.2 RSA key exchange only (legacy TLS per host)
 *
 * - HTTP tool: an unknown self-signed certificate stops at the certificate prompt (subject,
 *   SHA-256 as openssl prints it); "Trust for HOST" pins it, the request is sent again and
 *   succeeds; the pin shows in the Certificates tab; wgweb.fetch works too.
 * - Certificates tab: importing the internal CA there makes the worker accept the CA-signed server
 *   (the UI's trust store reaches the worker); removing it refuses the server again.
 * - Legacy TLS: an RSA-key-exchange-only s_server is refused until "Allow legacy TLS for HOST" in
 *   the Certificates tab; the HTTP tool then marks the connection legacy; wgweb.allowLegacyTls(host,
 *   false) takes it back.
 *
 * WGWEB_SCREENSHOTS=1 also saves docs/screenshots/https-certificate-prompt.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { binariesSkipReason, browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import { TestPki, type TestCert } from '../../harness/test-pki.ts';
import { startOpensslServer, type OpensslServer } from '../../harness/openssl-server.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const skip = browserSkipReason() ?? interopSkipReason(['openssl']) ?? binariesSkipReason(['openssl'], 'certificate');

function opensslFingerprint(cert: TestCert): string {
  return execFileSync('openssl', ['x509', '-in', cert.certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).trim().split('=')[1]!;
}

/** What wgweb.fetch gives for `url`: the status, or the error code. */
async function fetchOutcome(page: Page, url: string): Promise<string> {
  return page.evaluate(
    (u) =>
      Promise.race([
        window.wgweb.fetch(u, { timeoutMs: 30_000 }).then(
          async (r) => `${r.status} ${(await r.text()).length > 0 ? 'body' : 'empty'}`,
          (e: { code?: string }) => e.code ?? 'no code',
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('no answer within 60 s'), 60_000)),
      ]),
    url,
  );
}

/**
 * Asks with wgweb.fetch until `url` gives `want` (the UI hands its trust settings to the worker
 * asynchronously; the next request sees them), at most 60 s; fails with the last outcome.
 */
async function untilOutcome(page: Page, url: string, want: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let seen = await fetchOutcome(page, url);
  while (seen !== want) {
    if (Date.now() > deadline) assert.fail(`${url} still gives ${seen}, not ${want}, after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
    seen = await fetchOutcome(page, url);
  }
}

describe('HTTPS trust in the browser app through a real wireguard-go peer', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;
  let pki: TestPki;
  let appliance: TestCert;
  let ca: TestCert;
  const servers: OpensslServer[] = [];
  let host: string;

  before(async () => {
    await ensureUiBuilt();
    pki = await TestPki.create();
    fx = await startSessionFixture({ name: 'e2etls', session: false, servers: ['dns'] });
    host = fx.peer.tunnelAddress4!;
    // A self-signed appliance certificate (no CA): only trust on first use or an import accepts it.
    appliance = pki.leaf('appliance', { cn: 'nas.appliance.test', ips: [host] });
    ca = pki.ca('corp-ca', { cn: 'Corp Intranet CA' });
    // Reached by name (the fixture's DNS): pins are per host, and the address is pinned by the first test.
    const leaf = pki.leaf('corp-leaf', { issuer: ca, dns: ['server.wgweb.test'] });
    servers.push(await startOpensslServer({ site: fx.peer, host, port: 443, cert: appliance, args: ['-www'] }));
    servers.push(await startOpensslServer({ site: fx.peer, host, port: 8443, cert: leaf, args: ['-www'] }));
    // An old appliance: TLS 1.2 with the RSA key exchange only (no forward secrecy).
    const rsaLeaf = pki.leaf('corp-rsa', { issuer: ca, key: 'rsa-2048', dns: ['server.wgweb.test'] });
    servers.push(await startOpensslServer({ site: fx.peer, host, port: 7443, cert: rsaLeaf, args: ['-tls1_2', '-cipher', 'AES128-GCM-SHA256:@SECLEVEL=0', '-www'] }));
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await page.evaluate(() => localStorage.clear());
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    for (const s of servers) await s.close();
    await fx?.close();
    await closeAllNamespaces();
    pki?.cleanup();
  });

  test('the HTTP tool shows an unknown certificate with its fingerprint; "Trust for HOST" pins it and the request goes through', async () => {
    const url = `https://${host}/`;
    assert.equal(await fetchOutcome(page, url), 'TLS_CERT_UNTRUSTED', 'never silently accepted');

    await page.getByRole('tab', { name: 'HTTP' }).click();
    await page.getByLabel('URL', { exact: true }).fill(url);
    await page.getByRole('button', { name: 'Send' }).click();
    const prompt = page.getByTestId('certificate-prompt');
    await prompt.waitFor({ timeout: 30_000 });
    const text = (await prompt.textContent()) ?? '';
    assert.match(text, /nas\.appliance\.test/);
    assert.match(text, /self-signed/);
    assert.equal((await page.getByTestId('fingerprint').textContent())?.trim(), opensslFingerprint(appliance));
    if (process.env.WGWEB_SCREENSHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await prompt.screenshot({ path: `${SHOTS}https-certificate-prompt.png` });
    }

    await page.getByRole('button', { name: `Trust for ${host}` }).click();
    await page.getByTestId('http-status').filter({ hasText: '200' }).waitFor({ timeout: 30_000 });
    assert.equal(await prompt.count(), 0);
    assert.equal(await fetchOutcome(page, url), '200 body', 'the pin holds for the page API too');

    // The pin is part of the profile's trust settings, listed in Configuration → Certificates.
    await page.getByRole('tab', { name: 'Certificates' }).click();
    const pins = (await page.getByTestId('trusted-certificates').textContent()) ?? '';
    assert.ok(pins.includes(host), pins);
    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.message));
    assert.ok(log.some((m) => m.startsWith('Pinned the certificate') && m.includes(host)), log.join('\n'));
  });

  test('a CA imported in the Certificates tab reaches the worker: the CA-signed server is accepted, and refused again once it is removed', async () => {
    const url = 'https://server.wgweb.test:8443/';
    assert.equal(await fetchOutcome(page, url), 'TLS_CERT_UNTRUSTED');
    await page.getByRole('tab', { name: 'Certificates' }).click();
    await page.getByLabel('Import a certificate (PEM)').fill(ca.certPem);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('trusted-list').filter({ hasText: 'Corp Intranet CA' }).waitFor();
    // The worker receives the settings asynchronously; the next request sees them. (Bodies are read
    // to the end: openssl s_server serves one connection at a time.)
    await untilOutcome(page, url, '200 body');

    await page.getByRole('button', { name: 'Remove CN=Corp Intranet CA' }).click();
    await untilOutcome(page, url, 'TLS_CERT_UNTRUSTED');
    assert.deepEqual(ui.errors, []);
  });

  test('legacy TLS allowed for one host in the Certificates tab reaches an RSA-key-exchange-only server, the HTTP tool marks the connection legacy, and wgweb.allowLegacyTls takes it back', async () => {
    const url = 'https://server.wgweb.test:7443/';
    await page.evaluate((pem) => window.wgweb.addTrustedCertificate(pem), ca.certPem);
    assert.equal(await fetchOutcome(page, url), 'TLS_HANDSHAKE_FAILED', 'refused while legacy TLS is off');

    await page.getByRole('tab', { name: 'Certificates' }).click();
    assert.match((await page.getByTestId('trusted-certificates').textContent()) ?? '', /no forward secrecy/);
    await page.getByLabel('Host to allow legacy TLS for').fill('server.wgweb.test');
    await page.getByRole('button', { name: 'Allow legacy TLS for server.wgweb.test' }).click();
    await page.getByTestId('legacy-tls-list').filter({ hasText: 'server.wgweb.test' }).waitFor();
    await untilOutcome(page, url, '200 body');

    await page.getByRole('tab', { name: 'HTTP' }).click();
    await page.getByLabel('URL', { exact: true }).fill(url);
    await page.getByRole('button', { name: 'Send' }).click();
    const legacy = page.getByTestId('http-tls-legacy');
    await legacy.waitFor({ timeout: 30_000 });
    assert.match((await legacy.textContent()) ?? '', /legacy TLS.*RSA key exchange \(no forward secrecy\)/s);
    assert.match((await page.getByTestId('http-tls').textContent()) ?? '', /TLS 1\.2 · TLS_RSA_WITH_AES_128_GCM_SHA256/);
    if (process.env.WGWEB_SCREENSHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.getByTestId('http-tls').screenshot({ path: `${SHOTS}https-legacy-tls.png` });
    }

    await page.evaluate(() => window.wgweb.allowLegacyTls('server.wgweb.test', false));
    assert.equal(await fetchOutcome(page, url), 'TLS_HANDSHAKE_FAILED', 'refused again once taken back');
    await page.getByRole('tab', { name: 'Certificates' }).click();
    assert.equal(await page.getByTestId('legacy-tls-list').count(), 0);
    assert.deepEqual(ui.errors, []);
  });
});
