/**
 * `window.wgweb.ssh()` end to end: the SSH client runs in the tunnel worker (src/protocols/ssh over
 * wgweb's TCP/IP), through the relay and a real wireguard-go, to OpenSSH's sshd in the namespace.
 *
 *   page: wgweb.ssh ──comlink──▶ worker: SshService ─▶ Session.ssh ──ws──▶ relay ──UDP──▶
 *       wireguard-go (namespace) ── kernel TCP ── sshd :22 (harness/ssh-servers.ts)
 *
 * Also: the SSH tab's consoles (xterm.js: several in tabs, UTF-8, paste/copy, scrollback, exit
 * status), page API close(), a shell surviving a relay restart, known hosts kept with the profile.
 * Screenshots of two consoles (one ended) go to the temp directory; WGWEB_SCREENSHOTS=1 also
 * saves docs/screenshots/ssh-consoles.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSshd, type SshServer } from '../../harness/ssh-servers.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp, pollPage } from '../../harness/browser.ts';
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
    await waitForTunnelUp(page);
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

  // ── The SSH tab as a terminal: several consoles, UTF-8, paste/copy, scrollback, exit status ──

  const terms = () => page.locator('wg-ssh-tool .term');
  const tabs = () => page.locator('wg-ssh-tool [role=tablist] [role=tab]');
  /** The rows console `i` shows now, one string per terminal row. */
  const rowsOf = async (i: number): Promise<string[]> => (await terms().nth(i).locator('.xterm-rows > div').allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
  /** Waits (bounded) until one of console `i`'s rows matches `re`; fails with what the console showed. */
  const waitRow = async (i: number, re: RegExp, what: string): Promise<string[]> => {
    let rows: string[] = [];
    for (let n = 0; n < 150; n++) {
      rows = await rowsOf(i);
      if (rows.some((r) => re.test(r))) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
    return assert.fail(`${what}: no row of console ${i} matches ${re}; it shows:\n${rows.join('\n')}`);
  };
  /** Clicks into console `i` (shown) and types `text` as keystrokes. */
  const typeInto = async (i: number, text: string): Promise<void> => {
    await terms().nth(i).locator('.xterm-screen').click();
    await page.keyboard.type(text);
  };
  const openConsole = async (count: number): Promise<void> => {
    await page.getByRole('button', { name: 'Open console' }).click();
    await tabs().nth(count - 1).waitFor({ timeout: 30_000 });
    await terms().nth(count - 1).locator('.xterm-rows').waitFor({ timeout: 30_000 });
  };

  test('the SSH tab opens several consoles in tabs, each its own shell: typing goes to the selected one only', async () => {
    await page.locator('wg-ssh-tool #ssh-host').fill(fx.peer.tunnelAddress4!);
    await page.locator('wg-ssh-tool #ssh-password').fill(PASSWORD);
    await openConsole(1);
    await openConsole(2);
    assert.equal(await tabs().count(), 2);
    // Two consoles to the same host are told apart by their tab titles.
    const titles = (await tabs().allTextContents()).map((t) => t.replace('✕', '').trim());
    assert.notEqual(titles[0], titles[1], titles.join(' | '));
    assert.equal(await tabs().nth(1).getAttribute('aria-selected'), 'true');
    // Markers are computed by the remote shell, so the echo of the typed line never matches them.
    await typeInto(1, 'echo TWO-$((1+1))\n');
    await waitRow(1, /^TWO-2$/, 'the second console runs what is typed into it');
    await tabs().nth(0).click();
    assert.equal(await terms().nth(1).isVisible(), false, 'only the selected console is shown');
    await typeInto(0, 'echo ONE-$((0+1))\n');
    await waitRow(0, /^ONE-1$/, 'the first console runs what is typed into it');
    assert.ok(!(await rowsOf(0)).some((r) => /TWO/.test(r)), 'the first console never saw the second one\'s input');
    assert.ok(!(await rowsOf(1)).some((r) => /ONE/.test(r)), 'the second console never saw the first one\'s input');
  });

  test('UTF-8 both ways: ü€😀 printed by the server shows as such, and ü€😀 typed reaches the server as its UTF-8 bytes', async () => {
    await tabs().nth(1).click();
    // printf with octal escapes: the typed line is ASCII, only the output carries UTF-8.
    await typeInto(1, "printf 'U8:\\303\\274\\342\\202\\254\\360\\237\\230\\200:END\\n'\n");
    await waitRow(1, /^U8:ü€😀 ?:END$/, 'the server\'s UTF-8 decoded in the terminal');
    // The tty passes the line through unchanged (no readline involved); od shows its bytes. Keys
    // typed while readline still has the tty raw would skip the line discipline's CR→NL, so type
    // only once the shell has printed READY (after readline has handed the tty back).
    await typeInto(1, 'echo READY-$((3*3)); head -n1 | od -An -tx1\n');
    await waitRow(1, /^READY-9$/, 'the shell runs the od line');
    await page.keyboard.type('ü€😀');
    await page.keyboard.press('Enter');
    await waitRow(1, /^ ?c3 bc e2 82 ac f0 9f 98 80 0a$/, 'the typed UTF-8 as bytes on the server');
  });

  test('paste and copy: Ctrl+Shift+V and the browser\'s paste event send the clipboard to the shell; a double-clicked word is copied by Ctrl+Shift+C and by the copy event; Ctrl+C stays the interrupt', async () => {
    await ui.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(fx.relay.url).origin });
    const textarea = terms().nth(1).locator('.xterm-helper-textarea');
    await terms().nth(1).locator('.xterm-screen').click();
    // The paste event is what the browser fires for its context menu's Paste (and ⌘V, Ctrl+Shift+V).
    await textarea.evaluate((ta) => {
      const clipboardData = new DataTransfer();
      clipboardData.setData('text/plain', 'echo PASTED-$((5*5))');
      ta.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
    });
    await page.keyboard.press('Enter');
    await waitRow(1, /^PASTED-25$/, 'the pasted line ran');
    // The keyboard: the system clipboard through Ctrl+Shift+V.
    await page.evaluate(() => navigator.clipboard.writeText('echo KEYPASTE-$((6*6))'));
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await waitRow(1, /^KEYPASTE-36$/, 'the line pasted with Ctrl+Shift+V ran');

    // Double-click selects a word (as in a desktop terminal).
    const rows = terms().nth(1).locator('.xterm-rows > div');
    const texts = (await rows.allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trim());
    const at = texts.lastIndexOf('PASTED-25');
    assert.ok(at >= 0, texts.join('\n'));
    // (xterm's screen layer takes the mouse; the row only says where the word is.)
    const row = (await rows.nth(at).boundingBox())!;
    await page.mouse.dblclick(row.x + 12, row.y + row.height / 2);
    const copied = await textarea.evaluate((ta) => {
      const clipboardData = new DataTransfer();
      ta.dispatchEvent(new ClipboardEvent('copy', { clipboardData, bubbles: true, cancelable: true }));
      return clipboardData.getData('text/plain');
    });
    assert.equal(copied, 'PASTED-25', 'the copy event (context menu Copy, ⌘C) takes the selection');
    await page.evaluate(() => navigator.clipboard.writeText('before'));
    await page.keyboard.press('Control+Shift+C');
    let clip = '';
    for (let n = 0; n < 50 && clip !== 'PASTED-25'; n++) {
      clip = await page.evaluate(() => navigator.clipboard.readText());
      if (clip !== 'PASTED-25') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(clip, 'PASTED-25', 'Ctrl+Shift+C put the selection on the clipboard');

    // Ctrl+C stays the shell's interrupt, with a selection on the screen too (it does not copy).
    await typeInto(1, 'sleep 120\n');
    await waitRow(1, /sleep 120$/, 'the sleep was typed');
    const again = (await rows.allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trim()).lastIndexOf('PASTED-25');
    const word = (await rows.nth(again).boundingBox())!;
    await page.mouse.dblclick(word.x + 12, word.y + word.height / 2);
    await page.evaluate(() => navigator.clipboard.writeText('untouched'));
    await page.keyboard.press('Control+C');
    await page.keyboard.type('echo INT-$((7*6))\n');
    await waitRow(1, /^INT-42$/, 'Ctrl+C ended the sleep (else this waits two minutes)');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'untouched', 'Ctrl+C did not copy');
  });

  test('scrollback: lines scrolled off the screen come back when scrolling up with the mouse wheel or Shift+PageUp, a page at a time', async () => {
    await typeInto(1, 'for i in $(seq 1 120); do echo SB-$i; done\n');
    await waitRow(1, /^SB-120$/, 'the last line of the loop');
    assert.ok(!(await rowsOf(1)).includes('SB-1'), 'the first line has scrolled off the screen');
    const box = (await terms().nth(1).locator('.xterm-screen').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    let rows: string[] = [];
    for (let n = 0; n < 150 && !rows.includes('SB-1'); n++) {
      await page.mouse.wheel(0, -1500);
      await new Promise((r) => setTimeout(r, 100));
      rows = await rowsOf(1);
    }
    assert.ok(rows.includes('SB-1'), `scrolled up, the terminal shows:\n${rows.join('\n')}`);
    assert.ok(!rows.includes('SB-120'), 'and no longer the bottom');
    // The keyboard does the same, a page at a time, as in desktop terminals: Shift+PageDown back
    // to the bottom, Shift+PageUp up to the first line again.
    await terms().nth(1).locator('.xterm-screen').click();
    for (let n = 0; n < 20 && !rows.includes('SB-120'); n++) {
      await page.keyboard.press('Shift+PageDown');
      rows = await rowsOf(1);
    }
    assert.ok(rows.includes('SB-120'), `after Shift+PageDown the terminal shows:\n${rows.join('\n')}`);
    let pages = 0;
    for (; pages < 20 && !rows.includes('SB-1'); pages++) {
      await page.keyboard.press('Shift+PageUp');
      rows = await rowsOf(1);
    }
    assert.ok(rows.includes('SB-1') && pages > 1, `after ${pages} × Shift+PageUp the terminal shows:\n${rows.join('\n')}`);
  });

  test('a console whose shell ends shows its exit status (or signal) and stays readable; the other goes on', async () => {
    await tabs().nth(0).click();
    await typeInto(0, 'exit 3\n');
    const status = page.locator('wg-ssh-tool .status-line').nth(0);
    await status.getByText('Exited with status 3').waitFor({ timeout: 30_000 });
    assert.match((await tabs().nth(0).textContent()) ?? '', /\(exit 3\)/);
    assert.ok((await rowsOf(0)).some((r) => r === 'ONE-1'), 'the ended console still shows what it printed');
    await tabs().nth(1).click();
    await typeInto(1, 'echo STILL-$((2*3))\n');
    await waitRow(1, /^STILL-6$/, 'the other console is unaffected');
    // Screenshots of two consoles, one ended: the ended one selected, in light and dark, desktop and phone.
    await tabs().nth(0).click();
    for (const [size, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
      await page.setViewportSize(viewport);
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        // The page's colours follow the scheme (a frame later) before the shot.
        await page.waitForFunction((dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark && new Promise((r) => requestAnimationFrame(() => r(true))), colorScheme === 'dark', { timeout: 10_000 });
        const name = `ssh-consoles${size === 'phone' ? '-phone' : ''}${colorScheme === 'dark' ? '-dark' : ''}.png`;
        await page.locator('wg-ssh-tool').screenshot({ path: join(tmpdir(), `wgweb-e2e-${name}`) });
        // The repository keeps one of them (docs/ssh.md shows it).
        if (process.env.WGWEB_SCREENSHOTS && size === 'desktop' && colorScheme === 'light') await page.locator('wg-ssh-tool').screenshot({ path: fileURLToPath(new URL(`../../docs/screenshots/${name}`, import.meta.url)) });
      }
    }
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    // Killed by a signal: the signal's name.
    await tabs().nth(1).click();
    await typeInto(1, 'kill -KILL $$\n');
    await page.locator('wg-ssh-tool .status-line').nth(1).getByText('Ended by signal KILL').waitFor({ timeout: 30_000 });
    for (let n = 2; n > 0; n--) await page.locator('wg-ssh-tool [role=tab] [aria-label=close]').first().click();
    await terms().first().waitFor({ state: 'detached', timeout: 10_000 });
  });

  test('page API close(): the server ends the session (its foreground job is gone) and the console refuses writes', async () => {
    const host = fx.peer.tunnelAddress4!;
    const hostKey = sshd.hostKeys['ssh-ed25519']!.fingerprint;
    const marker = 4242 + Math.floor(Math.random() * 1000);
    // (No named functions inside evaluate: tsx's __name helper does not exist in the page.)
    const r = await page.evaluate(
      async ({ host, password, hostKey, marker }) => {
        const sh = await window.wgweb.ssh(host, { username: 'root', password, hostKey });
        const probe = await window.wgweb.ssh(host, { username: 'root', password, hostKey });
        const pgrep = `pgrep -f "^sleep ${marker}$" || true`;
        await sh.write(`sleep ${marker}\n`);
        let before = false;
        for (let i = 0; i < 100 && !before; i++) {
          before = (await probe.exec(pgrep)).stdout.trim() !== '';
          if (!before) await new Promise((r) => setTimeout(r, 100));
        }
        await sh.close();
        let after = true;
        for (let i = 0; i < 100 && after; i++) {
          after = (await probe.exec(pgrep)).stdout.trim() !== '';
          if (after) await new Promise((r) => setTimeout(r, 100));
        }
        let writeAfterClose = 'resolved';
        try {
          await sh.write('echo nope\n');
        } catch (e) {
          writeAfterClose = (e as { code?: string }).code ?? String(e);
        }
        await probe.close();
        return { before, after, writeAfterClose };
      },
      { host, password: PASSWORD, hostKey, marker },
    );
    assert.deepEqual(r, { before: true, after: false, writeAfterClose: 'NOT_CONNECTED' });
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
      pollPage(page, what, async (src) => new RegExp(src).test(await (window as unknown as { survivor: { output(): Promise<string> } }).survivor.output()), re.source);
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

  test('Generate key: an Ed25519 pair made in the page, its authorized_keys line added on the server, opens a console with the key alone', async () => {
    await page.getByRole('tab', { name: 'SSH' }).click();
    const tool = page.locator('wg-ssh-tool');
    await tool.getByLabel('Use a private key').check();
    await tool.getByRole('button', { name: 'Generate key' }).click();
    const shown = tool.locator('.alert.info .fingerprint');
    await shown.waitFor({ timeout: 10_000 });
    const line = ((await shown.textContent()) ?? '').trim();
    assert.match(line, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=* wgweb$/);
    assert.match(await tool.locator('#ssh-key').inputValue(), /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+-----END OPENSSH PRIVATE KEY-----\n?$/);
    // The server (started above with a password only) learns the key the page showed.
    sshd.authorize(line);
    await tool.locator('#ssh-host').fill(fx.peer.tunnelAddress4!);
    const before = await tabs().count();
    await openConsole(before + 1);
    await typeInto(before, 'echo KEY-$((6*7))\n');
    await waitRow(before, /^KEY-42$/, 'a shell opened with the generated key');
    assert.match(sshd.output(), /Accepted publickey for root .* ED25519/);
    await tool.getByLabel('Use a private key').uncheck();
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
    await waitForTunnelUp(page);
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
