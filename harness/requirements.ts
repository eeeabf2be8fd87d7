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
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** The binaries every interop suite needs; `extraBinaries` adds test-specific ones (curl, ping). */
const INTEROP_BINARIES = ['wireguard-go', 'wg', 'ip', 'setpriv'] as const;

/** Path to the Chromium binary the e2e suites drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Full path of `name` found on PATH (executable), or `undefined`. */
export function findBinary(name: string): string | undefined {
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
 */
export function interopSkipReason(extraBinaries: readonly string[] = []): string | undefined {
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
