/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs every bench module, each of which measures
 * wgweb next to a baseline in the same run, and writes `bench-results/latest.json` plus a Markdown
 * table (`bench-results/latest.md`). A full run of every module also keeps them as
 * `bench-results/full.{json,md}` and copies the table into docs/benchmarks.md between markers.
 * `--only NAME` runs the modules whose file name contains NAME.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BenchEntry, BenchModule } from './bench-entry.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bench modules in report order; each file exports `bench: BenchModule`. */
const MODULES = [
  'wireguard-bench.ts',
  'aead-bench.ts',
  'tcp-bench.ts',
  'relay-bench.ts',
  'relay-load-bench.ts',
  'relay-bulk-bench.ts',
  'startup-bench.ts',
  'tunnel-bench.ts',
  'browser-bench.ts',
  'browse-bench.ts',
  'browse-websocket-bench.ts',
  'tls-bench.ts',
  'ssh-bench.ts',
  'websocket-bench.ts',
  'iperf3-bench.ts',
];

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return 'not found';
  }
}

/** The version of an npm package as installed (node_modules), or "not installed". */
function packageVersion(name: string): string {
  try {
    const file = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Tracked files with uncommitted changes: the run measured the commit plus these. */
function uncommittedFiles(): string[] {
  try {
    const out = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean).map((l) => l.slice(3));
  } catch {
    return [];
  }
}

function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function markdownTable(entries: BenchEntry[]): string {
  const rows = [
    '| benchmark | what was measured | wgweb | baseline | ratio | goal |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const e of entries) {
    const ours = `${fmt(e.ours.value)} ${e.ours.unit}`;
    const base = e.baseline ? `${fmt(e.baseline.value)} ${e.baseline.unit} (${e.baseline.label})` : '—';
    rows.push(`| ${e.name} | ${e.measured}${e.notes ? ` _${e.notes}_` : ''} | ${ours} | ${base} | ${e.ratio === undefined ? '—' : fmt(e.ratio)} | ${e.goal ?? '—'} |`);
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
  const started = Date.now();
  const uncommitted = uncommittedFiles();
  const environment = {
    date: new Date().toISOString(),
    commit: version('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    /** Tracked files that differed from the commit when the run started. */
    uncommitted,
    node: process.version,
    chromium: version('chromium', ['--version']).replace(/ built on .*/, ''),
    playwrightCore: packageVersion('playwright-core'),
    wireguardGo: version('wireguard-go', ['--version']).replace(/^wireguard-go /, ''),
    kernel: release(),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    /** The 1-minute load average when the run started (a shared machine: other work competes). */
    loadAverage: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    mode: quick ? 'quick' : 'full',
  };
  const entries: BenchEntry[] = [];
  const failures: { module: string; error: string }[] = [];
  for (const file of MODULES) {
    if (only && !file.includes(only)) continue;
    if (!existsSync(new URL(file, import.meta.url))) continue;
    const mod = (await import(`./${file}`)) as { bench?: BenchModule };
    if (!mod.bench) continue;
    process.stderr.write(`bench: ${mod.bench.title} ...\n`);
    const t0 = Date.now();
    try {
      const got = await mod.bench.run({ quick });
      entries.push(...got);
      for (const e of got) process.stderr.write(`  ${e.name}: ${fmt(e.ours.value)} ${e.ours.unit}${e.ratio !== undefined ? `  ratio ${fmt(e.ratio)}` : ''}\n`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      failures.push({ module: file, error: msg });
      process.stderr.write(`  FAILED: ${msg}\n`);
    }
    process.stderr.write(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  const loadAverageAtEnd = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const report = { environment: { ...environment, loadAverageAtEnd }, seconds: (Date.now() - started) / 1000, entries, failures };
  const outDir = new URL('../bench-results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(new URL('latest.json', outDir), JSON.stringify(report, null, 2) + '\n');
  const commit = `${environment.commit}${uncommitted.length ? ` + uncommitted changes in ${uncommitted.length} file${uncommitted.length > 1 ? 's' : ''}` : ''}`;
  const env =
    `Ran ${environment.date} on ${environment.cpu}, ${environment.memoryGiB} GiB, Linux ${environment.kernel}, load average ${environment.loadAverage} at start and ${loadAverageAtEnd} at the end; ` +
    `node ${environment.node}, ${environment.chromium} (playwright-core ${environment.playwrightCore}), wireguard-go ${environment.wireguardGo}; ` +
    `commit ${commit}; ${environment.mode} mode, ${report.seconds.toFixed(0)} s.`;
  const md = `${env}\n\n${markdownTable(entries)}\n${failures.length ? `\nFailed modules: ${failures.map((f) => `${f.module} (${f.error})`).join('; ')}\n` : ''}`;
  writeFileSync(new URL('latest.md', outDir), md);
  // A quick run must not clobber the last full run's figures.
  if (!quick && !only) {
    writeFileSync(new URL('full.json', outDir), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(new URL('full.md', outDir), md);
  }
  const docs = new URL('../docs/benchmarks.md', import.meta.url);
  // Only a full run of every module replaces the table (an --only run would drop the other rows).
  if (existsSync(docs) && !quick && !only) {
    const text = readFileSync(docs, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a >= 0 && b > a) writeFileSync(docs, `${text.slice(0, a + start.length)}\n${md}\n${text.slice(b)}`);
  }
  process.stdout.write(md);
  if (failures.length) process.exitCode = 1;
}

await main();
