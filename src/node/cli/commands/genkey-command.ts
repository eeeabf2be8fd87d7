/**
 * `wgweb genkey`: a new Curve25519 private key in base64, byte-compatible with `wg genkey`
 * (32 random bytes from the CSPRNG, clamped per RFC 7748 §5, standard base64 and a newline).
 */
import { formatKey, generatePrivateKey } from '../../../wireguard/noise-keys.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import { warnIfSecretGoesToSharedFile, type CliIo } from '../cli-io.ts';

export const spec = {
  name: 'genkey',
  summary: 'Print a new private key (like wg genkey).',
  description: 'The key is 32 random bytes, clamped for X25519, in base64. Keep it secret; derive the\npublic key with wgweb pubkey.',
  options: {},
  examples: ['umask 077; wgweb genkey > private.key', 'wgweb genkey | tee private.key | wgweb pubkey > public.key'],
} as const satisfies CommandSpec;

/** Runs `wgweb genkey [args]`. */
export async function run(args: string[], io: CliIo): Promise<number> {
  parseCommandArgs(spec, args); // no options besides --help (main prints it): rejects anything else
  await warnIfSecretGoesToSharedFile(io);
  await io.stdout.write(`${formatKey(generatePrivateKey())}\n`);
  return 0;
}
