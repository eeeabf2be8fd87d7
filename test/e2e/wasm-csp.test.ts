/**
 * The WebAssembly AEAD under the app's Content-Security-Policy in real Chromium (#19 item 4): a
 * dedicated worker takes its policy from its script's response (CSP 3 §4.2.1), so the worker is
 * served with the relay's exact app policy, and once with that policy minus 'wasm-unsafe-eval':
 *
 *   loopback HTTP server ── /app/*    CSP = the app's (UI_CONTENT_SECURITY_POLICY)   ─▶ worker: 'wasm'
 *                        └─ /strict/* CSP = the same without 'wasm-unsafe-eval'        ─▶ worker: 'js'
 *
 * The worker (wasm-csp-worker.ts, bundled here by esbuild) seals and opens a packet either way.
 * And the policy's `connect-src` as the fetch-stream carrier meets it (docs/security.md): a worker
 * under the app's policy may POST to its own origin but not to a plain-http server on another
 * origin, even one whose CORS answer would allow it (`https:` is allowed, `http:` is not).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserSkipReason } from '../../harness/requirements.ts';
import { launchBrowser, type Browser } from '../../harness/browser.ts';
import { UI_CONTENT_SECURITY_POLICY } from '../../src/node/relay/app-security-headers.ts';

const WORKER = fileURLToPath(new URL('./wasm-csp-worker.ts', import.meta.url));
const STRICT = UI_CONTENT_SECURITY_POLICY.replace(" 'wasm-unsafe-eval'", '');
const PAGE_JS = `window.cipher = new Promise((resolve) => {
  const w = new Worker('w.js');
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ error: String(e.message) });
});`;

/** A worker that POSTs to each URL it is given and reports the status or 'refused'. */
const FETCH_WORKER_JS = `self.onmessage = async (e) => {
  const out = [];
  for (const url of e.data) {
    try { out.push((await fetch(url, { method: 'POST', cache: 'no-store' })).status); } catch { out.push('refused'); }
  }
  self.postMessage(out);
};`;

interface WorkerReport {
  impl?: string;
  status?: { available: boolean; reason?: string };
  opens?: boolean;
  error?: string;
}

describe('the WebAssembly AEAD under the app CSP in a Chromium worker', { skip: browserSkipReason() }, () => {
  let server: Server;
  let other: Server;
  let base: string;
  let otherBase: string;
  let browser: Browser;

  before(async () => {
    const bundle = await build({ entryPoints: [WORKER], bundle: true, minify: true, format: 'iife', write: false, target: 'es2022', logLevel: 'warning' });
    const workerJs = bundle.outputFiles[0].text;
    server = createServer((req, res) => {
      const [, policy, file] = /^\/(app|strict)\/(.*)$/.exec(req.url ?? '') ?? [];
      if (!policy) return void res.writeHead(404).end();
      const headers = { 'content-security-policy': policy === 'app' ? UI_CONTENT_SECURITY_POLICY : STRICT, 'cache-control': 'no-store' };
      if (file === 'w.js') return void res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(workerJs);
      if (file === 'page.js') return void res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(PAGE_JS);
      if (file === 'f.js') return void res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(FETCH_WORKER_JS);
      if (file === 'f.html') return void res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!doctype html>');
      if (file === 'post') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!doctype html><script src="page.js"></script>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    // Another origin whose CORS answer lets anyone read it: only the CSP can refuse a fetch to it.
    other = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    otherBase = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await new Promise((r) => other?.close(r));
  });

  async function report(policy: 'app' | 'strict'): Promise<WorkerReport> {
    await browser.page.goto(`${base}/${policy}/`);
    return browser.page.evaluate(() => (window as unknown as { cipher: Promise<WorkerReport> }).cipher);
  }

  test("under the app's policy ('wasm-unsafe-eval' in script-src) the worker seals and opens with WebAssembly", async () => {
    const r = await report('app');
    assert.deepEqual(r, { impl: 'wasm', status: { available: true }, opens: true });
  });

  test("under the same policy without 'wasm-unsafe-eval' compiling is refused and the TypeScript AEAD takes over", async () => {
    const r = await report('strict');
    assert.equal(r.impl, 'js', JSON.stringify(r));
    assert.equal(r.opens, true);
    assert.equal(r.status?.available, false);
    assert.match(r.status?.reason ?? '', /WebAssembly|wasm|Content Security Policy|unsafe-eval/i);
  });

  test("the app's connect-src lets the worker fetch its own origin, not a plain-http server on another origin", async () => {
    await browser.page.goto(`${base}/app/f.html`);
    const got = await browser.page.evaluate(
      (urls) =>
        new Promise<unknown>((resolve) => {
          const w = new Worker('f.js');
          w.onmessage = (e) => resolve(e.data);
          w.onerror = (e) => resolve({ error: String(e.message) });
          w.postMessage(urls);
        }),
      [`${base}/app/post`, `${otherBase}/post`],
    );
    assert.deepEqual(got, [200, 'refused']);
  });
});
