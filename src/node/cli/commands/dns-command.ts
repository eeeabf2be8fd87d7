/**
 * `wgweb dns`: resolves NAME with the DNS servers of the config (`DNS =`), queried through the
 * tunnel (UDP, TCP on truncation), and prints the addresses with TTL, server and time.
 */
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'dns',
  summary: 'Resolve a name with a DNS server inside a WireGuard tunnel.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default 30)' },
    type: { type: 'string', short: 't', valueName: 'A|AAAA', description: 'record type (default A)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  // TYPE after NAME, the way dig takes it (`wgweb dns wiki.corp AAAA`); --type says the same.
  positionals: [{ name: 'NAME' }, { name: 'TYPE', required: false }],
  examples: ['wgweb dns --config wg0.conf intranet.example', 'wgweb dns --config wg0.conf wiki.corp AAAA', 'wgweb dns --config wg0.conf --type AAAA wiki.corp'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const type = recordType(values.type, positionals[1]);
  return guardTunnelCommand('dns', values, io, 30, async (io, track) => {
  const session = await openTunnel('dns', values, io, track);
  try {
    const r = await session.dns(positionals[0], type, io.signal);
    if (values.json) {
      await io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    } else if (r.addresses.length === 0) {
      await io.stdout.write(`${r.name} has no ${type} record (answered by ${r.server} in ${r.elapsedMs.toFixed(1)} ms)\n`);
    } else {
      const lines = r.addresses.map((a) => `${r.name}\t${r.ttl}\tIN\t${type}\t${a}`);
      lines.push(`;; answered by ${r.server} in ${r.elapsedMs.toFixed(1)} ms`);
      await io.stdout.write(`${lines.join('\n')}\n`);
    }
    return r.addresses.length ? 0 : 1;
  } finally {
    await session.close();
  }
  });
}

/**
 * The record type from `--type` or the TYPE positional (either, case-insensitive; A when neither).
 * @throws {UsageError} for a type other than A/AAAA, or two different types.
 */
export function recordType(option: string | undefined, positional: string | undefined): 'A' | 'AAAA' {
  if (option !== undefined && positional !== undefined && option.toUpperCase() !== positional.toUpperCase()) {
    throw new UsageError('dns', `two record types given: --type ${option} and ${positional}; give one`);
  }
  const given = option ?? positional;
  const type = (given ?? 'A').toUpperCase();
  if (type !== 'A' && type !== 'AAAA') {
    throw new UsageError('dns', `the record type must be A or AAAA, not "${given}"`);
  }
  return type;
}
