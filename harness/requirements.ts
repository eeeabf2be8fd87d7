/**
 * Whether this machine can run the suites that need real parts: interop tests (wireguard-go in a
 * network namespace, the Linux TCP stack) and e2e tests (headless Chromium).
 *
 * Outside CI a missing part gives a reason string for `describe(..., { skip })`. With
 * `CI=true` the same condition throws instead, so CI can never pass by skipping them.
 *
 * ```ts
 * describe('wgweb against wireguard-go', { skip: interopSkipReason() }, () => { ... });
 * ```
 *
 * Every binary a suite asks for must be listed in `.ci/packages.txt` (the list `.ci/run` installs
 * from on a new machine) unless an Essential Debian package provides it; asking for any other
 * binary throws, so a suite cannot pass here and fail on a fresh CI machine.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The binaries every interop suite needs; `extraBinaries` adds test-specific ones (curl, ping). */
const INTEROP_BINARIES = ['wireguard-go', 'wg', 'ip', 'setpriv', 'sysctl'] as const;

/** Path to the Chromium binary the e2e suites drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** `.ci/packages.txt`, the one list of Debian packages CI installs (see its header). */
export const CI_PACKAGES_FILE = fileURLToPath(new URL('../.ci/packages.txt', import.meta.url));

let listed: ReadonlyMap<string, string> | undefined;

/**
 * Binaries every Debian machine has (from Essential: yes packages: dash, bash, coreutils,
 * util-linux, libc-bin) plus `node` and `npm` (the Node.js install CI runs on); suites may use them
 * without a `.ci/packages.txt` line.
 */
export const ESSENTIAL_BINARIES: ReadonlySet<string> = new Set(['sh', 'bash', 'cat', 'true', 'false', 'sleep', 'mktemp', 'rm', 'kill', 'env', 'getconf', 'node', 'npm']);

/**
 * The binaries `.ci/packages.txt` lists, each with the Debian package that provides it. Lines are
 * `binary package`; blank lines and `#` comments are skipped.
 * @param text the file's contents (tests pass their own); defaults to reading the file.
 * @throws {SyntaxError} for a line that is not exactly two fields.
 */
export function ciPackages(text?: string): ReadonlyMap<string, string> {
  if (text === undefined) return (listed ??= ciPackages(readFileSync(CI_PACKAGES_FILE, 'utf8')));
  const out = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 2) throw new SyntaxError(`.ci/packages.txt line ${i + 1}: expected "binary package", got "${trimmed}"`);
    out.set(fields[0], fields[1]);
  });
  return out;
}

/**
 * Throws unless CI would have `name`: listed in `.ci/packages.txt` or an {@link ESSENTIAL_BINARIES}.
 * @throws {TypeError} naming the line to add.
 */
export function assertCiProvides(name: string): void {
  if (ESSENTIAL_BINARIES.has(name) || ciPackages().has(name)) return;
  throw new TypeError(
    `"${name}" is not listed in .ci/packages.txt: add a line "${name} <debian package>" so .ci/run installs it on a new machine`,
  );
}

/**
 * Full path of `name` found on PATH (executable), or `undefined`.
 * @throws {TypeError} when `name` is not a binary CI installs ({@link assertCiProvides}).
 */
export function findBinary(name: string): string | undefined {
  assertCiProvides(name);
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function inCi(): boolean {
  return process.env.CI === 'true';
}

function decide(problems: string[], suite: string): string | undefined {
  if (problems.length === 0) return undefined;
  const reason = `${suite} tests need ${problems.join('; ')}`;
  if (inCi()) throw new Error(`${reason} (CI=true: these suites must run, not skip)`);
  return reason;
}

/**
 * `undefined` when interop tests can run here, else the reason to skip.
 * @param extraBinaries more binaries the calling suite needs, e.g. `['curl', 'ping']`.
 * @throws {Error} with the same reason when `CI=true`.
 * @throws {TypeError} for a binary `.ci/packages.txt` does not list (also outside CI).
 */
export function interopSkipReason(extraBinaries: readonly string[] = []): string | undefined {
  for (const b of [...INTEROP_BINARIES, ...extraBinaries]) assertCiProvides(b);
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`Linux (this is ${process.platform})`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) problems.push('root (network namespaces)');
  if (!existsSync('/dev/net/tun')) problems.push('/dev/net/tun');
  const missing = [...INTEROP_BINARIES, ...extraBinaries].filter((b) => !findBinary(b));
  if (missing.length) problems.push(`binaries on PATH: ${missing.join(', ')}`);
  if (problems.length === 0) {
    // Root inside a container without CAP_SYS_ADMIN still cannot create namespaces: ask `ip`.
    const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
    if (r.status !== 0) problems.push(`a working "ip netns" (${(r.stderr || r.error?.message || '').trim()})`);
  }
  return decide(problems, 'interop');
}

/**
 * `undefined` when every binary is on PATH, else the reason to skip (for suites that run real
 * servers on loopback, e.g. `openssl s_server`, without namespaces).
 * @throws {Error} with the same reason when `CI=true`.
 */
export function binariesSkipReason(binaries: readonly string[], suite: string): string | undefined {
  const missing = binaries.filter((b) => !findBinary(b));
  return decide(missing.length ? [`binaries on PATH: ${missing.join(', ')}`] : [], suite);
}

/**
 * `undefined` when e2e (headless Chromium) tests can run here, else the reason to skip.
 * @throws {Error} with the same reason when `CI=true`.
 */
export function browserSkipReason(): string | undefined {
  assertCiProvides('chromium');
  const problems: string[] = [];
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    problems.push(`${CHROMIUM_PATH}`);
  }
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    problems.push('the playwright-core package (npm ci)');
  }
  return decide(problems, 'e2e');
}
