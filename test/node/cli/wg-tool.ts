/**
 * The real `wg` tool (wireguard-tools) as a reference for the key commands' tests.
 * Outside CI a missing `wg` skips those tests with a reason; with CI=true it fails them instead.
 */
import { spawnSync } from 'node:child_process';
import { findBinary } from '../../../harness/requirements.ts';

/** `undefined` when `wg` is installed, else why the reference tests skip. */
export function wgSkipReason(): string | undefined {
  if (findBinary('wg')) return undefined;
  if (process.env.CI === 'true') throw new Error('the wg tool (wireguard-tools) is required when CI=true');
  return 'the wg tool (wireguard-tools) is not installed';
}

/** Runs `wg <args>` with `input` on stdin. */
export function wg(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('wg', args, { input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
