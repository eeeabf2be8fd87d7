#!/usr/bin/env node
// Runs the test suite with Node's built-in test runner, TypeScript loaded through tsx.
//
//   npm test                  every test: unit, interop (real wireguard-go) and e2e (headless Chromium)
//   npm test -- --unit        only the in-memory unit tests (no root, no namespaces, no browser,
//                             no npm pack/install: test/package/ runs with the slow suites)
//   npm test -- PATTERN...    only test files whose path contains one of the patterns
//
// Interop and e2e suites need root, wireguard-go and chromium. Outside CI they skip with a reason
// when those are missing; with CI=true they fail instead, so CI can never pass by skipping them.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const patterns = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const slow = (f) => /[\\/](interop|e2e|package)[\\/]/.test(f);
let files = walk(join(root, 'test')).map((f) => relative(root, f)).sort();
if (unitOnly) files = files.filter((f) => !slow(f));
if (patterns.length) files = files.filter((f) => patterns.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Unit files run in parallel; interop/e2e files share the machine's two cores with real peers and
// a browser, so they run one at a time to keep timing-sensitive protocols honest.
const groups = [
  { files: files.filter((f) => !slow(f)), concurrency: 2 },
  { files: files.filter(slow), concurrency: 1 },
];
let status = 0;
for (const g of groups) {
  if (g.files.length === 0) continue;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${g.concurrency}`, '--test-reporter=spec', ...g.files],
    { cwd: root, stdio: 'inherit', env: process.env },
  );
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
