/**
 * `wgweb pubkey`: reads a private key on stdin and prints its public key, exactly like `wg pubkey`:
 * stdin must start with the 44-character base64 key; only whitespace (and NULs) may follow it.
 * The public key is X25519(private, 9) (WireGuard paper §5.4, DH-PUBKEY).
 */
import { fromBase64 } from '../../../shared/bytes.ts';
import { ErrorCode, WgwebError } from '../../../shared/errors.ts';
import { formatKey, KEY_LENGTH, publicKeyFromPrivate } from '../../../wireguard/noise-keys.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';

export const spec = {
  name: 'pubkey',
  summary: 'Read a private key on stdin and print its public key (like wg pubkey).',
  options: {},
  examples: ['wgweb genkey | tee private.key | wgweb pubkey > public.key', 'wgweb pubkey < private.key'],
} as const satisfies CommandSpec;

/** Base64 length of a 32-byte key. */
const KEY_TEXT_LENGTH = 44;
/** Plenty for a key and trailing whitespace; a larger stdin is certainly not a key. */
const MAX_STDIN = 64 * 1024;

/** Runs `wgweb pubkey [args]`. */
export async function run(args: string[], io: CliIo): Promise<number> {
  parseCommandArgs(spec, args); // no options besides --help (main prints it): rejects anything else
  let input: Uint8Array;
  try {
    input = await io.readStdin({ maxBytes: MAX_STDIN });
  } catch (e) {
    if (e instanceof WgwebError && e.code === ErrorCode.ABORTED) throw e;
    throw notAKey(e);
  }
  const privateKey = parsePrivateKeyInput(input);
  if (!privateKey) throw notAKey();
  await io.stdout.write(`${formatKey(publicKeyFromPrivate(privateKey))}\n`);
  return 0;
}

/**
 * wg's rule: the first 44 bytes are the key (canonical base64 ending in "="), and the rest may only
 * be whitespace (tab, LF, VT, FF, CR, space) or NUL. Leading whitespace is not skipped.
 */
export function parsePrivateKeyInput(input: Uint8Array): Uint8Array | undefined {
  if (input.length < KEY_TEXT_LENGTH) return undefined;
  for (let i = KEY_TEXT_LENGTH; i < input.length; i++) {
    const c = input[i];
    if (!(c === 0 || c === 32 || (c >= 9 && c <= 13))) return undefined;
  }
  let text = '';
  for (let i = 0; i < KEY_TEXT_LENGTH; i++) {
    if (input[i] >= 128) return undefined;
    text += String.fromCharCode(input[i]);
  }
  try {
    const key = fromBase64(text);
    return key.length === KEY_LENGTH ? key : undefined;
  } catch {
    return undefined;
  }
}

function notAKey(cause?: unknown): WgwebError {
  return new WgwebError(ErrorCode.KEY_INVALID, 'pubkey: stdin is not a 32-byte base64 private key', {}, cause ? { cause } : undefined);
}
