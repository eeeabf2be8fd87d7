/**
 * Papercuts a first-time user meets in the app (issue #18), in real headless Chromium:
 * the config editor's line numbers stay beside their lines when a long config is scrolled, the
 * event log follows new entries, and "Try the demo" neither silently replaces a config nor asks
 * the relay for a new demo config on every click.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason } from '../../harness/requirements.ts';
import { openUi, reloadFresh, type UiSession } from '../../harness/browser.ts';

/** A valid 40-line config: comments pad it so it is far taller than the editor box. */
function fortyLineConfig(): string {
  const head = ['[Interface]', 'PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=', 'Address = 10.8.0.2/32', ''];
  const peer = ['[Peer]', 'PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', 'AllowedIPs = 10.8.0.0/24', 'Endpoint = 127.0.0.1:51820'];
  const pad = Array.from({ length: 40 - head.length - peer.length }, (_, i) => `# comment line ${head.length + i + 1}`);
  return [...head, ...pad, ...peer].join('\n');
}

describe('first use of the app', { skip: browserSkipReason() }, () => {
  let ui: UiSession;
  let page: Page;
  let demoConfigRequests = 0;
  before(async () => {
    ui = await openUi();
    page = ui.page;
    await ui.context.addInitScript(() => {
      // tsx's keepNames wraps functions in __name(); functions sent to the page need it.
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
    });
    // The static server has no relay API: stand in for the relay's demo endpoints.
    await page.route('**/api/demo/info', (r) => r.fulfill({ json: { enabled: true } }));
    await page.route('**/api/demo/config', (r) => {
      demoConfigRequests++;
      return r.fulfill({ contentType: 'text/plain', body: `# demo ${demoConfigRequests}\n${fortyLineConfig().split('\n').slice(1).join('\n').replace(/^# comment.*\n/gm, '')}` });
    });
  });
  after(async () => {
    await ui?.close();
  });

  const fresh = (): Promise<void> => reloadFresh(page);

  test('the number beside each visible line of a scrolled 40-line config is that line’s number', async () => {
    await fresh();
    const editor = page.getByLabel('wg-quick config', { exact: true });
    await editor.fill(fortyLineConfig());
    await editor.evaluate((el: HTMLTextAreaElement) => {
      el.scrollTop = 200;
      el.dispatchEvent(new Event('scroll'));
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const m = await page.locator('wg-config-editor').evaluate((host) => {
      const root = host.shadowRoot!;
      const area = root.querySelector('textarea')!;
      const gutter = root.querySelector<HTMLElement>('.gutter')!;
      const style = getComputedStyle(area);
      const lineHeight = parseFloat(style.lineHeight);
      const box = area.getBoundingClientRect();
      const firstLineTop = box.top + area.clientTop + parseFloat(style.paddingTop) - area.scrollTop;
      const visibleBottom = box.top + area.clientTop + area.clientHeight;
      const rows = [...gutter.querySelectorAll('div')].map((d) => ({ n: Number(d.textContent), top: d.getBoundingClientRect().top }));
      const visible = rows.filter((r) => r.top >= box.top && r.top + lineHeight <= visibleBottom);
      return {
        gutterHeight: gutter.getBoundingClientRect().height,
        areaHeight: box.height,
        rowHeight: rows[1].top - rows[0].top,
        lineHeight,
        visible: visible.map((r) => ({ n: r.n, line: Math.round((r.top - firstLineTop) / lineHeight) + 1, off: r.top - (firstLineTop + (r.n - 1) * lineHeight) })),
      };
    });
    await page.locator('wg-config-editor .frame').screenshot({ path: '/tmp/papercuts-gutter.png' });
    assert.ok(Math.abs(m.gutterHeight - m.areaHeight) < 1, `gutter ${m.gutterHeight}px tall beside a ${m.areaHeight}px textarea`);
    assert.ok(Math.abs(m.rowHeight - m.lineHeight) < 0.01, `gutter rows ${m.rowHeight}px apart, text lines ${m.lineHeight}px`);
    assert.ok(m.visible.length >= 8, `only ${m.visible.length} numbered rows visible`);
    assert.ok(m.visible[0].n > 5, `the textarea scrolled, yet the first visible number is ${m.visible[0].n}`);
    for (const r of m.visible) {
      assert.equal(r.line, r.n, `number ${r.n} is beside line ${r.line}`);
      assert.ok(Math.abs(r.off) < 1, `number ${r.n} is ${r.off}px off its line`);
    }
  });

  test('the event log shows the newest of 200 entries, and stays put once the user scrolls up', async () => {
    await fresh();
    const log = page.locator('wg-event-log');
    // One entry per task, as events stream in during a connect: renders land between the log's
    // own scroll and the scroll event it causes.
    await log.evaluate(async (el) => {
      const host = el as HTMLElement & { entries: { at: number; level: string; message: string }[] };
      for (let i = 1; i <= 200; i++) {
        host.entries = [...host.entries, { at: Date.now(), level: 'info', message: `entry ${i}` }];
        await new Promise((r) => setTimeout(r, i % 3));
      }
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const list = page.getByRole('log', { name: 'Events' });
    const newest = list.getByText('entry 200', { exact: true });
    const inView = () =>
      list.evaluate((el) => {
        const last = [...el.querySelectorAll(':scope > li')].at(-1)!.getBoundingClientRect();
        const box = el.getBoundingClientRect();
        return last.top >= box.top && last.bottom <= box.bottom + 1;
      });
    assert.equal(await newest.count(), 1);
    assert.equal(await inView(), true, 'entry 200 is below the fold of the log');

    // Scrolled up to read: a new entry does not yank the view away.
    await list.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await log.evaluate((el) => {
      const host = el as HTMLElement & { entries: { at: number; level: string; message: string }[] };
      host.entries = [...host.entries, { at: Date.now(), level: 'info', message: 'entry 201' }];
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    assert.equal(await list.evaluate((el) => el.scrollTop), 0);
  });

  test('"Try the demo" asks before replacing a typed config, and reuses the demo config it already got', async () => {
    await fresh();
    demoConfigRequests = 0;
    const editor = page.getByLabel('wg-quick config', { exact: true });
    const mine = '[Interface]\nPrivateKey = mine\n';
    await editor.fill(mine);
    const dialogs: string[] = [];
    let accept = false;
    const onDialog = (d: import('playwright-core').Dialog) => {
      dialogs.push(d.message());
      void (accept ? d.accept() : d.dismiss());
    };
    page.on('dialog', onDialog);
    try {
      const demo = page.getByTestId('try-demo');
      await demo.click();
      assert.equal(dialogs.length, 1);
      assert.match(dialogs[0], /Replace the config in the editor/);
      assert.equal(await editor.inputValue(), mine, 'declining keeps the config');
      assert.equal(demoConfigRequests, 0);

      accept = true;
      await demo.click();
      await assertEditorStartsWith(page, '# demo 1');
      assert.equal(dialogs.length, 2);
      assert.equal(demoConfigRequests, 1);

      // The connect attempt fails (no relay here); once down again, a second click reuses the config.
      await demo.waitFor({ state: 'visible' });
      await demo.click({ timeout: 60_000 });
      await assertEditorStartsWith(page, '# demo 1');
      assert.equal(dialogs.length, 2, 'the editor holds the demo config: no question');
      assert.equal(demoConfigRequests, 1, 'no second demo config registered');
    } finally {
      page.off('dialog', onDialog);
    }
  });
});

async function assertEditorStartsWith(page: Page, prefix: string): Promise<void> {
  const editor = page.getByLabel('wg-quick config', { exact: true });
  await page.waitForFunction(
    ([p]) => {
      const find = (root: Document | ShadowRoot): HTMLTextAreaElement | null => {
        const t = root.querySelector<HTMLTextAreaElement>('textarea#config');
        if (t) return t;
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const f = find(el.shadowRoot); if (f) return f; }
        return null;
      };
      return find(document)?.value.startsWith(p) ?? false;
    },
    [prefix],
  );
  assert.ok((await editor.inputValue()).startsWith(prefix));
}
