/**
 * `wgweb genpsk`: a new 32-byte preshared key in base64, byte-compatible with `wg genpsk`.
 * The PSK is mixed into the handshake (WireGuard paper §5.4.3, "psk2") for post-quantum resistance.
 */
import { formatKey, generatePresharedKey } from '../../../wireguard/noise-keys.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import { warnIfSecretGoesToSharedFile, type CliIo } from '../cli-io.ts';

export const spec = {
  name: 'genpsk',
  summary: 'Print a new preshared key (like wg genpsk).',
  description: 'The key is 32 random bytes in base64. Put the same key in the PresharedKey line of both\nsides\' [Peer] sections.',
  options: {},
  examples: ['umask 077; wgweb genpsk > peer.psk'],
} as const satisfies CommandSpec;

/** Runs `wgweb genpsk [args]`. */
export async function run(args: string[], io: CliIo): Promise<number> {
  parseCommandArgs(spec, args); // no options besides --help (main prints it): rejects anything else
  await warnIfSecretGoesToSharedFile(io);
  await io.stdout.write(`${formatKey(generatePresharedKey())}\n`);
  return 0;
}
