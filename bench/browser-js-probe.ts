/**
 * The same JavaScript in a Chromium dedicated worker and in Node (#19): is the tunnel worker's
 * cost per MB Chromium's JIT, or something around it? One probe, bundled once by esbuild
 * (minified, as Vite builds the worker), runs in both places and reports rates:
 *
 *   bench/browser-js-probe-entry.ts ──esbuild──▶ worker.js (IIFE) ──▶ Chromium: page starts a Worker,
 *                                    │                               POSTs the results to this process
 *                                    └─────────▶ probe.mjs (ESM)  ──▶ Node: imported and run here
 *
 * Chromium runs without any DevTools connection (a plain headless start; the results come back
 * by fetch() to a loopback server of this process), because an attached DevTools session changes
 * what is measured. Rounds alternate Chromium and Node; each keeps its best.
 *
 *   node --import tsx bench/browser-js-probe.ts [--rounds 2]
 *
 * Exploratory (docs/benchmarks.md, "Per function in the tunnel worker"): tight loops, wall-clock,
 * so run it on a quiet machine and read the ratios.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { CHROMIUM_ARGS } from '../harness/browser.ts';
import { CHROMIUM_PATH } from '../harness/requirements.ts';

const ENTRY = fileURLToPath(new URL('./browser-js-probe-entry.ts', import.meta.url));

type Rates = Record<string, number>;

/** One run in a fresh headless Chromium: the page starts the worker and POSTs what it measured. */
async function inChromium(workerJs: string): Promise<Rates> {
  const profile = mkdtempSync(join(tmpdir(), 'wgweb-js-probe-'));
  const html = `<!doctype html><script>
const w = new Worker('/w.js');
w.onmessage = (e) => fetch('/result', { method: 'POST', body: JSON.stringify(e.data) });
w.onerror = (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ error: String(e.message) }) });
w.postMessage(0);
</script>`;
  let done!: (r: Rates) => void;
  let fail!: (e: Error) => void;
  const result = new Promise<Rates>((res, rej) => ((done = res), (fail = rej)));
  const server = createServer((req, res) => {
    if (req.url === '/w.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(workerJs);
    if (req.url === '/result') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.end();
        const r = JSON.parse(body) as Rates & { error?: string };
        if (r.error) fail(new Error(`probe failed in Chromium: ${r.error}`));
        else done(r);
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', CHROMIUM_PATH, ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`], { stdio: 'ignore' });
  const timer = setTimeout(() => fail(new Error('no result from Chromium within 120 s')), 120_000);
  try {
    return await result;
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    server.close();
    // Chromium's helper processes may still be writing the profile for a moment after the kill.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 2;
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-js-probe-build-'));
  try {
    const common = { entryPoints: [ENTRY], bundle: true, minify: true, logLevel: 'warning' as const, target: 'es2022' };
    const iife = await build({ ...common, format: 'iife', write: false, define: { PROBE_IN_WORKER: 'true' } });
    await build({ ...common, format: 'esm', outfile: join(dir, 'probe.mjs'), define: { PROBE_IN_WORKER: 'false' } });
    const workerJs = iife.outputFiles[0].text;
    const { runProbe } = (await import(pathToFileURL(join(dir, 'probe.mjs')).href)) as { runProbe: () => Rates };
    const best = { chromium: {} as Rates, node: {} as Rates };
    const keep = (into: Rates, r: Rates): void => {
      for (const [k, v] of Object.entries(r)) into[k] = k.endsWith('Ns') ? Math.min(into[k] ?? Infinity, v) : Math.max(into[k] ?? 0, v);
    };
    process.stdout.write(`load average ${loadavg()[0].toFixed(1)} at start\n`);
    for (let r = 0; r < rounds; r++) {
      keep(best.chromium, await inChromium(workerJs));
      keep(best.node, runProbe());
    }
    process.stdout.write(`load average ${loadavg()[0].toFixed(1)} at the end\n`);
    process.stdout.write(`${'probe'.padEnd(34)} ${'Chromium worker'.padStart(16)} ${'Node'.padStart(10)}  Chromium/Node (rate)\n`);
    for (const k of Object.keys(best.node)) {
      const c = best.chromium[k];
      const n = best.node[k];
      const ratio = k.endsWith('Ns') ? n / c : c / n;
      process.stdout.write(`${k.padEnd(34)} ${c.toFixed(k.endsWith('Ns') ? 0 : 1).padStart(16)} ${n.toFixed(k.endsWith('Ns') ? 0 : 1).padStart(10)}  ${ratio.toFixed(2)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
