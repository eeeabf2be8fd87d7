/**
 * What it costs to start and serve wgweb, each next to a baseline measured in the same run:
 *
 *   startup.relay-listen    spawn → "listening" line: `wgweb relay` (compiled, dist/node) vs a bare
 *                           `ws` program (http.createServer + WebSocketServer, nothing else)
 *   startup.relay-idle-rss  the same two processes' RSS once listening and idle
 *   startup.help            `wgweb --help` to exit (compiled) vs `node -e 0`
 *   startup.help-tsx        `wgweb --help` compiled vs the same through tsx (how every start ran
 *                           before dist/node; tsx's disk cache is warm)
 *   ui.first-load-bytes     bytes on the wire for a first visit that connects: index.html, what it
 *                           links (script, style, icon, manifest) and the tunnel worker, with
 *                           `Accept-Encoding: br, gzip` vs without (what the relay sent before)
 *
 * Every process is started the same way (setpriv --pdeathsig, cwd the repository); figures are
 * medians. The relay runs with --no-demo so it compares with the bare program; the note gives the
 * default (demo on) figure too.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowerIsBetter, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';
import { rssKiB, startBenchChild, type BenchChild } from './bench-child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'wgweb.js');
const LISTENING = /listening on (http:\/\/\S+?\/)/;

/** The baseline server: what any Node WebSocket relay needs at least. */
const BARE_WS = [
  "const http = require('node:http');",
  "const { WebSocketServer } = require('ws');",
  "const server = http.createServer((req, res) => res.end('ok'));",
  'new WebSocketServer({ server });',
  "server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port + '/'));",
].join(' ');

const TSX_HELP = "const { main } = await import('./src/node/cli/main.ts'); process.exitCode = await main(['--help']);";

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Starts `node ...args`, resolves with the time to its "listening" line and the running child. */
async function timedStart(args: string[], name: string): Promise<{ ms: number; child: BenchChild }> {
  const t0 = performance.now();
  const child = await startBenchChild(args, LISTENING, { name });
  return { ms: performance.now() - t0, child };
}

/** Time from spawn to exit of `node ...args` (its stdout discarded), ms. */
async function timedRun(args: string[]): Promise<number> {
  const { spawn } = await import('node:child_process');
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, ...args], { cwd: ROOT, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}`);
  return ms;
}

async function idleRss(child: BenchChild): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  return rssKiB(child.pid) / 1024;
}

/** Bytes a first visit transfers from `base`, with or without compression. */
async function firstLoadBytes(base: string, compressed: boolean): Promise<{ bytes: number; files: number }> {
  const headers: Record<string, string> = compressed ? { 'Accept-Encoding': 'br, gzip' } : { 'Accept-Encoding': 'identity' };
  const wire = async (path: string): Promise<{ bytes: number; text: string }> => {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, base), { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', async () => {
          const raw = Buffer.concat(chunks);
          if (res.statusCode !== 200) return reject(new Error(`GET ${path}: ${res.statusCode}`));
          const { brotliDecompressSync, gunzipSync } = await import('node:zlib');
          const enc = res.headers['content-encoding'];
          const text = (enc === 'br' ? brotliDecompressSync(raw) : enc === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
          resolve({ bytes: raw.length, text });
        });
      });
      req.on('error', reject);
      req.end();
    });
  };
  const page = await wire('/');
  const linked = [...page.text.matchAll(/\s(?:src|href)="\.?\/?([^"#?]+)"/g)].map((m) => m[1]).filter((p) => !/^[a-z]+:/.test(p));
  let bytes = page.bytes;
  let files = 1;
  for (const path of new Set(linked)) {
    const got = await wire(`/${path}`);
    bytes += got.bytes;
    files++;
    // The entry script names the tunnel worker the app starts on connect.
    for (const m of got.text.matchAll(/tunnel-worker-[A-Za-z0-9_-]+\.js/g)) {
      const worker = await wire(`/assets/${m[0]}`);
      bytes += worker.bytes;
      files++;
      break;
    }
  }
  return { bytes, files };
}

export const bench: BenchModule = {
  title: 'start-up, memory and first page load (compiled build)',
  async run(options: BenchOptions): Promise<BenchEntry[]> {
    const { buildAll } = (await import(join(ROOT, 'scripts', 'build.mjs'))) as { buildAll: () => Promise<string[]> };
    await buildAll();
    const rounds = options.quick ? 3 : 7;
    const relayMs: number[] = [];
    const bareMs: number[] = [];
    const relayRss: number[] = [];
    const bareRss: number[] = [];
    const demoRss: number[] = [];
    let load: { plain: { bytes: number; files: number }; packed: { bytes: number; files: number } } | undefined;
    for (let i = 0; i < rounds; i++) {
      const relay = await timedStart([BIN, 'relay', '--listen', '127.0.0.1:0', '--no-demo', '--log-level', 'error'], 'wgweb relay');
      try {
        relayMs.push(relay.ms);
        relayRss.push(await idleRss(relay.child));
        if (!load) {
          const base = relay.child.match[1];
          load = { plain: await firstLoadBytes(base, false), packed: await firstLoadBytes(base, true) };
        }
      } finally {
        await relay.child.stop();
      }
      const bare = await timedStart(['-e', BARE_WS], 'bare ws');
      try {
        bareMs.push(bare.ms);
        bareRss.push(await idleRss(bare.child));
      } finally {
        await bare.child.stop();
      }
      if (i === 0 || !options.quick) {
        const demo = await timedStart([BIN, 'relay', '--listen', '127.0.0.1:0', '--log-level', 'error'], 'wgweb relay (demo)');
        try {
          demoRss.push(await idleRss(demo.child));
        } finally {
          await demo.child.stop();
        }
      }
    }
    const helpMs: number[] = [];
    const nodeMs: number[] = [];
    const tsxMs: number[] = [];
    await timedRun(['--import', 'tsx', '--input-type=module', '-e', TSX_HELP]); // warm tsx's cache
    for (let i = 0; i < rounds; i++) {
      helpMs.push(await timedRun([BIN, '--help']));
      nodeMs.push(await timedRun(['-e', '0']));
      tsxMs.push(await timedRun(['--import', 'tsx', '--input-type=module', '-e', TSX_HELP]));
    }
    const m = {
      relayMs: median(relayMs),
      bareMs: median(bareMs),
      relayRss: median(relayRss),
      bareRss: median(bareRss),
      demoRss: median(demoRss),
      helpMs: median(helpMs),
      nodeMs: median(nodeMs),
      tsxMs: median(tsxMs),
    };
    const entries: BenchEntry[] = [
      {
        name: 'startup.relay-listen',
        measured: `spawn to the "listening" line, median of ${rounds}: \`wgweb relay --no-demo\` (compiled) vs a bare \`ws\` server program`,
        ours: { label: 'wgweb relay', value: m.relayMs, unit: 'ms' },
        baseline: { label: 'bare ws program', value: m.bareMs, unit: 'ms' },
        ratio: lowerIsBetter(m.relayMs, m.bareMs),
        goal: 'ratio ≥ 0.5',
      },
      {
        name: 'startup.relay-idle-rss',
        measured: `RSS 1 s after listening, idle, median of ${rounds}: \`wgweb relay --no-demo\` vs the bare \`ws\` program`,
        ours: { label: 'wgweb relay', value: m.relayRss, unit: 'MiB' },
        baseline: { label: 'bare ws program', value: m.bareRss, unit: 'MiB' },
        ratio: lowerIsBetter(m.relayRss, m.bareRss),
        goal: 'ratio ≥ 0.7',
        notes: `with the demo peer (the loopback default): ${m.demoRss.toFixed(1)} MiB`,
      },
      {
        name: 'startup.help',
        measured: `\`wgweb --help\` spawn to exit, median of ${rounds}, vs \`node -e 0\``,
        ours: { label: 'wgweb --help', value: m.helpMs, unit: 'ms' },
        baseline: { label: 'node -e 0', value: m.nodeMs, unit: 'ms' },
        ratio: lowerIsBetter(m.helpMs, m.nodeMs),
        goal: 'ratio ≥ 0.6',
      },
      {
        name: 'startup.help-tsx',
        measured: `\`wgweb --help\` compiled (dist/node) vs the same code compiled on load by tsx (warm cache), median of ${rounds}`,
        ours: { label: 'compiled', value: m.helpMs, unit: 'ms' },
        baseline: { label: 'tsx', value: m.tsxMs, unit: 'ms' },
        ratio: lowerIsBetter(m.helpMs, m.tsxMs),
        goal: 'ratio ≥ 1.5',
      },
    ];
    if (load) {
      entries.push({
        name: 'ui.first-load-bytes',
        measured: `bytes on the wire for index.html, what it links and the tunnel worker (${load.packed.files} files): \`Accept-Encoding: br, gzip\` vs identity`,
        ours: { label: 'br/gzip', value: load.packed.bytes / 1024, unit: 'KiB' },
        baseline: { label: 'uncompressed', value: load.plain.bytes / 1024, unit: 'KiB' },
        ratio: lowerIsBetter(load.packed.bytes, load.plain.bytes),
        goal: 'ratio ≥ 3',
      });
    }
    return entries;
  },
};
