/**
 * `wgweb dns NAME [TYPE]`: asks the DNS servers of the config (`DNS =`), or `--server`, through
 * the tunnel (UDP, TCP on truncation) for A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR (of an
 * address) or CAA records, and prints the answer and authority sections as zone-file lines with
 * the server, transport, CNAME chain and time, the way dig does. Exit 1 when no record came back.
 */
import { LOOKUP_TYPES, type LookupType } from '../../../protocols/dns/dns-presentation.ts';
import type { DnsQueryResult, DnsRecordLine } from '../../../session/session-types.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'dns',
  summary: 'Query a DNS server inside a WireGuard tunnel (A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR, CAA).',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default 30)' },
    type: { type: 'string', short: 't', valueName: 'TYPE', description: `record type: ${LOOKUP_TYPES.join(', ')} (default A)` },
    server: { type: 'string', short: 's', valueName: 'ADDRESS', description: "ask this server (an address inside the tunnel) instead of the config's DNS =" },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  // TYPE after NAME, the way dig takes it (`wgweb dns wiki.corp AAAA`); --type says the same.
  positionals: [{ name: 'NAME' }, { name: 'TYPE', required: false }],
  examples: [
    'wgweb dns --config wg0.conf intranet.example',
    'wgweb dns --config wg0.conf wiki.corp AAAA',
    'wgweb dns --config wg0.conf --type AAAA wiki.corp',
    'wgweb dns --config wg0.conf corp.example MX',
    'wgweb dns --config wg0.conf 10.0.0.2 PTR',
    'wgweb dns --config wg0.conf --server 10.0.0.53 _ldap._tcp.corp.example SRV',
  ],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const type = recordType(values.type, positionals[1]);
  return guardTunnelCommand('dns', values, io, 30, async (io, track) => {
  const session = await openTunnel('dns', values, io, track);
  try {
    const r = await session.dnsQuery(positionals[0], type, { server: values.server }, io.signal);
    const found = r.answers.some((a) => a.type === type);
    if (values.json) {
      await io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    } else {
      await io.stdout.write(formatDnsQuery(r));
      if (r.rcode === 'NXDOMAIN') await io.stderr.write(`wgweb: ${r.question} does not exist (NXDOMAIN from ${r.server})\n`);
      else if (!found) await io.stderr.write(`wgweb: ${r.question} has no ${type} record (answered by ${r.server})\n`);
    }
    return found ? 0 : 1;
  } finally {
    await session.close();
  }
  });
}

/** The result as dig-like text: answer lines, then the authority section, then one summary line. */
export function formatDnsQuery(r: DnsQueryResult): string {
  const row = (a: DnsRecordLine): string => `${a.name}\t${a.ttl}\tIN\t${a.type}\t${a.data}`;
  const lines = r.answers.map(row);
  if (r.authorities.length) lines.push(';; AUTHORITY SECTION:', ...r.authorities.map(row));
  if (r.additionals.length) lines.push(';; ADDITIONAL SECTION:', ...r.additionals.map(row));
  if (r.cnameChain.length) lines.push(`;; ${r.question} is an alias: ${[r.question, ...r.cnameChain].join(' -> ')}`);
  const times = r.queries.length > 1 ? ` (${r.queries.map((q) => `${q.name} ${q.elapsedMs.toFixed(1)} ms`).join(', ')})` : '';
  lines.push(`;; ${r.rcode} from ${r.server} over ${r.transport.toUpperCase()} in ${r.elapsedMs.toFixed(1)} ms${times}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The record type from `--type` or the TYPE positional (either, case-insensitive; A when neither).
 * @throws {UsageError} for a type wgweb does not ask for, or two different types.
 */
export function recordType(option: string | undefined, positional: string | undefined): LookupType {
  if (option !== undefined && positional !== undefined && option.toUpperCase() !== positional.toUpperCase()) {
    throw new UsageError('dns', `two record types given: --type ${option} and ${positional}; give one`);
  }
  const given = option ?? positional;
  const type = (given ?? 'A').toUpperCase();
  if (!(LOOKUP_TYPES as readonly string[]).includes(type)) {
    throw new UsageError('dns', `the record type must be one of ${LOOKUP_TYPES.join(', ')}, not "${given}"`);
  }
  return type as LookupType;
}
