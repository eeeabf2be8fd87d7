/**
 * `npm install` stays quiet about install scripts (issue #18 item 8): every dependency in the lock
 * file that has one is reviewed in package.json's `allowScripts` (npm 11.16+ warns on each install
 * otherwise, npm 12 blocks). esbuild's postinstall only re-checks or downloads the platform binary
 * its optional dependency already brings, and nothing may download binaries at install time here,
 * so it is denied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
};

test('every locked dependency with an install script has an allowScripts entry (no npm install warning)', () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.hasInstallScript)
    .map(([path, p]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), version: p.version }));
  assert.ok(withScripts.length > 0, 'the lock file still has esbuild, whose postinstall this test is about');
  const reviewed = pkg.allowScripts ?? {};
  for (const { name, version } of withScripts) {
    const entry = reviewed[name] ?? reviewed[`${name}@${version}`];
    assert.equal(typeof entry, 'boolean', `${name}@${version} has an install script and no allowScripts entry`);
  }
  assert.equal(reviewed.esbuild, false, 'esbuild\'s postinstall is denied: it could download a binary at install time');
});
