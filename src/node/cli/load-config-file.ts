/**
 * Reads a wg-quick `.conf` for the network commands (`wgweb ping -c wg0.conf ...`).
 *
 *   path ─▶ open + fstat (directory? too big?) ─▶ read ≤ 1 MiB ─▶ UTF-8 ─▶ parseWgQuickConfig
 *        ─▶ WgQuickConfig; warnings to onWarning; failures as WgwebError naming the file
 *
 * Read failures are `CONFIG_UNREADABLE` ("cannot read config wg0.conf: no such file"); parse
 * failures are `CONFIG_INVALID` with the file name in front ("wg0.conf: line 7: ...").
 */
import { open } from 'node:fs/promises';
import { publicKeyFromPrivate } from '../../wireguard/noise-keys.ts';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import { checkWgQuickConfig, describeConfigErrors, type WgQuickConfig } from '../../shared/wg-quick-config.ts';

/** wg-quick files are a few hundred bytes; anything this big is not one (or is /dev/zero). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadConfigOptions {
  /**
   * Receives each warning as one line, prefixed with the path ("wg0.conf: line 9: PostUp is run by
   * wg-quick on Linux; wgweb ignores it"); also told when the file is readable by other users, as
   * wg-quick warns. Warnings are dropped when absent.
   */
  onWarning?: (message: string) => void;
  /** Passed to the parser: `listener` for `wgweb peer`, whose peers dial in (no Endpoint needed). */
  role?: 'client' | 'listener';
}

/**
 * Reads and parses the wg-quick config at `path`.
 * @throws {WgwebError} `CONFIG_UNREADABLE` when the file cannot be read (missing, a directory, no
 *   permission, larger than {@link MAX_CONFIG_BYTES}); `CONFIG_INVALID` when it does not parse,
 *   with `detail: { path, line, errors }`.
 * @throws {TypeError} when `path` is not a non-empty string.
 */
export async function loadConfigFile(path: string, options: LoadConfigOptions = {}): Promise<WgQuickConfig> {
  if (typeof path !== 'string' || path === '') throw new TypeError('config path must be a non-empty string');
  const { text, worldAccessible } = await readConfigText(path);
  const { config, errors, warnings } = checkWgQuickConfig(text, { publicKeyFromPrivate, role: options.role ?? 'client' });
  if (!config) {
    // Every problem at once, worded as the UI shows them (issue #18 item 6).
    throw new WgwebError(ErrorCode.CONFIG_INVALID, `${path}: ${describeConfigErrors(errors)}`, { path, line: errors[0].line, errors });
  }
  if (options.onWarning) {
    if (worldAccessible) options.onWarning(`${path} is readable by other users and holds a private key; run: chmod 600 ${path}`);
    for (const w of warnings) options.onWarning(`${path}: ${w.message}`);
  }
  return config;
}

async function readConfigText(path: string): Promise<{ text: string; worldAccessible: boolean }> {
  const unreadable = (reason: string, cause?: unknown) =>
    new WgwebError(ErrorCode.CONFIG_UNREADABLE, `cannot read config ${path}: ${reason}`, { path }, cause ? { cause } : undefined);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw unreadable(describeFsError(e), e);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw unreadable('it is a directory');
    if (st.isFile() && st.size > MAX_CONFIG_BYTES) throw unreadable(`it is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, so not a wg-quick .conf file`);
    // Read in a loop rather than readFile: pipes and /dev/stdin have no size, /dev/zero no end.
    const buf = new Uint8Array(MAX_CONFIG_BYTES + 1);
    let used = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, used, buf.length - used, null);
      if (bytesRead === 0) break;
      used += bytesRead;
      if (used > MAX_CONFIG_BYTES) throw unreadable(`it is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, so not a wg-quick .conf file`);
    }
    const text = new TextDecoder('utf-8').decode(buf.subarray(0, used));
    return { text, worldAccessible: st.isFile() && (st.mode & 0o007) !== 0 };
  } catch (e) {
    if (e instanceof WgwebError) throw e;
    throw unreadable(describeFsError(e), e);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return err?.message ?? String(e);
  }
}
