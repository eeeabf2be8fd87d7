/**
 * wgweb as a user installs it: `npm pack` in this checkout, `npm install --omit=dev` of that
 * tarball into an empty folder (the registry supplies only the runtime dependencies), then the
 * installed `wgweb relay` serves the UI and the demo, and the installed CLI fetches, resolves,
 * pings and connects through that relay's demo peer.
 *
 *   npm pack ─▶ wgweb-x.y.z.tgz ─▶ npm install --omit=dev (temp dir) ─▶ node_modules/.bin/wgweb relay
 *     ─▶ GET / , GET /api/demo/config ─▶ wgweb fetch|dns|ping|tcping --config demo.conf
 *
 * Loopback only; the relay is ended by pid and the temp folder removed, also on failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell), capturing its output. */
function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, WGWEB_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('the npm package, packed and installed without dev dependencies', () => {
  let dir: string;
  let tarball: string;
  let files: string[];
  let app: string;
  let relay: ChildProcess | undefined;
  let url: string;
  let config: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-package-'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', dir, ...NPM_FLAGS], REPO);
    assert.equal(pack.status, 0, pack.stderr);
    const info = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[])[0];
    tarball = join(dir, info.filename);
    files = info.files.map((f) => f.path);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
    const install = await run('npm', ['install', '--omit=dev', '--prefer-offline', ...NPM_FLAGS, tarball], app);
    assert.equal(install.status, 0, install.stderr);
  });
  after(async () => {
    if (relay?.pid !== undefined && relay.exitCode === null) {
      const exited = new Promise((r) => relay!.once('exit', r));
      relay.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (relay.exitCode === null) relay.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the tarball has the built UI, the compiled Node side, README, docs and LICENSE; no sources, tests or bench', () => {
    for (const f of ['bin/wgweb.js', 'dist/node/wgweb.js', 'dist/ui/index.html', 'dist/ui/favicon.svg', 'README.md', 'LICENSE', 'docs/relay.md', 'package.json']) {
      assert.ok(files.includes(f), `${f} is packed`);
    }
    assert.ok(files.some((f) => /^dist\/ui\/assets\/index-.+\.js\.br$/.test(f)), 'precompressed bundles are packed');
    assert.deepEqual(files.filter((f) => /^(src|test|bench|harness|scripts)\//.test(f) || f.endsWith('.ts')), []);
  });

  test('the install has the runtime dependencies only: no tsx, vite or typescript', () => {
    const installed = readdirSync(join(app, 'node_modules'));
    for (const dep of ['wgweb', 'ws', '@noble']) assert.ok(installed.includes(dep), `${dep} is installed`);
    for (const dev of ['tsx', 'vite', 'typescript', 'esbuild', 'lit']) assert.ok(!installed.includes(dev), `${dev} is not installed`);
    assert.ok(existsSync(join(app, 'node_modules', '.bin', 'wgweb')));
  });

  test('wgweb relay starts from the install and serves the UI and the demo config', async () => {
    relay = spawn(join(app, 'node_modules', '.bin', 'wgweb'), ['relay', '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    relay.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      relay!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      relay!.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${stderr}`)));
    });
    const page = await fetch(url, { headers: { 'Accept-Encoding': 'br' } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-encoding'), 'br');
    assert.match(await page.text(), /<script type="module"[^>]+src="\.\/assets\/index-/);
    const demo = await fetch(`${url}api/demo/config`);
    assert.equal(demo.status, 200);
    config = await demo.text();
    assert.match(config, /^\[Interface\]/m);
    writeFileSync(join(app, 'demo.conf'), config, { mode: 0o600 });
  });

  test('the installed CLI fetches the demo site, resolves, pings and connects through that relay', async () => {
    assert.ok(url, 'the relay started');
    const wgweb = (...args: string[]) => run(join(app, 'node_modules', '.bin', 'wgweb'), [args[0], '--config', 'demo.conf', '--relay', url.replace(/^http/, 'ws'), ...args.slice(1)], app, 60_000);
    const page = await wgweb('fetch', 'http://intranet.demo/');
    assert.equal(page.status, 0, page.stderr);
    assert.match(page.stdout, /<html/i);
    const dns = await wgweb('dns', 'intranet.demo');
    assert.equal(dns.status, 0, dns.stderr);
    assert.match(dns.stdout, /10\.44\.0\.1/);
    const ping = await wgweb('ping', '-c', '2', '-i', '0.2', '10.44.0.1');
    assert.equal(ping.status, 0, ping.stderr);
    assert.match(ping.stdout, /2 received/);
    const tcping = await wgweb('tcping', 'intranet.demo:80');
    assert.equal(tcping.status, 0, tcping.stderr);
  });
});
