#!/usr/bin/env node
// Builds what wgweb runs from, each part only when its sources changed:
//
//   dist/ui/    the browser app (Lit UI + tunnel worker + public/) with Vite (vite.config.ts), then
//               every compressible file precompressed beside itself (x.js.br, x.js.gz) for the relay
//   dist/node/  the Node side (src/node/cli/main.ts and everything it imports: relay, demo, CLI
//               commands, the engine) compiled by esbuild to ES modules with source maps
//
//   node scripts/build.mjs            build what is stale (silent when nothing is)
//   node scripts/build.mjs --force    build both
//   node scripts/build.mjs --verbose  say why each part builds or skips
//
// Why esbuild for the Node side (docs/building.md): the sources import each other with `.ts`
// extensions, which esbuild rewrites while bundling; tsc would need rewriteRelativeImportExtensions
// and would still emit ~200 files that Node resolves one by one at start. esbuild bundles into a
// few chunks in ~0.3 s (the type check stays `npm run typecheck`), keeps each CLI command and the
// demo in their own lazily loaded chunk (static `import()` + splitting), and leaves npm packages
// external so `dependencies` stay the real ones. It is already installed with vite and tsx.
//
// The freshness check lets `npm start` and bin/wgweb.js run it before every start at little cost.
// Progress goes to stderr: `npm pack --json` runs this (prepack) and its stdout must stay JSON.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const uiDir = join(root, 'dist', 'ui');
/** Written after Vite and the precompression finished: its time marks a complete UI build. */
const UI_STAMP = join(root, 'dist', 'ui-build.json');
const nodeDir = join(root, 'dist', 'node');
/** The compiled CLI entry (exports `main`); bin/wgweb.js runs it. */
export const NODE_ENTRY = join(nodeDir, 'wgweb.js');
/** Written last by the Node build: the esbuild inputs, so freshness checks exactly those files. */
const NODE_STAMP = join(nodeDir, 'build-info.json');
/** Everything the UI bundle is made from. */
const UI_SOURCES = ['src', 'public', 'vite.config.ts', 'package.json', 'package-lock.json', 'scripts/build.mjs'];
/** Besides its esbuild inputs, the Node build depends on these. */
const NODE_EXTRA_SOURCES = ['package.json', 'package-lock.json', 'scripts/build.mjs'];
/** Extensions worth compressing (text); images other than SVG are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.webmanifest', '.txt', '.wasm']);
/** Files smaller than this gain nothing from compression (one TCP segment either way). */
const MIN_COMPRESS_BYTES = 1024;

function newestMtime(path) {
  if (!existsSync(path)) return { mtime: 0, path };
  const st = statSync(path);
  if (!st.isDirectory()) return { mtime: st.mtimeMs, path };
  let newest = { mtime: st.mtimeMs, path };
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const n = newestMtime(join(path, name));
    if (n.mtime > newest.mtime) newest = n;
  }
  return newest;
}

function newestOf(paths) {
  let newest = { mtime: 0, path: '' };
  for (const p of paths) {
    const n = newestMtime(join(root, p));
    if (n.mtime > newest.mtime) newest = n;
  }
  return newest;
}

/** Why dist/ui must be rebuilt, or undefined when it is up to date. */
export function uiStaleReason() {
  if (!existsSync(UI_STAMP) || !existsSync(join(uiDir, 'index.html'))) return 'dist/ui has no build yet';
  const newest = newestOf(UI_SOURCES);
  return newest.mtime > statSync(UI_STAMP).mtimeMs ? `${relative(root, newest.path)} changed since the last build` : undefined;
}

/** Why dist/node must be rebuilt, or undefined when it is up to date. Only stats the build's inputs. */
export function nodeStaleReason() {
  if (!existsSync(NODE_STAMP) || !existsSync(NODE_ENTRY)) return 'dist/node has no build yet';
  let info;
  try {
    info = JSON.parse(readFileSync(NODE_STAMP, 'utf8'));
  } catch {
    return 'dist/node/build-info.json is unreadable';
  }
  if (!Array.isArray(info.inputs)) return 'dist/node/build-info.json lists no inputs';
  const built = statSync(NODE_STAMP).mtimeMs;
  for (const input of info.inputs) {
    const p = join(root, input);
    if (!existsSync(p)) return `${input} was removed since the last build`;
  }
  const newest = newestOf([...info.inputs, ...NODE_EXTRA_SOURCES]);
  return newest.mtime > built ? `${relative(root, newest.path)} changed since the last build` : undefined;
}

/** Kept for callers of the UI-only check (bench, tests). */
export const staleReason = uiStaleReason;

/** Builds dist/ui when stale (or forced). Resolves true when it built. */
export async function buildUi({ force = false, verbose = false } = {}) {
  const reason = force ? '--force' : uiStaleReason();
  if (!reason) {
    if (verbose) console.error('dist/ui is up to date');
    return false;
  }
  if (verbose) console.error(`building dist/ui: ${reason}`);
  const { build } = await import('vite');
  rmSync(UI_STAMP, { force: true });
  // Vite's bundle-size advice (chunks over vite.config.ts's chunkSizeWarningLimit: the worker, the
  // lazily loaded xterm) is for whoever works on the bundle, not for each `npm start` (#18 item 8):
  // shown with --verbose only. Every other warning still prints.
  await build({
    configFile: join(root, 'vite.config.ts'),
    logLevel: verbose ? 'info' : 'warn',
    ...(verbose ? {} : { build: { chunkSizeWarningLimit: Number.MAX_SAFE_INTEGER } }),
  });
  const saved = await precompress(uiDir);
  if (verbose) console.error(`dist/ui: precompressed ${saved.files} files (brotli ${saved.raw} → ${saved.br} bytes)`);
  writeFileSync(UI_STAMP, JSON.stringify({ precompressed: saved }) + '\n');
  return true;
}

/** Builds dist/node when stale (or forced). Resolves true when it built. */
export async function buildNode({ force = false, verbose = false } = {}) {
  const reason = force ? '--force' : nodeStaleReason();
  if (!reason) {
    if (verbose) console.error('dist/node is up to date');
    return false;
  }
  if (verbose) console.error(`building dist/node: ${reason}`);
  const { build } = await import('esbuild');
  rmSync(nodeDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { wgweb: 'src/node/cli/main.ts' },
    outdir: nodeDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    sourcemap: 'linked',
    // The sources map back to src/ from dist/node/ (and from the installed package, to nothing).
    sourcesContent: false,
    chunkNames: 'chunks/[name]-[hash]',
    // The CLI's lazily loaded commands and the demo each stay in their own chunk.
    metafile: true,
    logLevel: verbose ? 'info' : 'warning',
    // The Lit UI's decorators are not on the Node side; keep class fields as tsc sees them.
    tsconfig: join(root, 'tsconfig.json'),
  });
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes('node_modules')).sort();
  writeFileSync(NODE_STAMP, JSON.stringify({ entry: 'src/node/cli/main.ts', inputs }, null, 1) + '\n');
  return true;
}

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/**
 * Writes `f.br` and `f.gz` beside every compressible file of `dir` (recursively) when that saves
 * bytes; the relay's static handler (src/node/relay/static-files.ts) serves them by Accept-Encoding.
 */
export async function precompress(dir) {
  const totals = { files: 0, raw: 0, br: 0 };
  const walk = async (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) {
        await walk(p);
        continue;
      }
      if (!COMPRESSIBLE.has(extname(entry.name).toLowerCase())) continue;
      const raw = await readFile(p);
      if (raw.length < MIN_COMPRESS_BYTES) continue;
      const [b, g] = await Promise.all([
        brotli(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
        gz(raw, { level: 9 }),
      ]);
      if (b.length < raw.length) await writeFile(`${p}.br`, b);
      if (g.length < raw.length) await writeFile(`${p}.gz`, g);
      totals.files++;
      totals.raw += raw.length;
      totals.br += Math.min(b.length, raw.length);
    }
  };
  await walk(dir);
  return totals;
}

/** Builds whatever is stale. Resolves with the parts it built. */
export async function buildAll({ force = false, verbose = false } = {}) {
  const built = [];
  if (await buildNode({ force, verbose })) built.push('dist/node');
  if (await buildUi({ force, verbose })) built.push('dist/ui');
  return built;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--force' && a !== '--verbose');
  if (unknown.length) {
    console.error(`build: unknown option ${unknown[0]} (use --force or --verbose)`);
    process.exit(2);
  }
  try {
    const built = await buildAll({ force: args.includes('--force'), verbose: args.includes('--verbose') });
    if (built.length && !args.includes('--verbose')) console.error(`built ${built.join(' and ')}`);
  } catch (e) {
    console.error(`build failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
