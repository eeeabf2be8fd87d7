/**
 * `window.wgweb.ssh()` end to end: the SSH client runs in the tunnel worker (src/protocols/ssh over
 * wgweb's TCP/IP), through the relay and a real wireguard-go, to OpenSSH's sshd in the namespace.
 *
 *   page: wgweb.ssh ──comlink──▶ worker: SshService ─▶ Session.ssh ──ws──▶ relay ──UDP──▶
 *       wireguard-go (namespace) ── kernel TCP ── sshd :22 (harness/ssh-servers.ts)
 *
 * Also: the SSH tab's console (xterm.js), a shell surviving a relay restart, known hosts kept
 * with the profile.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSshd, type SshServer } from '../../harness/ssh-servers.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession } from '../../harness/browser.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';

const skip = browserSkipReason() ?? interopSkipReason(['sshd', 'ssh-keygen', 'unshare', 'mount', 'openssl']);
const PASSWORD = 'e2e-ssh-pw';

describe('wgweb.ssh from a page script through a real wireguard-go peer to sshd', { skip }, () => {
  let fx: SessionFixture;
  let sshd: SshServer;
  let ui: UiSession;
  let page: Page;
  /** The relay started again on the same port by the restart test (it also serves the page). */
  let relay2: RelayHandle | undefined;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'e2essh', session: false, servers: ['dns'] });
    sshd = await startSshd(fx.peer, { host: fx.peer.tunnelAddress4!, password: PASSWORD, hostKeyTypes: ['ssh-ed25519'] });
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await page.waitForFunction(async () => (await window.wgweb.status())?.state === 'up', undefined, { polling: 200, timeout: 60_000 });
  });
  after(async () => {
    await ui?.close();
    await relay2?.close();
    await sshd?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  test('an unknown host key rejects with SSH_HOST_KEY_UNKNOWN and the fingerprint ssh-keygen prints', async () => {
    const r = await page.evaluate(async (host) => {
      try {
        await window.wgweb.ssh(host, { username: 'root', password: 'x' });
        return { ok: true };
      } catch (e) {
        const err = e as { code?: string; detail?: { fingerprint?: string } };
        return { ok: false, code: err.code, fingerprint: err.detail?.fingerprint };
      }
    }, fx.peer.tunnelAddress4!);
    assert.deepEqual(r, { ok: false, code: 'SSH_HOST_KEY_UNKNOWN', fingerprint: sshd.hostKeys['ssh-ed25519']!.fingerprint });
  });

  test('with the fingerprint: exec, a PTY shell whose output() shows stty size and follows resize, exit status', async () => {
    const r = await page.evaluate(
      async ({ host, password, hostKey }) => {
        const sh = await window.wgweb.ssh(host, { username: 'root', password, hostKey, cols: 90, rows: 33 });
        const exec = await sh.exec('echo out; echo err >&2; exit 4');
        // (No named functions inside evaluate: tsx's __name helper does not exist in the page.)
        const texts: string[] = [];
        for (const [input, re] of [
          ['stty size; echo DONE1\n', /33 90\r?\n(?:.*\r?\n)?DONE1/],
          ['stty size; echo DONE2\n', /40 120\r?\n(?:.*\r?\n)?DONE2/],
        ] as const) {
          if (texts.length === 1) await sh.resize(120, 40);
          await sh.write(input);
          let o = '';
          for (let i = 0; i < 200 && !re.test(o); i++) {
            o = await sh.output();
            if (!re.test(o)) await new Promise((r) => setTimeout(r, 100));
          }
          texts.push(o);
        }
        const first = texts[0]!;
        const second = texts[1]!;
        await sh.write('exit 6\n');
        const exit = await sh.exit;
        return { info: sh.info, exec, first: /33 90/.test(first), second: /40 120/.test(second), exit };
      },
      { host: fx.peer.tunnelAddress4!, password: PASSWORD, hostKey: sshd.hostKeys['ssh-ed25519']!.fingerprint },
    );
    assert.equal(r.info.hostKeyFingerprint, sshd.hostKeys['ssh-ed25519']!.fingerprint);
    assert.equal(r.info.algorithms.strictKex, true);
    assert.deepEqual(r.exec, { stdout: 'out\n', stderr: 'err\n', code: 4 });
    assert.equal(r.first, true);
    assert.equal(r.second, true);
    assert.deepEqual(r.exit, { code: 6 });
    // Accepted once: now in the known hosts, which the page can read.
    const known = await page.evaluate(() => window.wgweb.sshKnownHosts());
    assert.ok(known.includes(sshd.hostKeys['ssh-ed25519']!.line), known);
  });

  test('the SSH tab: a console on a known host opens without a prompt, and 2.4 MB of output (more than one SSH window) through xterm ends with the next prompt', async () => {
    await page.getByRole('tab', { name: 'SSH' }).click();
    await page.locator('wg-ssh-tool #ssh-host').fill(fx.peer.tunnelAddress4!);
    await page.locator('wg-ssh-tool #ssh-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Open console' }).click();
    const rows = page.locator('wg-ssh-tool .xterm-rows');
    await rows.waitFor({ timeout: 30_000 });
    await page.locator('wg-ssh-tool .xterm').click();
    // The marker is computed remotely, so the echoed command line cannot match it.
    await page.keyboard.type('seq 1 350000; echo END-$((6*7))\n');
    await page.waitForFunction(() => {
      const el = document.querySelector('wg-app')?.shadowRoot?.querySelector('wg-tools')?.shadowRoot?.querySelector('wg-ssh-tool')?.shadowRoot?.querySelector('.xterm-rows');
      return /END-42/.test(el?.textContent ?? '');
    }, undefined, { polling: 250, timeout: 120_000 });
    const shown = (await rows.textContent()) ?? '';
    assert.match(shown, /350000/);
    await page.screenshot({ path: join(tmpdir(), 'wgweb-e2e-ssh-console.png') });
    await page.locator('wg-ssh-tool [role=tab] [aria-label=close]').click();
    await page.locator('wg-ssh-tool .xterm').waitFor({ state: 'detached', timeout: 10_000 });
  });

  test('an open shell keeps working across a relay restart: what was typed during the outage and after it both run', async () => {
    const host = fx.peer.tunnelAddress4!;
    await page.evaluate(
      async ({ host, password, hostKey }) => {
        const w = window as unknown as { survivor?: Awaited<ReturnType<typeof window.wgweb.ssh>> };
        w.survivor = await window.wgweb.ssh(host, { username: 'root', password, hostKey });
      },
      { host, password: PASSWORD, hostKey: sshd.hostKeys['ssh-ed25519']!.fingerprint },
    );
    // Markers are computed by the remote shell, so the echo of the typed line never matches them.
    const type = (line: string) => page.evaluate((l) => (window as unknown as { survivor: { write(t: string): Promise<void> } }).survivor.write(l), line);
    const shows = (re: RegExp, what: string) =>
      page.waitForFunction(
        async (src) => new RegExp(src).test(await (window as unknown as { survivor: { output(): Promise<string> } }).survivor.output()),
        re.source,
        { polling: 200, timeout: 60_000 },
      ).catch((e: unknown) => assert.fail(`${what}: ${String(e)}`));
    await type('echo BEFORE-$((1+1))\n');
    await shows(/BEFORE-2/, 'the shell before the restart');

    const port = fx.relay.port;
    await fx.relay.close();
    await page.waitForFunction(() => window.wgweb.events().some((e) => e.type === 'relay-reconnecting'), undefined, { polling: 200, timeout: 30_000 });
    await type('echo DURING-$((2+2))\n');
    relay2 = await startRelay({ port, allow: [formatEndpoint(fx.endpoint)], logger: createLogger({ level: 'error' }), demo: false });
    await page.waitForFunction(() => window.wgweb.events().some((e) => e.type === 'relay-reconnected'), undefined, { polling: 200, timeout: 60_000 });
    // TCP retransmits what was typed during the outage once datagrams flow again.
    await shows(/DURING-4/, 'the line typed while the relay was down');
    await type('echo AFTER-$((3+3))\n');
    await shows(/AFTER-6/, 'the shell after the restart');
    const exit = await page.evaluate(async () => {
      const sh = (window as unknown as { survivor: Awaited<ReturnType<typeof window.wgweb.ssh>> }).survivor;
      await sh.write('exit 3\n');
      return sh.exit;
    });
    assert.deepEqual(exit, { code: 3 });
  });

  test('kept with the profile only after opting in: after a reload it connects without a prompt, a changed key is still refused, and a removed one is asked again', async () => {
    const host = fx.peer.tunnelAddress4!;
    const line = sshd.hostKeys['ssh-ed25519']!.line;
    // Accepted above, but the user has not opted in to remembering: nothing stored.
    assert.equal(await page.evaluate(() => localStorage.getItem('wgweb.sshKnownHosts')), null);
    await page.getByLabel('Remember this config on this device').check();
    const stored = await page.evaluate(() => localStorage.getItem('wgweb.sshKnownHosts'));
    assert.ok(stored?.includes(line), String(stored));

    await page.reload();
    await page.waitForFunction(() => typeof window.wgweb === 'object');
    await page.evaluate(() => window.wgweb.ready);
    // The list is in the SSH tab, with the fingerprint ssh-keygen -l prints.
    await page.getByRole('tab', { name: 'SSH' }).click();
    await page.getByText(/^Known hosts/).click();
    const list = page.getByRole('list', { name: 'Known hosts' });
    await list.waitFor({ timeout: 10_000 });
    assert.match((await list.textContent()) ?? '', new RegExp(sshd.hostKeys['ssh-ed25519']!.fingerprint.replace(/[+/]/g, '\\$&')));
    assert.ok((await page.getByLabel('As known_hosts lines').inputValue()).includes(line));

    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await page.waitForFunction(async () => (await window.wgweb.status())?.state === 'up', undefined, { polling: 200, timeout: 60_000 });
    const again = await page.evaluate(
      async ({ host, password }) => {
        const sh = await window.wgweb.ssh(host, { username: 'root', password });
        const r = await sh.exec('echo remembered');
        sh.close();
        return r.stdout;
      },
      { host, password: PASSWORD },
    );
    assert.equal(again, 'remembered\n');

    // Same address, new host keys: refused, loudly, with no way around it.
    await sshd.close();
    sshd = await startSshd(fx.peer, { host, password: PASSWORD, hostKeyTypes: ['ssh-ed25519'] });
    const codeOf = () =>
      page.evaluate(
        async ({ host, password }) => {
          try {
            await window.wgweb.ssh(host, { username: 'root', password });
            return { code: 'resolved', fingerprint: undefined };
          } catch (e) {
            const err = e as { code?: string; detail?: { fingerprint?: string } };
            return { code: err.code, fingerprint: err.detail?.fingerprint };
          }
        },
        { host, password: PASSWORD },
      );
    assert.equal((await codeOf()).code, 'SSH_HOST_KEY_CHANGED');

    // Removing the entry in the UI forgets it in the worker and in storage: the new key is asked for.
    await page.getByRole('button', { name: `Remove ${host} ssh-ed25519` }).click();
    await page.waitForFunction(() => !localStorage.getItem('wgweb.sshKnownHosts')?.includes('ssh-ed25519'), undefined, { polling: 100, timeout: 10_000 });
    assert.deepEqual(await codeOf(), { code: 'SSH_HOST_KEY_UNKNOWN', fingerprint: sshd.hostKeys['ssh-ed25519']!.fingerprint });
  });
});
