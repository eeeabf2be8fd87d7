#!/usr/bin/env node
// Builds the browser app (Lit UI + tunnel worker) into dist/ui/ with Vite (vite.config.ts).
//
//   node scripts/build.mjs            build unless dist/ui is newer than every source (then silent)
//   node scripts/build.mjs --force    always build
//   node scripts/build.mjs --verbose  say why it builds or skips
//
// The freshness check lets `npm start` run this before every relay start at no cost.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'ui');
/** Everything the bundle is made from. */
const SOURCES = ['src', 'public', 'vite.config.ts', 'package.json', 'package-lock.json', 'scripts/build.mjs'];

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

/**
 * Why dist/ui must be rebuilt, or undefined when it is up to date.
 * dist/ui/index.html is written last by Vite, so its time marks a complete build.
 */
export function staleReason() {
  const stamp = join(outDir, 'index.html');
  if (!existsSync(stamp)) return 'dist/ui has no build yet';
  const built = statSync(stamp).mtimeMs;
  let newest = { mtime: 0, path: '' };
  for (const s of SOURCES) {
    const n = newestMtime(join(root, s));
    if (n.mtime > newest.mtime) newest = n;
  }
  return newest.mtime > built ? `${relative(root, newest.path)} changed since the last build` : undefined;
}

/** Builds when stale (or forced). Resolves true when it built. */
export async function buildUi({ force = false, verbose = false } = {}) {
  const reason = force ? '--force' : staleReason();
  if (!reason) {
    if (verbose) console.log('dist/ui is up to date');
    return false;
  }
  if (verbose) console.log(`building dist/ui: ${reason}`);
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.config.ts'), logLevel: verbose ? 'info' : 'warn' });
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--force' && a !== '--verbose');
  if (unknown.length) {
    console.error(`build: unknown option ${unknown[0]} (use --force or --verbose)`);
    process.exit(2);
  }
  try {
    const built = await buildUi({ force: args.includes('--force'), verbose: args.includes('--verbose') });
    if (built && !args.includes('--verbose')) console.log('built dist/ui');
  } catch (e) {
    console.error(`build failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
