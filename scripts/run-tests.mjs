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
import { spawn } from 'node:child_process';
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
//
// Nothing may hang CI (it has a hard wall-clock limit and then reports nothing useful):
//   - every test and suite has a timeout (--test-timeout), so a stuck await fails by name;
//   - --test-force-exit ends a file's process once its tests and hooks are done, even if a socket
//     or child process a failed test left behind would keep the event loop alive;
//   - each group has a wall-clock budget; past it the runner is killed and the group fails, naming
//     the budget, so the rest still runs and CI ends with a report instead of a timeout.
const minutes = (name, fallback) => Number(process.env[name] ?? fallback) * 60_000;
const groups = [
  { name: 'unit', files: files.filter((f) => !slow(f)), concurrency: 2, budgetMs: minutes('WGWEB_UNIT_BUDGET_MIN', 35) },
  { name: 'interop/e2e/package', files: files.filter(slow), concurrency: 1, budgetMs: minutes('WGWEB_SLOW_BUDGET_MIN', 40) },
];
const testTimeoutMs = minutes('WGWEB_TEST_TIMEOUT_MIN', 8);
/** Runs one group in its own process group, so a budget overrun ends every process it started. */
function runGroup(g) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx', '--test', `--test-concurrency=${g.concurrency}`, `--test-timeout=${testTimeoutMs}`,
        '--test-force-exit', '--test-reporter=spec', ...g.files,
      ],
      { cwd: root, stdio: 'inherit', env: process.env, detached: true },
    );
    let overrun = false;
    const timer = setTimeout(() => {
      overrun = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, g.budgetMs);
    const forward = (sig) => () => {
      try {
        process.kill(-child.pid, sig);
      } catch {}
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve({ code, signal, overrun });
    });
  });
}

let status = 0;
for (const g of groups) {
  if (g.files.length === 0) continue;
  const started = Date.now();
  const r = await runGroup(g);
  const took = ((Date.now() - started) / 60_000).toFixed(1);
  if (r.overrun) {
    console.error(`\nrun-tests: the ${g.name} tests were stopped after ${took} min: over their budget of ${g.budgetMs / 60_000} min`);
    status = 1;
  } else if (r.code !== 0) status = r.code ?? 1;
  console.error(`run-tests: ${g.name}: ${g.files.length} files in ${took} min, exit ${r.code ?? r.signal}`);
}
process.exit(status);
