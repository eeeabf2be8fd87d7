/**
 * harness/browser.ts is how tests wait on the page. Playwright's `page.waitForFunction` stops at
 * the predicate's first truthy value without awaiting it, and a Promise is truthy: with an async
 * predicate it returns after the first call whatever the page says (test/e2e/poll-page.test.ts
 * shows the difference in Chromium). Such waits crept into 20 e2e files; this keeps them out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `page.waitForFunction(async …` (also `async (arg) =>` and `async function`), across line breaks. */
const ASYNC_WAIT = /\bwaitForFunction\(\s*async\b/g;

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : typescriptFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Where `text` hands waitForFunction an async predicate, as file:line. */
function asyncWaitsIn(text: string, file: string): string[] {
  return [...text.matchAll(ASYNC_WAIT)].map((m) => `${file}:${text.slice(0, m.index).split('\n').length}`);
}

test('the pattern finds an async predicate, also on the next line, and leaves sync ones and pollPage alone', () => {
  assert.deepEqual(asyncWaitsIn("await page.waitForFunction(async () => (await x())?.ok);\n", 'a.ts'), ['a.ts:1']);
  assert.deepEqual(asyncWaitsIn('x;\npage.waitForFunction(\n  async (src) => f(src),\n  s,\n);', 'b.ts'), ['b.ts:2']);
  assert.deepEqual(asyncWaitsIn("page.waitForFunction(() => typeof window.wgweb === 'object');\npollPage(page, 'up', async () => true);", 'c.ts'), []);
});

test('no test, harness or bench file hands page.waitForFunction an async predicate (use pollPage from harness/browser.ts)', () => {
  const found = ['test', 'harness', 'bench']
    .flatMap((d) => typescriptFiles(join(ROOT, d)))
    .filter((f) => !f.endsWith(join('test', 'harness', 'browser.test.ts')))
    .flatMap((f) => asyncWaitsIn(readFileSync(f, 'utf8'), relative(ROOT, f)));
  assert.deepEqual(found, [], `these waits return after the first call: use pollPage(page, what, fn) or waitForTunnelUp(page)`);
});
