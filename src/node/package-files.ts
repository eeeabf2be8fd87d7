/**
 * Where wgweb's own files are at run time: the package root (the folder with wgweb's
 * package.json), its version, and the built UI (dist/ui/).
 *
 * The same code runs from three layouts, so paths cannot be fixed offsets from this file:
 *   a checkout, through tsx           <root>/src/node/package-files.ts
 *   a checkout or package, compiled   <root>/dist/node/chunks/<chunk>.js (scripts/build.mjs bundles)
 * Walking up from this module to the first package.json named "wgweb" finds <root> in each.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The absolute path of the wgweb package root (no trailing slash).
 * @param from the module URL to start from (tests pass their own); defaults to this module.
 * @throws {Error} when no package.json named "wgweb" encloses `from` (a broken install).
 */
export function packageRoot(from: string = import.meta.url): string {
  if (from === import.meta.url && cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && readPackageJson(candidate).name === 'wgweb') break;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named "wgweb" above ${fileURLToPath(from)}`);
    dir = parent;
  }
  if (from === import.meta.url) cachedRoot = dir;
  return dir;
}

/** wgweb's version from its package.json ("unknown" when the field is missing). */
export function packageVersion(): string {
  const version = readPackageJson(join(packageRoot(), 'package.json')).version;
  return typeof version === 'string' ? version : 'unknown';
}

/** The built UI: `<root>/dist/ui` (`npm run build`; shipped in the npm package). */
export function builtUiDir(): string {
  return join(packageRoot(), 'dist', 'ui');
}

function readPackageJson(path: string): { name?: unknown; version?: unknown } {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return {};
  }
}
