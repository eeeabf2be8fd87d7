/**
 * The screenshot script's table: which PNGs `npm run screenshots` writes, at which sizes and
 * schemes, and how its arguments pick a subset. (Taking the shots needs Chromium and the relay and
 * is run by hand; the README points at its files.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { SHOTS, SIZES, VIEWS, parseArgs, plan, shotName } from '../../scripts/screenshots.mjs';

type Shot = { view: string; size: 'desktop' | 'phone'; scheme: 'light' | 'dark' };
const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('scripts/screenshots.mjs', () => {
  test('the sizes are 1280×800 and 390×844, as issue #18 asks', () => {
    assert.deepEqual(SIZES, { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } });
  });

  test('every view is shot at the desktop size, both sizes and both schemes appear, and no name repeats', () => {
    const shots = SHOTS as Shot[];
    for (const view of VIEWS as string[]) assert.ok(shots.some((s) => s.view === view && s.size === 'desktop'), view);
    for (const size of ['desktop', 'phone']) for (const scheme of ['light', 'dark']) assert.ok(shots.some((s) => s.size === size && s.scheme === scheme), `${size} ${scheme}`);
    const names = shots.map(shotName);
    assert.equal(new Set(names).size, names.length);
  });

  test('a shot is named by view, then -phone, then -dark', () => {
    assert.equal(shotName({ view: 'ping', size: 'desktop', scheme: 'light' }), 'app-ping.png');
    assert.equal(shotName({ view: 'connected', size: 'phone', scheme: 'dark' }), 'app-connected-phone-dark.png');
  });

  test('the plan opens one browser per size and scheme, with its views in walking order', () => {
    const runs = plan(undefined) as { size: string; scheme: string; viewport: object; views: string[] }[];
    assert.equal(runs.length, 4);
    const desktop = runs.find((r) => r.size === 'desktop' && r.scheme === 'light')!;
    assert.deepEqual(desktop.views, ['config', 'connected', 'ping', 'browse']);
    assert.deepEqual(desktop.viewport, { width: 1280, height: 800 });
    assert.equal(runs.find((r) => r.size === 'phone')!.viewport, SIZES.phone);
  });

  test('--only keeps the shots whose file name contains the text; anything else is a usage error', () => {
    assert.deepEqual(parseArgs(['--only', 'dark']), { only: 'dark' });
    const runs = plan('dark') as { scheme: string }[];
    assert.ok(runs.length > 0 && runs.every((r) => r.scheme === 'dark'));
    assert.deepEqual(plan('no-such-shot'), []);
    assert.throws(() => parseArgs(['--verbose']), TypeError);
    assert.throws(() => parseArgs(['--only']), TypeError);
  });

  test('README shows the app through the files the script writes, and each exists', () => {
    const readme = readFileSync(`${REPO}README.md`, 'utf8');
    const used = [...readme.matchAll(/docs\/screenshots\/(app-[a-z-]+\.png)/g)].map((m) => m[1]);
    assert.ok(used.length >= 3, 'README shows at least three of them');
    const written = new Set((SHOTS as Shot[]).map(shotName));
    for (const name of used) {
      assert.ok(written.has(name), `${name} is one the script writes`);
      assert.ok(existsSync(`${REPO}docs/screenshots/${name}`), `${name} is committed`);
    }
  });
});
